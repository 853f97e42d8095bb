"""A small caseworker web app on rjflow's public API (Flask: ``pip install rjflow[app]``).

It lists the cases in an SQLite store with their stage, shows a case page (its summary, its
workflow diagram, every action possible at its stage as a form — allowed, or greyed out with
the reasons — and its history trail), fires actions from those forms and saves them with
optimistic concurrency, so that a change made in another tab is reported, never overwritten.

Nothing here lists an action's fields, converts its values or knows a rule: the forms come
from :mod:`rjflow.forms`, the form's answers go to ``Case.blockers``/``Case.fire`` as the JSON
they are, and the reasons are rjflow's messages.  Start it with ``make app``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask, redirect, render_template_string, request, url_for
from werkzeug.wrappers import Response

from rjflow import (
    ActionRefused,
    Case,
    CaseExists,
    CaseNotFound,
    ConcurrencyConflict,
    Facilitator,
    InvalidInput,
    Offence,
    OffenceCategory,
    PractitionerLevel,
    Staff,
    StaffRole,
    Supporter,
    UnknownAction,
    action_name,
)
from rjflow.demo import build_demo_case
from rjflow.diagrams import diagram_model, to_mermaid
from rjflow.forms import FormField, form
from rjflow.store import SQLiteStore

__all__ = ["create_app", "form_values", "seed"]

Clock = Callable[[], datetime]


def _now() -> datetime:
    # The application owns the clock; rjflow never reads it.
    return datetime.now(UTC)


def form_values(fields: tuple[FormField, ...], posted: Mapping[str, str]) -> dict[str, Any]:
    """The JSON values of an action's input from an HTML form's answers, by each field's
    ``kind`` (from :mod:`rjflow.forms`); a duration is asked for in minutes.  An empty answer
    to an optional field is left out, so the input's default applies.  Values are passed on
    as typed: rjflow judges them and names the field in its message when one is wrong."""
    values: dict[str, Any] = {}
    for field in fields:
        raw = posted.get(field.name, "").strip()
        if not raw:
            continue
        if field.kind == "duration" and raw.isdigit():
            # The page asks for minutes (a labelled box); rjflow takes ISO 8601 text.
            values[field.name] = f"PT{int(raw)}M"
        elif field.kind == "yes_no":
            values[field.name] = raw == "true"
        elif field.kind == "whole_number" or field.json_type == "integer":
            values[field.name] = int(raw) if raw.lstrip("-").isdigit() else raw
        elif field.kind == "ids":
            values[field.name] = [part.strip() for part in raw.split(",") if part.strip()]
        elif field.kind in ("party", "list", "object"):
            try:
                values[field.name] = json.loads(raw)
            except ValueError:
                values[field.name] = raw  # rjflow refuses it, naming the field
        else:
            values[field.name] = raw
    return values


def seed(path: str, *, now: datetime | None = None) -> list[str]:
    """Put three example cases in the store at ``path`` when it is empty (a new referral, a
    case in its introduction and the completed demo case); the ids added."""
    start = now or datetime(2026, 3, 2, 9, tzinfo=UTC)
    with SQLiteStore(path) as store:
        if store.case_ids():
            return []
        referred = Case.open(
            "RJ-2026-0002",
            offence=Offence(OffenceCategory.THEFT),
            offender="O2",
            victims=["V2"],
            facilitators=[Facilitator("F1", PractitionerLevel.ADVANCED)],
            lead_facilitator="F1",
            staff=[Staff("M1", StaffRole.MANAGER)],
            at=start,
            actor="F1",
        )
        started = Case.open(
            "RJ-2026-0003",
            offence=Offence(OffenceCategory.CRIMINAL_DAMAGE),
            offender="O3",
            victims=["V3"],
            supporters=[Supporter("S3", supports="V3")],
            facilitators=[Facilitator("F1", PractitionerLevel.ADVANCED)],
            lead_facilitator="F1",
            staff=[Staff("M1", StaffRole.MANAGER)],
            sentenced_on=date(2026, 2, 20),
            at=start,
            actor="F1",
        )
        started.start_introduction(at=start + timedelta(hours=1), actor="F1")
        cases = [build_demo_case(start=start), referred, started]
        for case in cases:
            try:
                store.save(case, expected_version=0)
            except CaseExists:  # another process seeded it first
                continue
        return [c.case_id for c in cases]


_BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 70rem; }
fieldset { margin: 0 0 1rem; border: 1px solid #888; }
fieldset.blocked { color: #777; border-color: #ccc; background: #f6f6f6; }
.reasons { color: #8a1c1c; } .message { padding: .5rem; border: 2px solid #e65100; }
.ok { padding: .5rem; border: 2px solid #2e7d32; } .help { font-size: .85em; color: #555; }
label { display: block; margin: .3rem 0; } pre { background: #f4f4f4; padding: .5rem; }
</style></head><body>
<p><a href="{{ url_for('case_list') }}">All cases</a></p>
{% block body %}{% endblock %}
</body></html>"""

