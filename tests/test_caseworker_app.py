"""The example caseworker app (examples/caseworker_app), driven by Flask's test client: the
case list, a case page with its forms and diagram, an action fired from a form, a refusal's
reasons, and a change made in another tab reported as a conflict."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("flask")

from examples.caseworker_app import create_app, form_values, seed

from rjflow.forms import form
from rjflow.store import SQLiteStore

START = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def client(tmp_path: Path) -> Any:
    db = str(tmp_path / "cases.sqlite")
    seed(db, now=START)
    ticks = count(1)
    app = create_app(db, clock=lambda: START + timedelta(days=30, hours=next(ticks)))
    app.config["TESTING"] = True
    client = app.test_client()
    client.db = db  # type: ignore[attr-defined]
    return client


def _version(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


def _post(client: Any, action: str, **answers: str) -> tuple[Any, int]:
    """Post ``action``'s form on case RJ-2026-0003 as its page was just shown (with the
    version it showed): the reply, and that version."""
    seen = _version(client.get("/cases/RJ-2026-0003").get_data(as_text=True))
    reply = client.post("/cases/RJ-2026-0003/actions/" + action, data={"version": seen, **answers})
    return reply, int(seen)


def test_case_list_shows_each_case_with_its_stage(client: Any) -> None:
    """The list names every stored case with its stage, read from the store."""
    html = client.get("/").get_data(as_text=True)
    assert "RJ-2026-0002" in html and "RJ-2026-0003" in html and "RJ-2026-0001" in html
    assert "referred" in html and "introduction" in html and "completed" in html


def test_case_page_has_diagram_forms_and_history(client: Any) -> None:
    """A case page shows the diagram, one form per possible action generated from the
    metadata (blocked ones greyed out with their reasons) and the history trail."""
    html = client.get("/cases/RJ-2026-0002").get_data(as_text=True)
    assert html.count("<svg ") == 1 and "stateDiagram" not in html, "one picture, no Mermaid"
    assert re.search(r'<figure class="diagram"><svg [^>]*class="rjflow-diagram"', html)
    assert "<title>London CRC restorative justice programme: case RJ-2026-0002</title>" in html
    assert 'id="start_introduction"' in html
    blocked = re.search(r'class="blocked" id="start_introduction" disabled', html)
    assert blocked is not None, "start_introduction is blocked until the offender is sentenced"
    assert "offender is sentenced" in html
    assert 'type="date" name="sentenced_on"' in html
    assert re.search(r"<td>open case</td>\s*<td>F1</td><td>new → referred</td>", html)


def test_firing_an_action_from_its_form(client: Any) -> None:
    """Posting a form records the action and saves it; the page then shows the new stage."""
    reply, _ = _post(client, "record_session", actor="F1", duration="90")
    assert reply.status_code == 303
    with SQLiteStore(client.db) as store:
        case = store.load("RJ-2026-0003")
    assert case.history[-1].action == "record_session"
    assert case.history[-1].data["duration"] == 5400


def test_a_refusal_shows_the_rules_reasons(client: Any) -> None:
    """A session longer than the policy allows is refused with rjflow's message; nothing is
    saved."""
    reply, seen = _post(client, "record_session", actor="F1", duration="240")
    assert reply.status_code == 422
    assert "A session lasts at most 3 h" in reply.get_data(as_text=True)
    with SQLiteStore(client.db) as store:
        assert store.version("RJ-2026-0003") == seen


@pytest.mark.parametrize(
    "typed", ["ninety", "-5", "1e9", "PT1H", "1.5", "99999999", " ", "²", "٣٠"]
)
def test_a_duration_that_is_no_number_of_minutes_is_explained_in_the_pages_words(
    client: Any, typed: str
) -> None:
    """The page asks for minutes: an answer that is none is refused naming the field and
    what to type (never the ISO 8601 text rjflow takes, nor the answer); nothing is saved."""
    reply, seen = _post(client, "record_session", actor="F1", duration=typed)
    assert reply.status_code == 400
    text = reply.get_data(as_text=True)
    assert "Duration: give a whole number of minutes from 0 to 180." in text
    assert "ISO" not in text and "PT2H" not in text
    with SQLiteStore(client.db) as store:
        assert store.version("RJ-2026-0003") == seen


def test_a_required_answer_left_empty_is_asked_for_in_the_pages_words(client: Any) -> None:
    reply, _ = _post(client, "assign_lead_facilitator", actor="M1", facilitator=" ")
    assert reply.status_code == 400
    assert "Facilitator: this answer is needed." in reply.get_data(as_text=True)


@pytest.mark.parametrize("actor", ["", "Jane Smith"])
def test_acting_as_no_staff_id_is_asked_for_in_the_pages_words(client: Any, actor: str) -> None:
    reply, _ = _post(client, "record_session", actor=actor, duration="60")
    assert reply.status_code == 400
    text = reply.get_data(as_text=True)
    assert "Acting as: give your staff id, such as F1 (never a name)." in text
    assert "opaque id" not in text and "Jane" not in text.split("<h2>What may happen")[0]


def test_an_action_not_possible_now_says_why_at_the_top(client: Any) -> None:
    """A post for an action the case does not allow now (made by hand, or the case moved on
    meanwhile) is refused with its reasons where they can be seen: the action has no open
    form to show them in."""
    reply, _ = _post(client, "record_progress", actor="F1", action_id="A1", status="done")
    assert reply.status_code == 422
    text = reply.get_data(as_text=True)
    assert "record progress was not recorded. Nothing was saved. Because:" in text
    assert "see why below" not in text
    assert re.search(r'<div class="message refused" role="alert">.*?<li>', text, re.S)


def test_two_tabs_the_second_change_is_reported_as_a_conflict(client: Any) -> None:
    """Two tabs show version N; the first records a session, the second's post (made from
    version N) is refused with a clear message and nothing is saved twice."""
    tab_a = client.get("/cases/RJ-2026-0003").get_data(as_text=True)
    tab_b = client.get("/cases/RJ-2026-0003").get_data(as_text=True)
    first = client.post(
        "/cases/RJ-2026-0003/actions/record_session",
        data={"version": _version(tab_a), "actor": "F1", "duration": "60"},
    )
    assert first.status_code == 303
    second = client.post(
        "/cases/RJ-2026-0003/actions/record_session",
        data={"version": _version(tab_b), "actor": "F1", "duration": "60"},
    )
    assert second.status_code == 409
    text = second.get_data(as_text=True)
    assert "changed by someone else" in text and "Nothing was saved" in text
    with SQLiteStore(client.db) as store:
        assert store.version("RJ-2026-0003") == int(_version(tab_a)) + 1


def test_unknown_case_or_action_is_not_found(client: Any) -> None:
    """A misspelled case or action in the URL is a 404, not a crash."""
    assert client.get("/cases/RJ-9").status_code == 404
    assert client.post("/cases/RJ-2026-0003/actions/record_sesion", data={}).status_code == 404


def test_form_values_follow_the_field_kinds() -> None:
    """The form's answers become JSON values by each field's kind, empty answers left out."""
    fields = form("hold_conference").fields
    posted = {"victims": ["V1, V2"], "supporters": [""], "duration": ["150"]}
    assert form_values(fields, posted) == {"victims": ["V1", "V2"], "duration": "PT150M"}
    feedback = form("record_feedback").fields
    answers = {"party": ["V1"], "satisfaction": ["4"], "things_changed": ["false"]}
    got = form_values(feedback, answers)
    assert got == {"party": "V1", "satisfaction": 4, "things_changed": False}


def test_form_values_build_a_party_and_a_list_from_their_fields() -> None:
    """A party is its role and that role's fields (other roles' boxes ignored); a list is its
    filled-in rows; a multiple choice keeps every choice."""
    party = form("add_party").fields
    posted = {
        "party.role": ["facilitator"],
        "party.facilitator.id": ["F4"],
        "party.facilitator.level": ["2"],
        "party.facilitator.specialisms": ["theft", "fraud"],
        "party.victim.id": ["V9"],
    }
    assert form_values(party, posted) == {
        "party": {"role": "facilitator", "id": "F4", "level": 2, "specialisms": ["theft", "fraud"]}
    }
    assert form_values(party, {"party.role": [""]}) == {}
    actions = form("propose_agreement").fields
    rows = {
        "actions.0.id": ["A1"],
        "actions.0.what": ["Write a letter"],
        "actions.0.responsible": ["O1"],
        "actions.0.deadline": ["2026-05-01"],
        "actions.1.id": [""],
    }
    assert form_values(actions, rows) == {
        "actions": [
            {"id": "A1", "what": "Write a letter", "responsible": "O1", "deadline": "2026-05-01"}
        ]
    }


def test_adding_a_party_from_its_form(client: Any) -> None:
    """The add-party form asks for a role and that role's fields, and the party is added."""
    page = client.get("/cases/RJ-2026-0003").get_data(as_text=True)
    assert 'name="party.role"' in page and 'name="party.victim.under_18"' in page
    reply = client.post(
        "/cases/RJ-2026-0003/actions/add_party",
        data={
            "version": _version(page),
            "actor": "F1",
            "party.role": "victim",
            "party.victim.id": "V4",
            "party.victim.under_18": "true",
        },
    )
    assert reply.status_code == 303, reply.get_data(as_text=True)
    with SQLiteStore(client.db) as store:
        case = store.load("RJ-2026-0003")
    assert case.history[-1].action == "add_party"
    added = next(p for p in case.record.parties if p.id == "V4")
    assert added.under_18 is True


