"""A small caseworker web app on rjflow's public API (Flask: ``pip install rjflow[app]``).

It lists the cases in an SQLite store with their stage, shows a case page (its summary, its
workflow diagram, every action possible at its stage as a form — allowed, or greyed out with
the reasons — and its history trail), fires actions from those forms and saves them with
optimistic concurrency, so that a change made in another tab is reported, never overwritten.

Nothing here lists an action's fields, converts its values or knows a rule: the forms come
from :mod:`rjflow.forms`, the form's answers go to ``Case.blockers``/``Case.fire`` as JSON
(:func:`form_values` only turns HTML's text into the JSON types the form's fields name), the
reasons are rjflow's messages and the diagram is :func:`rjflow.diagrams.render_svg`'s.
Start it with ``make app``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask, redirect, render_template_string, request, url_for
from markupsafe import Markup
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
    State,
    Supporter,
    UnknownAction,
    action_name,
)
from rjflow.demo import build_demo_case
from rjflow.diagrams import diagram_model, render_svg
from rjflow.forms import ID_PATTERN, FormField, form
from rjflow.store import SQLiteStore

__all__ = ["create_app", "form_values", "seed"]

Clock = Callable[[], datetime]


def _now() -> datetime:
    # The application owns the clock; rjflow never reads it.
    return datetime.now(UTC)


#: How many rows a form offers for a list of objects (an agreement's actions); empty rows are
#: left out.
LIST_ROWS = 3

Answers = Mapping[str, list[str]]


def form_values(fields: tuple[FormField, ...], posted: Answers, prefix: str = "") -> dict[str, Any]:
    """The JSON values of an action's input from an HTML form's answers (each name's list of
    values, as ``request.form.to_dict(flat=False)`` gives them), by each field's ``kind`` and
    ``json_type`` from :mod:`rjflow.forms`: HTML sends only text, rjflow takes JSON.  A
    duration is asked for in minutes and sent as ISO 8601 text; a party's fields are named
    ``<field>.<role>.<name>`` beside ``<field>.role``, a list's rows ``<field>.<row>.<name>``.
    An empty answer to an optional field is left out, so the input's default applies; an
    empty answer to a required one, or a duration that is no whole number of minutes, raises
    :class:`UnreadableAnswer` (the page's words for what to type).  Other values are passed
    on as typed: rjflow judges them and names the field when one is wrong."""
    values: dict[str, Any] = {}
    for field in fields:
        key = prefix + field.name
        answers = [a.strip() for a in posted.get(key, ()) if a.strip()]
        raw = answers[0] if answers else ""
        if field.kind == "party":
            role = (posted.get(key + ".role") or [""])[0]
            if role in field.variants:
                values[field.name] = {
                    "role": role,
                    **form_values(field.variants[role], posted, f"{key}.{role}."),
                }
        elif field.kind == "list":
            rows = [form_values(field.fields, posted, f"{key}.{n}.") for n in range(LIST_ROWS)]
            if any(rows):
                values[field.name] = [row for row in rows if row]
        elif field.kind == "choices":
            if answers:
                values[field.name] = [_typed(field, a) for a in answers]
        elif not raw:
            if field.required and not prefix:
                raise UnreadableAnswer(field)
        elif field.kind == "duration":
            values[field.name] = _minutes(field, raw)
        elif field.kind == "ids":
            values[field.name] = [part.strip() for part in raw.split(",") if part.strip()]
        else:
            values[field.name] = _typed(field, raw)
    return values


class UnreadableAnswer(InvalidInput):
    """A form's answer this page cannot send: a required answer left empty, or a duration
    that is no whole number of minutes.  The message says what to type, in the page's
    words, never the answer."""

    def __init__(self, field: FormField) -> None:
        label = field.label[:1].upper() + field.label[1:]
        if field.kind == "duration":
            most = field.limits.get("maximum_seconds")
            upto = f" from 0 to {most // 60}" if isinstance(most, int) else ""
            super().__init__(f"{label}: give a whole number of minutes{upto}.")
        else:
            super().__init__(f"{label}: this answer is needed.")


def _actor(raw: str) -> str:
    """The "acting as" answer: a staff id, in the page's words when it is none."""
    who = raw.strip()
    if not ID_PATTERN.fullmatch(who):
        raise InvalidInput("Acting as: give your staff id, such as F1 (never a name).")
    return who


def _minutes(field: FormField, raw: str) -> str:
    """The page asks for a duration in minutes (a labelled box); rjflow takes ISO 8601 text.
    An answer that is no whole number of minutes is this page's to explain, in its words."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:  # not "²", not "٣٠"
        raise UnreadableAnswer(field)
    return f"PT{int(raw)}M"


def _typed(field: FormField, raw: str) -> Any:
    """One answer as the JSON type the field takes (an integer choice, a yes/no); anything
    else as the text it is, for rjflow to judge."""
    numbers = field.json_type == "integer" or any(isinstance(c.value, int) for c in field.choices)
    if numbers and raw.lstrip("-").isdigit():
        return int(raw)
    if field.json_type == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


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
body { font-family: system-ui, sans-serif; margin: 1.5rem 2rem; color: #1c2529; }
h1 { margin: .3rem 0; } h2 { margin: 1.2rem 0 .5rem; } h3 { margin: 1rem 0 .4rem; }
.facts { color: #455a64; margin: 0 0 .8rem; }
.columns { display: flex; gap: 2rem; align-items: flex-start; }
.actions { flex: 1 1 34rem; min-width: 24rem; } .side { flex: 1 1 38rem; min-width: 24rem; }
.diagram { margin: 0; } .diagram svg { max-width: 100%; height: auto; }
details, .blocked { border: 1px solid #90a4ae; border-radius: 4px; margin: 0 0 .5rem;
  padding: .4rem .7rem; }
details[open] { border-color: #1565c0; border-width: 2px; }
summary { cursor: pointer; } summary .what { color: #455a64; }
.moves { font-size: .85em; color: #1565c0; white-space: nowrap; }
.blocked { background: #eceff1; color: #546e7a; }
.blocked .reasons { color: #8a1c1c; margin: .2rem 0; } .why { margin: .3rem 0 0; }
.reasons { color: #8a1c1c; } .message { padding: .5rem; border: 2px solid #e65100; }
.ok { padding: .5rem; border: 2px solid #2e7d32; background: #f1f8e9; }
.refused { padding: .4rem .6rem; border-left: 4px solid #b71c1c; background: #fdecea; }
.help { display: block; font-size: .85em; color: #546e7a; font-weight: normal; }
label, .title { display: block; margin: .5rem 0; font-weight: 600; }
.variant { border: 1px dotted #b0bec5; margin: .3rem 0; } .variant legend { color: #546e7a; }
label input, label select, label textarea { font-weight: normal; margin-left: .3rem; }
button { margin: .4rem 0 .2rem; padding: .3rem .8rem; }
.when { white-space: nowrap; }
table { border-collapse: collapse; } td, th { padding: .25rem .6rem; text-align: left;
  border-bottom: 1px solid #cfd8dc; vertical-align: top; }
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
<td>{{ c.updated }}</td></tr>{% endfor %}</table>""",
)

