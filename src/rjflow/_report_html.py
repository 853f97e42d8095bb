"""The caseload report as one HTML page, with its plots drawn by matplotlib as inline SVG.

matplotlib is an optional extra (``rjflow[reports]``), imported only here and only when a
page is drawn, with its non-interactive Agg backend: no window, no network, no fonts fetched.
Each plot is an SVG element inside the page, so the page opens offline and holds no script.
Every text in the page is escaped; it holds numbers, rjflow's own labels and the period.
"""

from __future__ import annotations

import html
import io
from typing import Any

from rjflow.reporting import COUNTS, Report

__all__ = ["FUNNEL", "PlotsUnavailable", "render_html", "svg_plots"]

#: The funnel's steps, in order: (count, label).
FUNNEL: tuple[tuple[str, str], ...] = (
    ("referred", "Referred"),
    ("victim_contacted", "Victim contacted"),
    ("information_given", "Information given"),
    ("consented_face_to_face", "Consented to meet"),
    ("direct_rj", "Conference held"),
    ("indirect_rj", "Indirect RJ held"),
    ("agreement_made", "Agreement made"),
    ("completed", "Completed"),
)


class PlotsUnavailable(ImportError):
    """matplotlib is not installed: install ``rjflow[reports]`` for the plots."""


def _pyplot() -> Any:
    try:
        import matplotlib  # noqa: PLC0415 - optional, imported only to draw

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        raise PlotsUnavailable(
            "The report's plots need matplotlib: install rjflow[reports]."
        ) from None
    return plt


def _svg(plt: Any, fig: Any) -> str:
    buffer = io.StringIO()
    with plt.rc_context({"svg.hashsalt": "rjflow", "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: inline in HTML


def _barh(plt: Any, labels: list[str], values: list[int], title: str, colour: str) -> str:
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * max(len(labels), 3) + 1.0))
    positions = list(range(len(labels)))
    ax.barh(positions, values, color=colour)
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_xlabel("cases")
    top = max(values, default=0)
    for y, v in zip(positions, values, strict=True):
        ax.text(v + top * 0.01, y, str(v), va="center", fontsize=9)
    ax.set_xlim(0, max(top * 1.12, 1))
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(plt, fig)


def svg_plots(r: Report) -> dict[str, str]:
    """The four plots as SVG text: ``funnel``, ``closures``, ``completion``, ``open``.
    Raises :class:`PlotsUnavailable` without matplotlib."""
    plt = _pyplot()
    plots = {
        "funnel": _barh(
            plt,
            [label for _, label in FUNNEL],
            [r.counts[key] for key, _ in FUNNEL],
            "The funnel: cases reaching each step in the period",
            "#2a6f97",
        ),
        "closures": _barh(
            plt,
            [k.replace("_", " ") for k in r.closed_by_reason],
            list(r.closed_by_reason.values()),
            "Cases ended in the period, by reason",
            "#8c5e9e",
        ),
        "open": _barh(
            plt,
            [k.replace("_", " ") for k in r.open_by_stage],
            list(r.open_by_stage.values()),
            "Open cases at the end of the period, by stage",
            "#3f8f5b",
        ),
    }
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    values = r.days_to_completion.values
    if values:
        ax.hist(values, bins=min(30, max(5, len(values) // 10)), color="#c76b29")
        for x, name in ((r.days_to_completion.median, "median"), (r.days_to_completion.p90, "90%")):
            if x is not None:
                ax.axvline(x, color="#333333", linestyle="--", linewidth=1)
                ax.text(x, ax.get_ylim()[1] * 0.95, f" {name} {x:.0f} d", fontsize=9)
    else:
        ax.text(0.5, 0.5, "No case completed in the period", ha="center", transform=ax.transAxes)
    ax.set_title("Time from referral to completion", loc="left", fontsize=12)
    ax.set_xlabel("days")
    ax.set_ylabel("cases")
    ax.spines[["top", "right"]].set_visible(False)
    plots["completion"] = _svg(plt, fig)
    return plots


def _row(cells: list[str], head: bool = False) -> str:
    tag = "th" if head else "td"
    return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render_html(r: Report, plots: dict[str, str] | None) -> str:
    """The page: the period, the counts with their definitions, the times, satisfaction,
    sessions, and the plots (or a note that they need ``rjflow[reports]``)."""
    start = r.period.start.strftime("%Y-%m-%d %H:%M UTC")
    end = r.period.end.strftime("%Y-%m-%d %H:%M UTC")
    counts = "".join(_row([k, str(v), COUNTS[k]]) for k, v in r.counts.items())
    left_out = (
        f'\n<p class="note" role="alert">{r.left_out} case(s) of the caseload could not be read '
        "and are in none of these numbers: the command that made this report named them. "
        "Mend or restore them and make the report again.</p>"
        if r.left_out
        else ""
    )
    times = "".join(
        _row([name, str(d.count), _fmt(d.median), _fmt(d.p90)])
        for name, d in (
            ("Referral to first contact with a victim", r.days_to_first_contact),
            ("Referral to completion", r.days_to_completion),
        )
    )
    s, u = r.satisfaction, r.sessions
    scores = ", ".join(f"{k}: {v}" for k, v in s.by_score)
    if plots is None:
        figures = (
            '<p class="note">The plots need matplotlib: install <code>rjflow[reports]</code> '
            "and run the report again.</p>"
        )
    else:
        figures = "".join(
            f'<figure id="plot-{name}">{plots[name]}</figure>'
            for name in ("funnel", "closures", "completion", "open")
        )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Restorative justice caseload report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #1d1d1d;
  padding: 0 1rem; }}
h1 {{ font-size: 1.6rem; margin-bottom: 0.2rem; }}
.period {{ color: #555; margin-top: 0; }}
table {{ border-collapse: collapse; margin: 0.6rem 0 1.4rem; font-size: 0.9rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.25rem 0.7rem; text-align: left; }}
td:nth-child(2) {{ text-align: right; font-variant-numeric: tabular-nums; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(30rem, 1fr)); gap: 1rem; }}
figure {{ margin: 0; }} figure svg {{ max-width: 100%; height: auto; }}
.note {{ background: #fff4d6; padding: 0.6rem; }}
</style>
</head>
<body>
<h1>Restorative justice caseload report</h1>
<p class="period">From {html.escape(start)} up to (not including) {html.escape(end)};
{r.cases} case(s) read. Every count is defined in docs/reporting.md.</p>{left_out}
<div class="grid">{figures}</div>
<h2>Counts</h2>
<table>{_row(["count", "value", "what it counts"], True)}{counts}</table>
<h2>Time taken (days)</h2>
<table>{_row(["", "cases", "median", "90th percentile"], True)}{times}</table>
<h2>Satisfaction and sessions</h2>
<table>
{_row(["feedback responses", str(s.responses)])}
{_row(["mean satisfaction (1 to 5)", _fmt(s.mean)])}
{_row(["responses per score", scores])}
{_row(["said things changed for the better", str(s.things_changed)])}
{_row(["cases ended in the period", str(u.cases)])}
{_row(["sessions attended by those cases", str(u.attended)])}
{_row(["sessions attended per case (mean)", _fmt(u.mean)])}
{_row(["sessions missed by those cases", str(u.missed)])}
</table>
</body>
</html>
"""
