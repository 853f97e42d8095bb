"""Messages an application can translate (issue 10, item 6): every blocker carries its English
template and parameters, the templates are extracted into the shipped ``rjflow.pot``, and a
catalogue renders them in another language, falling back to English."""

from __future__ import annotations

import ast
import copy
import pickle
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from rjflow import Blocker, Case, InvalidInput, RJFlowError, State
from rjflow.blocker import placeholders, render
from rjflow.i18n import POT_PATH, catalog, extract, translate, translator
from rjflow.states import ACTIONS
from rjflow.testing import actor_for, cases
from rjflow.workflow import Workflow

from .builders import at_stage
from .strategies import POLICIES, inputs

babel = pytest.importorskip("babel")
from babel.messages.catalog import Catalog  # noqa: E402
from babel.messages.mofile import write_mo  # noqa: E402
from babel.messages.pofile import read_po, write_po  # noqa: E402

SRC = Path(__file__).resolve().parent.parent / "src" / "rjflow"
OPEN_STAGES = [s for s in State if s not in (State.COMPLETED, State.CLOSED)]


def _shipped_templates() -> set[str]:
    with POT_PATH.open("rb") as stream:
        return {m.id for m in read_po(stream) if m.id}


SHIPPED = _shipped_templates()


def check_blocker(b: Blocker) -> None:
    """A blocker's template, rendered with its parameters, is its message; its placeholders
    are exactly its parameters; the template is in the shipped catalogue template."""
    assert render(b.template, b.params) == b.message, b.code
    assert placeholders(b.template) == set(b.params), b.code
    for value in b.params.values():
        assert isinstance(value, str | int) and not isinstance(value, bool), b.code
    assert b.template in SHIPPED, f"{b.code}: template missing from rjflow.pot"


# -- every blocker the engine makes ---------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    policy=st.sampled_from(POLICIES),
    stage=st.sampled_from(OPEN_STAGES),
)
def test_every_blocker_renders_to_its_message(data: Any, policy: Any, stage: State) -> None:
    """On a random walk of a case (random actions, inputs and actors, firing what is
    allowed), every blocker's template renders with its parameters to exactly its message,
    and its template is one the catalogue holds (so every message can be translated)."""
    # cases() drives other policies reliably only to their first stages (its route to a later
    # stage may pass one the policy does not offer); the walk goes on from there.
    early = (State.REFERRED, State.INTRODUCTION, State.PREPARATION)
    assume(policy is POLICIES[0] or stage in early)
    assume(stage in Workflow.for_policy(policy).states)
    case, clock = data.draw(cases(stage, policy))
    for _ in range(12):
        action = data.draw(st.sampled_from(sorted(ACTIONS)), label="action")
        payload = data.draw(inputs(action, case.record), label="input")
        actor = data.draw(st.sampled_from([actor_for(action), "V1", "X9", None]), label="actor")
        at = clock()
        try:
            found = case.blockers(action, at=at, actor=actor, **payload)  # type: ignore[arg-type]
        except RJFlowError:
            continue
        for b in found:
            check_blocker(b)
            event(b.code)
        if not found and actor is not None:
            try:
                case.fire(action, at=at, actor=actor, **payload)  # type: ignore[arg-type]
            except RJFlowError:
                continue  # judged again on firing (an input's default, say): not this test's
    for option in case.options(at=clock()):
        for b in option.blockers:
            check_blocker(b)


def test_the_walk_meets_blockers_of_many_rules() -> None:
    """The check above is not vacuous: known refusals carry templates with parameters."""
    case, clock = at_stage(State.PREPARATION)
    found = case.blockers("record_session", at=clock(), actor="F1", duration=timedelta(hours=4))
    too_long = next(b for b in found if b.code == "session_too_long")
    assert too_long.params == {"limit": "3 h", "given": "4 h"}
    assert too_long.template.startswith("A session lasts at most {limit}; this one was given")
    check_blocker(too_long)
    wrong = case.blockers("complete", at=clock())
    assert [b.code for b in wrong] == ["wrong_stage"]
    assert wrong[0].params["stage"] == "preparation"
    check_blocker(wrong[0])