_LIST = _BASE.replace(
    "{% block body %}{% endblock %}",
    """<h1>Cases</h1>
<table><tr><th>Case</th><th>Stage</th><th>Version</th><th>Last change</th></tr>
{% for c in cases %}<tr><td><a href="{{ url_for('case_page', case_id=c.case_id) }}">
{{ c.case_id }}</a></td><td>{{ c.stage }}</td><td>{{ c.version }}</td>
<td>{{ c.updated_at }}</td></tr>{% endfor %}</table>""",
)

_CASE = _BASE.replace(
    "{% block body %}{% endblock %}",
    """<h1>Case {{ summary.case_id }}: {{ summary.stage }}</h1>
{% if message %}<p class="message" role="alert">{{ message }}</p>{% endif %}
{% if done %}<p class="ok" role="status">{{ done }}</p>{% endif %}
{% if reasons %}<ul class="reasons" role="alert">{% for r in reasons %}<li>{{ r }}</li>
{% endfor %}</ul>{% endif %}
<p>Version {{ summary.version }}; {{ "open" if summary.is_open else "ended" }};
policy {{ summary.policy }}.</p>
<h2>Workflow</h2>
<pre class="mermaid">{{ diagram }}</pre>
<h2>What may happen next</h2>
{% for item in actions %}
<form method="post" action="{{ url_for('take_action', case_id=summary.case_id,
  action=item.option.action) }}">
<fieldset class="{{ 'allowed' if item.option.allowed else 'blocked' }}"
  {{ '' if item.option.allowed else 'disabled' }} id="{{ item.option.action }}">
<legend><strong>{{ item.form.action.replace('_', ' ') }}</strong>: {{ item.form.summary }}</legend>
{% for b in item.option.blockers %}<p class="reasons">Not now: {{ b.message }}</p>{% endfor %}
{% if item.option.allowed and item.option.depends_on %}<p class="help">Checked when you
submit: {{ item.option.depends_on | join(', ') }}.</p>{% endif %}
<input type="hidden" name="version" value="{{ summary.version }}">
<label>Acting as <input name="actor" value="{{ actor }}" required></label>
{% for f in item.form.fields %}<label>{{ f.label }}{{ '' if f.required else ' (optional)' }}
{% if f.kind == 'choice' %}<select name="{{ f.name }}">{% if not f.required %}<option value="">
</option>{% endif %}{% for c in f.choices %}<option value="{{ c.value }}"
{{ 'selected' if c.value == f.default else '' }}>{{ c.label }}</option>{% endfor %}</select>
{% elif f.kind == 'yes_no' %}<select name="{{ f.name }}"><option value="true"
{{ 'selected' if f.default == true else '' }}>yes</option><option value="false"
{{ 'selected' if f.default == false else '' }}>no</option></select>
{% elif f.kind == 'date' %}<input type="date" name="{{ f.name }}">
{% elif f.kind == 'duration' %}<input type="number" name="{{ f.name }}" min="0"
 {% if f.limits.get('maximum_seconds') %}max="{{ f.limits.maximum_seconds // 60 }}"{% endif %}>
 minutes
{% elif f.kind == 'whole_number' %}<input type="number" name="{{ f.name }}"
 min="{{ f.limits.get('minimum', '') }}" max="{{ f.limits.get('maximum', '') }}">
{% elif f.kind in ('text', 'party', 'list', 'object') %}<textarea name="{{ f.name }}"
 maxlength="{{ f.limits.get('max_length', '') }}"></textarea>
{% else %}<input name="{{ f.name }}" placeholder="{{ placeholders.get(f.kind, '') }}">
{% endif %}<span class="help">{{ f.help }}{% if f.limits.get('maximum') and
f.kind == 'duration' %} At most {{ f.limits.maximum }}.{% endif %}</span></label>
{% endfor %}
<button type="submit">{{ item.form.action.replace('_', ' ') }}</button>
</fieldset></form>
{% else %}<p>This case accepts no further actions.</p>{% endfor %}
<h2>History</h2>
<ol>{% for e in history %}<li>{{ e.at }} — {{ e.action.replace('_', ' ') }} by {{ e.actor }}
{% if e.to_state %} ({{ e.from_state or 'new' }} → {{ e.to_state }}){% endif %}</li>
{% endfor %}</ol>""",
)