# The inputs of a form, by each field's kind (from rjflow.forms).  ``sent`` holds what was
# typed when the form comes back refused (each name's list of answers), so the caseworker does
# not type it again.  A party is a choice of role and each role's fields; a list, a few rows.
_MACROS = """{% macro widget(f, key, fid, sent) %}{% set value = sent.get(key, [''])[0] %}
{% if f.kind == 'choice' %}<select name="{{ key }}" id="{{ fid }}">{% if not f.required
%}<option value=""></option>{% endif %}{% for c in f.choices %}<option value="{{ c.value }}"
{{ 'selected' if (value or f.default) | string == c.value | string else '' }}>{{ c.label
}}</option>{% endfor %}</select>
{% elif f.kind == 'choices' %}<select name="{{ key }}" id="{{ fid }}" multiple size="3">{% for
c in f.choices %}<option value="{{ c.value }}" {{ 'selected' if c.value | string in
sent.get(key, []) else '' }}>{{ c.label }}</option>{% endfor %}</select>
{% elif f.kind == 'yes_no' %}<select name="{{ key }}" id="{{ fid }}">{% set said = value
or ('true' if f.default == true else 'false' if f.default == false else '') %}{% if not
f.required and f.default is none %}<option value=""></option>{% endif %}<option
value="true" {{ 'selected' if said == 'true' else '' }}>yes</option><option value="false"
{{ 'selected' if said == 'false' else '' }}>no</option></select>
{% elif f.kind == 'date' %}<input type="date" name="{{ key }}" id="{{ fid }}"
 value="{{ value }}">
{% elif f.kind == 'duration' %}<input type="number" name="{{ key }}" id="{{ fid }}"
 min="1" value="{{ value }}" {% if f.limits.get('maximum_seconds') %}max="{{
 f.limits.maximum_seconds // 60 }}"{% endif %}> minutes
{% elif f.kind == 'whole_number' %}<input type="number" name="{{ key }}" id="{{ fid }}"
 value="{{ value }}" min="{{ f.limits.get('minimum', '') }}"
 max="{{ f.limits.get('maximum', '') }}">
{% elif f.kind == 'text' %}<textarea name="{{ key }}" id="{{ fid }}" rows="2" cols="40"
 maxlength="{{ f.limits.get('max_length', '') }}">{{ value }}</textarea>
{% else %}<input name="{{ key }}" id="{{ fid }}" value="{{ value }}"
 placeholder="{{ placeholders.get(f.kind, '') }}">
{% endif %}{% endmacro %}
{% macro help(f) %}<span class="help">{{ f.help }}{% if f.kind == 'duration' and
f.limits.get('maximum_seconds') %} At most {{ f.limits.maximum_seconds // 60 }} minutes.{%
endif %}</span>{% endmacro %}
{% macro field(f, key, fid, sent) %}{% set title = f.label ~ ('' if f.required else
' (optional)') %}
{% if f.kind == 'party' %}<div class="group"><label for="{{ fid }}">{{ title }}: who is it?
<select name="{{ key }}.role" id="{{ fid }}"><option value=""></option>{% for role in
f.variants %}<option value="{{ role }}" {{ 'selected' if sent.get(key ~ '.role', [''])[0] ==
role else '' }}>{{ role }}</option>{% endfor %}</select>{{ help(f) }}</label>
{% for role, fields in f.variants.items() %}<fieldset class="variant"><legend>if a
{{ role }}</legend>{% for g in fields %}{{ field(g, key ~ '.' ~ role ~ '.' ~ g.name,
fid ~ '-' ~ role ~ '-' ~ g.name, sent) }}{% endfor %}</fieldset>{% endfor %}</div>
{% elif f.kind == 'list' %}<div class="group"><span class="title">{{ title }}</span>{{
help(f) }}<span class="help">Fill in a row for each; leave the others empty.</span>
{% for n in range(list_rows) %}<fieldset class="variant"><legend>{{ n + 1 }}</legend>{% for
g in f.fields %}{{ field(g, key ~ '.' ~ n ~ '.' ~ g.name, fid ~ '-' ~ n ~ '-' ~ g.name, sent)
}}{% endfor %}</fieldset>{% endfor %}</div>
{% else %}<label for="{{ fid }}">{{ title }}{{ widget(f, key, fid, sent) }}{{ help(f) }}</label>
{% endif %}{% endmacro %}"""