# -- the source: literal templates, and a current catalogue --------------------------------


def _template_calls() -> list[tuple[str, int, ast.expr | None, ast.Call]]:
    calls = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            is_of = isinstance(func, ast.Attribute) and name == "of"
            if name == "_block" or (is_of and getattr(func.value, "id", "") == "Blocker"):
                arg = node.args[1] if len(node.args) > 1 else None
                if isinstance(arg, ast.Name) and arg.id == "template":
                    continue  # ``_block`` itself hands its template on
                calls.append((str(path.relative_to(SRC)), node.lineno, arg, node))
    return calls


def test_every_template_is_a_string_literal() -> None:
    """Babel extracts only literal strings: every ``_block``/``Blocker.of`` call in rjflow
    passes its template as one (no f-string, no variable), and each is in ``rjflow.pot``."""
    calls = _template_calls()
    assert len(calls) > 90
    for where, line, arg, _call in calls:
        assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), f"{where}:{line}"
        assert arg.value in SHIPPED, f"{where}:{line}: not in rjflow.pot"


def test_every_call_names_exactly_its_placeholders() -> None:
    """Read in the source, every call passes exactly the parameters its template names (one
    that hands on another blocker's parameters, ``**found.params``, is checked by the walk)."""
    checked = 0
    for where, line, arg, call in _template_calls():
        if any(k.arg is None for k in call.keywords):
            continue
        assert isinstance(arg, ast.Constant)
        named = {k.arg for k in call.keywords}
        assert named == placeholders(arg.value), f"{where}:{line}"
        checked += 1
    assert checked > 90


def test_shipped_pot_is_current() -> None:
    """``src/rjflow/locale/rjflow.pot`` holds exactly what extraction finds now, with the
    translators' comments (the header's dates and Babel version aside)."""
    with POT_PATH.open("rb") as stream:
        shipped = read_po(stream)
    fresh = catalog()

    def messages(cat: Catalog) -> list[tuple[Any, ...]]:
        return sorted(
            (m.id, tuple(sorted({f for f, _ in m.locations})), " ".join(m.auto_comments))
            for m in cat
            if m.id
        )

    assert messages(shipped) == messages(fresh), (
        "src/rjflow/locale/rjflow.pot is stale: run python -m rjflow.i18n extract"
    )


def test_extracting_again_changes_nothing_until_a_message_does(tmp_path: Path) -> None:
    """An extraction over a file with the same messages leaves it byte for byte, its
    creation date too; a file that lacks a message is rewritten, with it and a new date."""
    target = tmp_path / "rjflow.pot"
    extract(target)
    old = re.sub(  # as extract writes it, but dated long ago
        rb"POT-Creation-Date: [^\\]*",
        b"POT-Creation-Date: 2001-02-03 04:05+0000",
        target.read_bytes(),
    )
    assert b"POT-Creation-Date: 2001-02-03 04:05+0000" in old
    target.write_bytes(old)
    with target.open("rb") as stream:
        current = read_po(stream)
    extract(target)
    assert target.read_bytes() == old

    messages = [m for m in current if m.id]
    lacking = Catalog(project="rjflow", creation_date=current.creation_date)
    for m in messages[1:]:
        lacking.add(m.id, None, m.locations, auto_comments=m.auto_comments)
    with target.open("wb") as stream:
        write_po(stream, lacking, width=100, sort_by_file=True, include_lineno=False)
    extract(target)
    with target.open("rb") as stream:
        again = read_po(stream)
    assert sorted(m.id for m in again if m.id) == sorted(m.id for m in messages)
    assert again.creation_date.year > 2001


# -- a pseudo-locale catalogue ---------------------------------------------------------------

SHORT = "A session lasts at most {limit}; this one was given as {given}. Correct the "
SHORT += "duration, or record the time as two sessions."
WRONG_STAGE = (
    "{action} is possible only at the {stages} stage(s); the case is at the {stage} stage."
)
NOT_VICTIM = "Party {party} is not a victim on this case; add them as a victim first, or correct "
NOT_VICTIM += "the id."