_PLACEHOLDERS = {
    "id": "an id, e.g. V1",
    "ids": "ids, separated by commas",
}


def create_app(path: str, *, clock: Clock = _now, actor: str = "F1") -> Flask:
    """The app over the SQLite store at ``path``.  ``clock`` gives the time an action is
    recorded at (the application's clock); ``actor`` is the id the forms suggest."""
    app = Flask(__name__)

    def store() -> SQLiteStore:
        return SQLiteStore(path)

    def page(case: Case, status: int = 200, **notes: Any) -> tuple[str, int]:
        actions = [
            {"option": option, "form": form(option.action, case.policy)}
            for option in case.options(at=max(clock(), case.record.updated_at))
        ]
        html = render_template_string(
            _CASE,
            title=f"Case {case.case_id}",
            summary=case.to_json_dict(),
            diagram=to_mermaid(diagram_model(case.policy, case)),
            actions=actions,
            history=[e.to_json_dict() for e in case.history],
            actor=actor,
            placeholders=_PLACEHOLDERS,
            message=notes.get("message"),
            reasons=notes.get("reasons", ()),
            done=notes.get("done"),
        )
        return html, status

    @app.get("/")
    def case_list() -> str:
        with store() as s:
            cases = [s.load(case_id).to_json_dict() for case_id in s.case_ids()]
        return render_template_string(_LIST, title="Cases", cases=cases)

    @app.get("/cases/<case_id>")
    def case_page(case_id: str) -> tuple[str, int]:
        try:
            with store() as s:
                case = s.load(case_id)
        except (CaseNotFound, InvalidInput):
            return "No such case.", 404
        return page(case, done=request.args.get("done"))

    @app.post("/cases/<case_id>/actions/<action>")
    def take_action(case_id: str, action: str) -> tuple[str, int] | Response:
        try:
            name = action_name(action)
            with store() as s:
                case = s.load(case_id)
        except (CaseNotFound, InvalidInput, UnknownAction):
            return "No such case or action.", 404
        posted = request.form
        seen = posted.get("version", "")
        if not seen.isdigit() or int(seen) != case.version:
            # The page was made from an older version: another tab or a colleague changed
            # the case since.  Nothing is done; the page shows the case as it is now.
            conflict = ConcurrencyConflict(case_id, int(seen or 0), case.version)
            return page(case, 409, message=str(conflict))
        values = form_values(form(name, case.policy).fields, posted)
        at = max(clock(), case.record.updated_at)
        who = posted.get("actor", "").strip()
        try:
            problems = case.blockers(name, at=at, actor=who, **values)
            if problems:
                return page(case, 422, reasons=[b.message for b in problems])
            case.fire(name, at=at, actor=who, **values)
            with store() as s:
                s.save(case, expected_version=int(seen))
        except InvalidInput as invalid:
            return page(case, 400, message=str(invalid))
        except ActionRefused as refused:
            return page(case, 422, reasons=[b.message for b in refused.blockers])
        except ConcurrencyConflict as conflict:
            with store() as s:
                case = s.load(case_id)
            return page(case, 409, message=str(conflict))
        done = f"Recorded: {name.replace('_', ' ')}."
        return redirect(url_for("case_page", case_id=case_id, done=done), code=303)

    return app