def test_a_link_cannot_put_its_own_words_on_the_page(client: Any) -> None:
    """Regression: the "done" note after an action was text taken from the URL, so a crafted
    link showed any sentence in the page's green box.  Only an action's name travels now."""
    crafted = client.get("/cases/RJ-2026-0003?done=Case+deleted,+call+0800+000+000")
    assert crafted.status_code == 200
    html = crafted.get_data(as_text=True)
    assert "Case deleted" not in html and 'role="status"' not in html
    named = client.get("/cases/RJ-2026-0003?done=record_session").get_data(as_text=True)
    assert '<p class="ok" role="status">Recorded: record session.</p>' in named


def test_a_version_that_is_not_a_number_is_a_conflict_not_a_crash(client: Any) -> None:
    """Regression: a posted version that was not a number raised ValueError (a 500); it is
    reported as a change made elsewhere, and nothing is saved."""
    reply = client.post(
        "/cases/RJ-2026-0003/actions/record_session",
        data={"version": "seven", "actor": "F1", "duration": "60"},
    )
    assert reply.status_code == 409
    assert "Nothing was saved" in reply.get_data(as_text=True)
    with SQLiteStore(client.db) as store:
        assert store.load("RJ-2026-0003").history[-1].action == "start_introduction"


def test_a_refused_form_comes_back_with_its_answers_escaped(client: Any) -> None:
    """A refused form is shown open again with what was typed in it, so nothing is typed
    twice; the typed text is escaped (it is the caseworker's, not rjflow's)."""
    reply, _ = _post(client, "record_consent", actor="F1", party='"><b>V3', activity="shuttle")
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert '<details id="record_consent" open>' in html
    assert 'value="&#34;&gt;&lt;b&gt;V3"' in html and "<b>V3" not in html
    assert re.search(r'<option value="shuttle"\s+selected>', html)
    assert "&#39;party&#39;" in html, "rjflow's message names the field"