@pytest.fixture(scope="module")
def pseudo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A compiled catalogue for the pseudo-locale ``xx``: two templates bracketed and
    shouted, one whose translation names the wrong placeholder, a stage's label; the rest
    untranslated."""
    root = tmp_path_factory.mktemp("locale")
    cat = Catalog(locale="en", domain="rjflow")  # ``xx`` is no locale Babel knows
    cat.add(SHORT, "[[ SESSION MAX {limit}, GIVEN {given} ]]")
    cat.add(WRONG_STAGE, "[[ {stage}: NOT FOR {action} (ONLY {stages}) ]]")
    cat.add(NOT_VICTIM, "[[ {victim} IS NO VICTIM ]]")  # wrong placeholder: English instead
    cat.add("preparation", "PARATOI")  # a stage's label, put into translated templates
    cat.add("V1", "{oops}")  # a "translation" with braces is never put in
    target = root / "xx" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "rjflow.mo").open("wb") as stream:
        write_mo(stream, cat)
    return root


def test_pseudo_locale_translates_with_the_parameters(pseudo: Path) -> None:
    """A translated template is rendered with the blocker's own parameters; one the
    catalogue lacks, or whose translation names other placeholders, stays English."""
    xx = translator("xx", pseudo)
    case, clock = at_stage(State.PREPARATION)
    found = case.blockers("record_session", at=clock(), actor="F1", duration=timedelta(hours=4))
    too_long = next(b for b in found if b.code == "session_too_long")
    assert translate(too_long, xx) == "[[ SESSION MAX 3 h, GIVEN 4 h ]]"
    assert too_long.translated(xx) == "[[ SESSION MAX 3 h, GIVEN 4 h ]]"
    assert too_long.message.startswith("A session lasts at most 3 h;")  # English kept
    (wrong,) = case.blockers("complete", at=clock())
    assert translate(wrong, xx) == "[[ PARATOI: NOT FOR Complete (ONLY review) ]]"
    referred, later = at_stage(State.REFERRED, sentenced=False)
    (unsentenced,) = referred.blockers("start_introduction", at=later())
    assert unsentenced.code == "offender_not_sentenced"  # not in the catalogue: English
    assert translate(unsentenced, xx) == unsentenced.message
    mismatch = Blocker.of("unknown_victim", NOT_VICTIM, "g", "V9", party="V9")
    assert translate(mismatch, xx) == mismatch.message


def test_words_are_translated_only_inside_translated_templates(pseudo: Path) -> None:
    """A parameter the catalogue translates (a stage's label) is put into a translated
    template; an untranslated template stays wholly English; ids and numbers stay."""
    xx = translator("xx", pseudo)
    b = Blocker.of("c", SHORT, "g", "V1", limit="3 h", given="4 h")
    assert translate(b, xx) == "[[ SESSION MAX 3 h, GIVEN 4 h ]]"
    english = Blocker.of("c", "At the {stage} stage.", "g", stage="preparation")
    assert translate(english, xx) == "At the preparation stage."
    odd = Blocker.of("c", WRONG_STAGE, "g", action="V1", stages="review", stage="preparation")
    assert translate(odd, xx) == "[[ PARATOI: NOT FOR V1 (ONLY review) ]]"


def test_catalogue_holds_the_words_that_fill_templates() -> None:
    """Stage labels and rjflow's phrases passed as parameters are in ``rjflow.pot``, so a
    translator can translate them."""
    for word in ("preparation", "the case", "this action", "a face-to-face meeting"):
        assert word in SHIPPED, word


def test_no_catalogue_means_english(tmp_path: Path) -> None:
    """A locale without a catalogue, or no translator, gives the English message."""
    case, clock = at_stage(State.PREPARATION)
    (wrong,) = case.blockers("complete", at=clock())
    assert translate(wrong, translator("de", tmp_path)) == wrong.message
    assert translate(wrong, translator("de")) == wrong.message
    assert translate(wrong, None) == wrong.message


def test_translations_object_is_accepted(pseudo: Path) -> None:
    """Babel's ``support.Translations`` (or a ``gettext`` translations object) may be passed
    as it is."""
    from babel.support import Translations  # noqa: PLC0415

    loaded = Translations.load(str(pseudo), ["xx"], domain="rjflow")
    b = Blocker.of("session_too_long", SHORT, "g", limit="3 h", given="3 h 01 min")
    assert translate(b, loaded) == "[[ SESSION MAX 3 h, GIVEN 3 h 01 min ]]"


def test_a_broken_catalogue_never_raises() -> None:
    """A catalogue that raises, returns a non-string, or a template reaching into the
    parameters' attributes leaves the English message (never an error on the screen)."""
    b = Blocker.of("too_long", "At most {limit}.", "g", limit="3 h")

    def raising(_text: str) -> str:
        raise LookupError

    assert translate(b, raising) == "At most 3 h."
    assert translate(b, lambda _t: None) == "At most 3 h."
    assert translate(b, lambda _t: "{limit.__class__} {limit}") == "At most 3 h."
    assert translate(b, lambda _t: "{limit!r}") == "At most 3 h."
    assert translate(b, lambda _t: "{limit") == "At most 3 h."
    assert translate(b, lambda _t: "Höchstens {limit}.") == "Höchstens 3 h."


@pytest.mark.parametrize("bad", ["../../etc", "de/LC_MESSAGES", "", "d", "de de", 7])
def test_translator_refuses_what_is_not_a_locale(bad: Any) -> None:
    """A locale name is never used as a path; anything else is refused, unquoted."""
    with pytest.raises(InvalidInput) as caught:
        translator(bad)
    assert "etc" not in str(caught.value)


# -- the value ------------------------------------------------------------------------------


def test_blocker_without_template_keeps_working() -> None:
    """Blockers made the old way (four fields) take their message as their template."""
    b = Blocker("c", "Use {braces} as they are.", "g", "V1")
    assert b.template == "Use {{braces}} as they are."
    assert b.params == {}
    assert render(b.template, b.params) == b.message
    assert b.translated(lambda t: t) == b.message


def test_parameters_are_read_only_hashable_and_pickle() -> None:
    """A blocker stays a value: equal blockers hash alike, pickle and copy to equals, and its
    parameters cannot be changed."""
    b = Blocker.of("c", "Party {party}: {n} sessions.", "g", "V1", party="V1", n=3)
    again = Blocker.of("c", "Party {party}: {n} sessions.", "g", "V1", party="V1", n=3)
    assert b == again and hash(b) == hash(again)
    assert pickle.loads(pickle.dumps(b)) == b
    assert copy.deepcopy(b) == b
    with pytest.raises(TypeError):
        b.params["party"] = "V2"  # type: ignore[index]
    with pytest.raises(TypeError):
        Blocker("c", "m", "g", None, "m", {"flag": True})
    assert b.to_json_dict()["params"] == {"party": "V1", "n": 3}


def test_json_messages_translated_when_asked(pseudo: Path) -> None:
    """``to_json_dict(gettext)`` of a blocker and of an option translates each message and
    keeps the English template; without it the message is English."""
    xx = translator("xx", pseudo)
    case, clock = at_stage(State.PREPARATION)
    (wrong,) = case.blockers("complete", at=clock())
    data = wrong.to_json_dict(xx)
    assert data["message"] == "[[ PARATOI: NOT FOR Complete (ONLY review) ]]"
    assert data["template"] == WRONG_STAGE
    assert wrong.to_json_dict()["message"] == wrong.message
    for option in case.options(at=clock()):
        shown = option.to_json_dict(xx)["blockers"]
        assert [b["message"] for b in shown] == [translate(b, xx) for b in option.blockers]
        assert [b["code"] for b in shown] == [b.code for b in option.blockers]


def test_refused_action_keeps_english(pseudo: Path) -> None:
    """``ActionRefused`` carries the blockers; its text stays English, and an application
    translates the blockers it carries."""
    case: Case
    case, clock = at_stage(State.PREPARATION)
    with pytest.raises(RJFlowError) as caught:
        case.fire("complete", at=clock(), actor="F1")
    assert "is possible only at the review stage(s)" in str(caught.value)
    blockers = caught.value.blockers  # type: ignore[attr-defined]
    assert [translate(b, translator("xx", pseudo)) for b in blockers] == [
        "[[ PARATOI: NOT FOR Complete (ONLY review) ]]"
    ]