_CASE = _MACROS + _BASE.replace(
    "{% block body %}{% endblock %}",
    """<h1>Case {{ summary.case_id }}: {{ summary.stage }}</h1>
<p class="facts">{{ "Open" if summary.is_open else "Ended" }}{% if summary.state == 'closed'
and summary.closure_reason %} (reason: {{ summary.closure_reason.replace('_', ' ') }}){%
endif %} · version
{{ summary.version }} · {{ policy }} · last change {{ updated }}</p>
{% if message %}<p class="message" role="alert">{{ message }}</p>{% endif %}
{% if done %}<p class="ok" role="status">{{ done }}</p>{% endif %}
{% if refused and refused_in_form %}<p class="message" role="alert"><a href="#{{ refused }}">{{
refused.replace('_', ' ') }}</a> was not recorded: see why below. Nothing was saved.</p>
{% elif refused %}<div class="message refused" role="alert"><p>{{ refused.replace('_', ' ')
}} was not recorded. Nothing was saved.{% if reasons %} Because:{% endif %}</p>
{% if reasons %}<ul class="reasons">{% for r in reasons %}<li>{{ r }}</li>{% endfor %}</ul>
{% endif %}{% if problem %}<p class="reasons">{{ problem }}</p>{% endif %}</div>
{% endif %}
<div class="columns"><section class="actions">
<h2>What may happen next</h2>
{% if any_action %}<p class="help">Open an action to fill in its form. A greyed-out action is
not possible now: it says why.</p>{% else %}<p>This case accepts no further actions.</p>
{% endif %}
{% for heading, items in groups if items %}<h3>{{ heading }}</h3>
{% for item in items %}{% set name = item.option.action %}{% if item.option.allowed %}
<details id="{{ name }}" {{ 'open' if name == refused else '' }}>
<summary><strong>{{ name.replace('_', ' ') }}</strong> <span class="what">— {{
item.form.summary }}</span>{% if item.option.leads_to %} <span class="moves">→ moves the case
to {{ item.option.leads_to.label }}</span>{% endif %}</summary>
{% if name == refused %}<div class="refused">{% if reasons %}<p>Not recorded, because:</p>
<ul class="reasons" role="alert">{% for r in reasons %}<li>{{ r }}</li>{% endfor %}</ul>
{% endif %}{% if problem %}<p class="reasons" role="alert">{{ problem }}</p>{% endif %}</div>
{% endif %}
<form method="post" action="{{ url_for('take_action', case_id=summary.case_id,
  action=name) }}">
<input type="hidden" name="version" value="{{ summary.version }}">
{% set sent = item.sent %}
<label for="{{ name }}--actor">acting as<input name="actor" id="{{ name }}--actor"
 value="{{ sent.get('actor', [actor])[0] }}" required><span class="help">Your staff id: the
 action is recorded as yours.</span></label>
{% for f in item.form.fields %}{{ field(f, f.name, name ~ '-' ~ f.name, sent) }}{% endfor %}
{% if item.option.depends_on %}<p class="help">Whether it is allowed also depends on what you
enter ({{ item.option.depends_on | map('replace', '_', ' ') | join(', ') }}): that is
checked when you submit.</p>
{% endif %}
<button type="submit">Record: {{ name.replace('_', ' ') }}</button>
</form></details>
{% else %}
<form><fieldset class="blocked" id="{{ name }}" disabled>
<strong>{{ name.replace('_', ' ') }}</strong> — {{ item.form.summary }}{% if
item.option.leads_to %} <span class="moves">→ would move the case to {{
item.option.leads_to.label }}</span>{% endif %}
<p class="why">Not possible now, because:</p>
<ul class="reasons">{% for b in item.option.blockers %}<li>{{ b.message }}</li>{% endfor %}</ul>
{% if item.form.fields %}<span class="help">Asks for: {{ item.form.fields | map(attribute=
'label') | join(', ') }}.</span>{% endif %}
<button type="button" disabled>Record: {{ name.replace('_', ' ') }}</button>
</fieldset></form>
{% endif %}{% endfor %}{% endfor %}
</section>
<section class="side">
<h2>Workflow</h2>
<figure class="diagram">{{ diagram }}</figure>
<h2>History</h2>
<table id="history"><tr><th>When</th><th>What</th><th>By</th><th>Stage</th></tr>
{% for e in history %}<tr><td class="when">{{ e.at }}</td><td>{{ e.action }}</td>
<td>{{ e.actor }}</td><td>{{ e.stage }}</td></tr>{% endfor %}</table>
</section></div>""",
)

