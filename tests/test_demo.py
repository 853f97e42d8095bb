"""The worked example and its readable trail."""

from __future__ import annotations

from datetime import timedelta

from rjflow import AgreementOutcome, ClosureReason, RJType, State
from rjflow.demo import build_demo_case, format_event, run_demo

from .builders import at_stage


def test_the_demo_case_completes_with_a_signed_agreement() -> None:
    """The demo goes referral -> conference with a binding agreement -> reviews -> completed."""
    case = build_demo_case()
    path = [e.to_state for e in case.history if e.to_state]
    assert path == ["referred", "introduction", "preparation", "conference", "review", "completed"]
    assert case.record.agreement is not None
    assert case.record.agreement_binding(case.policy)
    closure = case.record.closure
    assert closure is not None
    assert (closure.outcome, closure.rj_type) == (AgreementOutcome.FULFILLED, RJType.DIRECT)
    # Evaluation goes on after the end: the last two events follow completion.
    assert [e.action for e in case.history[-3:]] == [
        "complete",
        "record_feedback",
        "record_follow_up",
    ]


def test_run_demo_prints_the_refusal_and_the_trail() -> None:
    """The printed demo shows the refusal's codes and one line per event."""
    lines: list[str] = []
    case = run_demo(lines.append)
    text = "\n".join(lines)
    assert "[victim_consent_missing]" in text
    assert "agreement fulfilled; restorative justice delivered: direct." in text
    assert sum(1 for line in lines if line.startswith("  ") and " 2026-" in line) == case.version


def test_the_trail_never_shows_free_text() -> None:
    """Notes and agreement wording may be personal data: the trail says only that they exist."""
    case = build_demo_case()
    trail = "\n".join(format_event(e) for e in case.history)
    assert "victim-awareness" not in trail
    assert "actions=A1, A2" in trail
    closed, clock = at_stage(State.INTRODUCTION)
    closed.close(
        reason=ClosureReason.OTHER, note="Lives with the victim's cousin", at=clock(), actor="F1"
    )
    line = format_event(closed.history[-1])
    assert "cousin" not in line
    assert "note=(text)" in line
    session = next(e for e in case.history if e.action == "record_session")
    assert case.record.sessions[0].duration == timedelta(hours=2)
    assert "duration=2 h)" in format_event(session)
