"""The programme and its stages: sentence first, sessions in order, twelve sessions of up to three
hours (seed).
"""

from __future__ import annotations

from collections.abc import Iterator

from rjflow.blocker import Blocker
from rjflow.commands import (
    Acting,
    HoldConference,
    Input,
    RecordSession,
)
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.rules._common import (
    _block,
    _guard,
    _hours,
)
from rjflow.states import STATES


@_guard
def offender_sentenced(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The programme starts once the offender is sentenced (seed)."""
    if rec.sentenced_on is None:
        yield _block(
            "offender_not_sentenced",
            "The offender's sentence has not been recorded; the programme starts once the "
            "offender is sentenced. Record the sentence date first.",
        )


@_guard
def stage_session_held(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The sessions run in order: each stage holds its minimum of attended sessions before the
    next (seed; ``Policy.min_introduction_sessions``, ``min_preparation_sessions``,
    ``min_conference_sessions`` — the conference is itself one —, ``min_letter_sessions``,
    ``min_shuttle_sessions``, ``min_review_sessions``)."""
    needed = policy.min_sessions_in(rec.state.value)
    held = rec.sessions_held_in(rec.state)
    if held < needed:
        kind = STATES[rec.state].session_kind
        label = kind.value.replace("_", " ") if kind else rec.state.label
        if held == 0 and needed == 1:
            # Translators: {kind} is a session kind or stage in English ("introduction").
            yield _block(
                "stage_session_missing",
                "No {kind} session has been attended yet; record an attended {kind} session "
                "before the case moves on.",
                kind=label,
            )
        else:
            yield _block(
                "stage_session_missing",
                "The {kind} stage needs {needed} attended sessions before the case moves on and "
                "{held} has been held; record another attended {kind} session.",
                kind=label,
                needed=needed,
                held=held,
            )


@_guard
def required_sessions_held(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The programme completes after ``Policy.required_sessions`` attended sessions in all
    (seed: a programme of twelve sessions; the default 0 sets no total minimum)."""
    if rec.sessions_held < policy.required_sessions:
        yield _block(
            "required_sessions_not_held",
            "The programme needs {needed} attended sessions to complete and {held} have been "
            "held; hold the remaining sessions first.",
            needed=policy.required_sessions,
            held=rec.sessions_held,
        )


@_guard
def sessions_remaining(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The programme has at most ``Policy.max_sessions`` attended sessions (seed)."""
    if isinstance(inp, RecordSession) and not inp.duration:
        return  # a missed session does not use one of the programme's sessions
    if rec.sessions_held >= policy.max_sessions:
        yield _block(
            "session_limit_reached",
            "All {limit} sessions of the programme have been held; no further session can take "
            "place. Complete the case if it is ready, or close it.",
            limit=policy.max_sessions,
        )


@_guard
def session_length_within_limit(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Each session lasts up to ``Policy.max_session_length`` (seed: three hours); the
    conference is a session too."""
    if isinstance(inp, RecordSession | HoldConference) and inp.duration > policy.max_session_length:
        # Translators: {limit} and {given} are lengths written in English ("3 h 30 min").
        yield _block(
            "session_too_long",
            "A session lasts at most {limit}; this one was given as {given}. Correct the "
            "duration, or record the time as two sessions.",
            limit=_hours(policy.max_session_length.total_seconds()),
            given=_hours(inp.duration.total_seconds()),
        )


# -- late entry (issue 14 fixes) ----------------------------------------------------------------


@_guard
def happened_in_stage(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """An entry made late (``occurred_at``) that belongs to a stage happened during it: a
    session, a stage change or a step of the activity is not dated before the case entered
    its current stage (and no entry before the referral, refused as invalid input).  Source:
    seed (the sessions run in order); late entry *inferred* from practice (sessions are
    recorded days after they happened)."""
    if act.occurred_at is None:
        return
    began = rec.stage_entered_at or rec.opened_at
    if act.occurred_at < began:
        # Translators: {occurred} and {began} are ISO 8601 times ("2026-03-01T10:00+00:00").
        yield _block(
            "happened_before_stage",
            "This entry is given as having happened at {occurred}, before the case entered the "
            "{stage} stage (at {began}); what belongs to this stage happened during it. Correct "
            "occurred_at to when it happened, on or after the start of the stage.",
            occurred=act.occurred_at.isoformat(timespec="minutes"),
            stage=rec.state.label,
            began=began.isoformat(timespec="minutes"),
        )