_PLACEHOLDERS = {
    "id": "an id such as V1",
    "ids": "ids, separated by commas",
}


def _when(moment: datetime) -> str:
    """A moment as a caseworker reads it: ``2 Mar 2026 09:00 UTC``."""
    return f"{moment.day} {moment:%b %Y %H:%M %Z}".strip()


def _said(action: str) -> str:
    """An action's name as a caseworker says it."""
    return action.replace("_", " ")


def _stage(value: str | None) -> str:
    """A stage recorded in the history, as a caseworker says it ("new" before the first)."""
    return "new" if value is None else State(value).label


def create_app(path: str, *, clock: Clock = _now, actor: str = "F1") -> Flask:
    """The app over the SQLite store at ``path``.  ``clock`` gives the time an action is
    recorded at (the application's clock); ``actor`` is the id the forms suggest."""
    app = Flask(__name__)

    def store() -> SQLiteStore:
        return SQLiteStore(path)

    def page(
        case: Case,
        status: int = 200,
        *,
        refused: str | None = None,
        sent: Answers | None = None,
        **notes: Any,
    ) -> tuple[str, int]:
        # Two groups, by what rjflow says each action does: those that move the case to
        # another stage, then those that only add to its record; in each, the allowed ones
        # first and closing the case last.
        moves: list[dict[str, Any]] = []
        records: list[dict[str, Any]] = []
        for option in (options := case.options(at=max(clock(), case.record.updated_at))):
            item = {
                "option": option,
                "form": form(option.action, case.policy),
                "sent": (sent or {}) if option.action == refused else {},
            }
            (records if option.leads_to is None else moves).append(item)
        for group in (moves, records):
            group.sort(
                key=lambda i: (not i["option"].allowed, i["option"].leads_to is State.CLOSED)
            )
        history = [
            {
                "at": _when(e.at),
                "action": _said(e.action),
                "actor": e.actor,
                "stage": ""
                if e.to_state is None
                else f"{_stage(e.from_state)} → {_stage(e.to_state)}",
            }
            for e in case.history
        ]
        html = render_template_string(
            _CASE,
            title=f"Case {case.case_id}",
            summary=case.to_json_dict(),
            policy=case.policy.name,
            updated=_when(case.record.updated_at),
            # render_svg escapes every text it draws (its docstring's promise: no caller text
            # can add an element or an attribute), so its SVG is marked safe here, and only
            # it: everything else on the page goes through Jinja's autoescape.  rjflow's own
            # drawing ("builtin") gives the same picture on every machine, its text sized to
            # stay legible in the page's column.
            diagram=Markup(render_svg(diagram_model(case.policy, case), engine="builtin")),
            groups=[("Moves the case on", moves), ("Adds to the case's record", records)],
            any_action=bool(moves or records),
            history=history,
            actor=actor,
            placeholders=_PLACEHOLDERS,
            list_rows=LIST_ROWS,
            refused=refused,
            # The reasons go in the refused action's open form; an action not possible now
            # has none (its post was made by hand, or the case moved on): they go on top.
            refused_in_form=any(o.action == refused and o.allowed for o in options),
            message=notes.get("message"),
            problem=notes.get("problem"),
            reasons=notes.get("reasons", ()),
            done=notes.get("done"),
        )
        return html, status

    @app.get("/")
    def case_list() -> str:
        with store() as s:
            loaded = [s.load(case_id) for case_id in s.case_ids()]
        cases = [{**c.to_json_dict(), "updated": _when(c.record.updated_at)} for c in loaded]
        return render_template_string(_LIST, title="Cases", cases=cases)

    @app.get("/cases/<case_id>")
    def case_page(case_id: str) -> tuple[str, int]:
        try:
            with store() as s:
                case = s.load(case_id)
        except (CaseNotFound, InvalidInput):
            return "No such case.", 404
        done = None
        # Only an action's name travels in the URL, never a message: a link cannot make the
        # page say something rjflow did not.
        with contextlib.suppress(KeyError, UnknownAction):
            done = f"Recorded: {_said(action_name(request.args['done']))}."
        return page(case, done=done)

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
            conflict = ConcurrencyConflict(
                case_id, int(seen) if seen.isdigit() else 0, case.version
            )
            return page(case, 409, message=str(conflict))
        answers = posted.to_dict(flat=False)
        at = max(clock(), case.record.updated_at)

        def again(status: int, **notes: Any) -> tuple[str, int]:
            # The same page, the refused action's form open with what was typed in it.
            return page(case, status, refused=name, sent=answers, **notes)

        try:
            who = _actor(posted.get("actor", ""))
            values = form_values(form(name, case.policy).fields, answers)
            problems = case.blockers(name, at=at, actor=who, **values)
            if problems:
                return again(422, reasons=[b.message for b in problems])
            case.fire(name, at=at, actor=who, **values)
            with store() as s:
                s.save(case, expected_version=int(seen))
        except InvalidInput as invalid:
            return again(400, problem=str(invalid))
        except ActionRefused as refused:
            return again(422, reasons=[b.message for b in refused.blockers])
        except ConcurrencyConflict as conflict:
            with store() as s:
                case = s.load(case_id)
            return page(case, 409, message=str(conflict))
        return redirect(url_for("case_page", case_id=case_id, done=name), code=303)

    return app
