"""``rjflow report``: JSON, CSV and an HTML page with inline SVG plots, opened in headless
Chromium (issue 13).  The screenshot is kept in out/report-page.png for a person to look at.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it); no tool here downloads a
browser.  Under CI=true a missing Chromium fails the test, elsewhere it is skipped.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from rjflow import cli
from rjflow.reporting import Period, report
from rjflow.serialization import dumps
from tests.browser import CHROMIUM_ARGS, chromium
from tests.synthetic import synthetic_caseload

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "out" / "report-page.png"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("report")
    cases = list(synthetic_caseload(400, seed=11))
    source = folder / "caseload.jsonl"
    source.write_text("".join(dumps(c) + "\n" for c in cases), encoding="utf-8")
    args = ["report", str(source), "--from", "2026-01-01", "--to", "2026-12-31"]
    result = CliRunner().invoke(cli.main, [*args, "--out", str(folder / "out")])
    assert result.exit_code == 0, result.output
    return folder / "out", cases


def test_the_files_hold_the_library_s_numbers(written: tuple[Path, list]) -> None:  # type: ignore[type-arg]
    """The command writes what ``rjflow.reporting.report`` computes for the same cases."""
    folder, cases = written
    from datetime import date  # noqa: PLC0415

    expected = report(cases, Period.days(date(2026, 1, 1), date(2026, 12, 31)))
    assert json.loads((folder / "report.json").read_text()) == json.loads(expected.to_json())
    assert (folder / "report.csv").read_text() == expected.to_csv()


def test_the_page_is_self_contained(written: tuple[Path, list]) -> None:  # type: ignore[type-arg]
    """Four inline SVG plots; no script, no stylesheet or image fetched from anywhere."""
    page = (written[0] / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 4
    for plot in ("funnel", "closures", "completion", "open"):
        assert f'id="plot-{plot}"' in page
    lowered = page.lower()
    assert "<script" not in lowered and "<link" not in lowered and "<img" not in lowered
    # references stay inside the page: SVG's own clip paths and glyphs (#id), nothing else
    assert re.findall(r'(?:src|href)\s*=\s*"(?!#)', lowered) == []
    assert re.findall(r"url\((?!#)", lowered) == []


def test_an_unusable_output_folder_exits_3(tmp_path: Path) -> None:
    source = tmp_path / "one.jsonl"
    source.write_text("", encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    args = ["report", str(source), "--from", "2026-01-01", "--to", "2026-12-31"]
    result = CliRunner().invoke(cli.main, [*args, "--out", str(blocker)])
    assert result.exit_code == cli.EXIT_UNAVAILABLE
    backwards = CliRunner().invoke(
        cli.main,
        ["report", str(source), "--from", "2026-12-31", "--to", "2026-01-01", "--out", "x"],
    )
    assert backwards.exit_code == cli.EXIT_USAGE


def test_the_page_renders_in_headless_chromium(
    written: tuple[Path, list],  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    """Chromium draws the page offline; the screenshot shows the plots (their colours)."""
    browser = chromium()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    page = (written[0] / "report.html").resolve()
    subprocess.run(
        [
            browser,
            *CHROMIUM_ARGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={SCREENSHOT}",
            "--window-size=1200,2400",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    import matplotlib.image  # noqa: PLC0415 - the reports extra, installed for the tests

    pixels = matplotlib.image.imread(SCREENSHOT)
    assert pixels.shape[:2] == (2400, 1200)
    rgb = {
        tuple(round(float(c) * 255) for c in p[:3])
        for p in pixels[::4, ::4].reshape(-1, pixels.shape[2])
    }
    # the funnel's blue, the closures' purple, the completion histogram's orange, the stages' green
    for colour in ((0x2A, 0x6F, 0x97), (0x8C, 0x5E, 0x9E), (0xC7, 0x6B, 0x29), (0x3F, 0x8F, 0x5B)):
        assert colour in rgb, colour
