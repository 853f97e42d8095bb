"""The programme's configurable values.

The default :class:`Policy` is London CRC's programme (the seed).  A youth justice service, a
police-led scheme or a prison changes values here, never code.  Each field's docstring says
where its default comes from: **seed** (London CRC's programme page) or **practice** (RJC
codes and standards, the Victims' Code); *inferred* where no source fixed a number.
"""

from __future__ import annotations

import enum
from datetime import timedelta

import attrs

from rjflow._validate import to_enum
from rjflow.errors import InvalidInput
from rjflow.offences import OffenceCategory
from rjflow.parties import PractitionerLevel

__all__ = ["LONDON_CRC", "Policy", "RiskScope"]

_SENSITIVE = frozenset(
    {
        OffenceCategory.DOMESTIC_ABUSE,
        OffenceCategory.SEXUAL_OFFENCE,
        OffenceCategory.STALKING,
        OffenceCategory.TRAFFICKING,
        OffenceCategory.HATE_CRIME,
    }
)


def _positive(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidInput(
            f"Policy.{attribute.name} must be a whole number of 1 or more (got {value!r})."
        )


def _positive_duration(_inst: object, attribute: attrs.Attribute[timedelta], value: object) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidInput(f"Policy.{attribute.name} must be a positive timedelta (got {value!r}).")


def _categories(value: object) -> frozenset[OffenceCategory]:
    if isinstance(value, OffenceCategory | str):
        raise InvalidInput("A policy's offence categories must be a set of OffenceCategory values.")
    try:
        return frozenset(OffenceCategory(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise InvalidInput(
            "A policy's offence categories must be a set of OffenceCategory values "
            f"(got {value!r})."
        ) from None


# -- safeguarding (issue 14, D2) ---------------------------------------------------------------


class RiskScope(enum.Enum):
    """What one suitability and risk assessment covers (``Policy.risk_assessment_scope``).

    ``CASE``: one assessment (made without a ``subject``) covers every participant.
    ``PARTICIPANT``: every participant a contact concerns (offender, victims, supporters) needs
    an assessment of their own; a case-wide one does not stand in for it.  In both scopes an
    unfavourable assessment of a participant blocks contact with them, and an unfavourable
    case-wide one blocks every contact.
    """

    CASE = "case"
    PARTICIPANT = "participant"

    @property
    def label(self) -> str:
        """The scope as a caseworker would say it."""
        return "per case" if self is RiskScope.CASE else "per participant"


def _to_scope(value: object) -> RiskScope:
    return to_enum(RiskScope, "risk_assessment_scope", value)


# -- end of safeguarding --------------------------------------------------------------------


@attrs.frozen
class Policy:
    """The values a service sets.  Defaults: London CRC's programme (see :data:`LONDON_CRC`).

    >>> from rjflow import Policy
    >>> Policy().max_sessions, Policy().max_session_length
    (12, datetime.timedelta(seconds=10800))
    >>> youth = Policy(name="Youth justice", max_sessions=8)
    >>> youth.max_sessions
    8
    """

    name: str = attrs.field(
        default="London CRC restorative justice programme",
        metadata={"doc": "A name for the policy, shown by ``rjflow policy`` and in diagrams."},
    )
    max_sessions: int = attrs.field(
        default=12,
        validator=_positive,
        metadata={
            "doc": "**seed**: the programme consists of twelve sessions (attended sessions count)."
        },
    )
    max_session_length: timedelta = attrs.field(
        default=timedelta(hours=3),
        validator=_positive_duration,
        metadata={"doc": "**seed**: each session lasts up to three hours."},
    )
    conference_categories: frozenset[OffenceCategory] = attrs.field(
        default=frozenset({OffenceCategory.VIOLENCE, OffenceCategory.HOUSEHOLD_BURGLARY}),
        converter=_categories,
        metadata={
            "doc": "**seed**: a conference only for a violent offence or household burglary ..."
        },
    )
    conference_for_direct_personal_harm: bool = attrs.field(
        default=True,
        metadata={"doc": "**seed**: ... or an offence where direct personal harm was caused."},
    )
    sensitive_categories: frozenset[OffenceCategory] = attrs.field(
        default=_SENSITIVE,
        converter=_categories,
        metadata={"doc": "**practice**: sensitive and complex offences need heightened judgement."},
    )
    excluded_with_ongoing_contact: frozenset[OffenceCategory] = attrs.field(
        default=frozenset({OffenceCategory.DOMESTIC_ABUSE, OffenceCategory.SEXUAL_OFFENCE}),
        converter=_categories,
        metadata={
            "doc": (
                "**practice (London CRC)**: offences excluded from contact where offender and "
                "victim are likely to have ongoing contact.  Empty switches the exclusion off."
            )
        },
    )
    sexual_harm_needs_victim_request: bool = attrs.field(
        default=True,
        metadata={
            "doc": "**practice**: for sexual harm, contact only when the victim asked for it."
        },
    )
    min_lead_level: PractitionerLevel = attrs.field(
        default=PractitionerLevel.INTERMEDIATE,
        metadata={
            "doc": (
                "**practice**: a direct process is led by an intermediate or advanced practitioner."
            )
        },
    )
    min_sensitive_lead_level: PractitionerLevel = attrs.field(
        default=PractitionerLevel.ADVANCED,
        metadata={
            "doc": "**practice**: sensitive and complex cases need an advanced practitioner."
        },
    )
    sensitive_needs_specialism: bool = attrs.field(
        default=True,
        metadata={
            "doc": (
                "**practice**, *inferred*: the lead of a sensitive case has specialist "
                "training in that offence area (``Facilitator.specialisms``)."
            )
        },
    )
    information_before_consent: bool = attrs.field(
        default=True,
        metadata={"doc": "**practice**: participants are informed before consent is recorded."},
    )
    require_guilty_plea: bool = attrs.field(
        default=True,
        metadata={
            "doc": (
                "**practice (London CRC)**: a guilty plea as well as acknowledging responsibility."
            )
        },
    )
    max_unacceptable_absences: int = attrs.field(
        default=2,
        validator=_positive,
        metadata={
            "doc": (
                "**practice**, *inferred number*: unacceptable absences before referral for "
                "enforcement."
            )
        },
    )
    min_review_sessions: int = attrs.field(
        default=1,
        validator=_positive,
        metadata={
            "doc": (
                "*inferred*: review sessions needed to complete a case with no binding agreement."
            )
        },
    )
    conference_enabled: bool = attrs.field(
        default=True, metadata={"doc": "**seed**: the face-to-face conference is offered."}
    )
    letter_enabled: bool = attrs.field(
        default=True,
        metadata={
            "doc": (
                "**seed**: a letter of apology is offered where the victim does not wish to meet."
            )
        },
    )
    shuttle_enabled: bool = attrs.field(
        default=True,
        metadata={
            "doc": (
                "**seed**: shuttle discussions are offered where the victim does not wish to meet."
            )
        },
    )

    # -- safeguarding that stays current (issue 14, D2) --------------------------------------
    risk_assessment_valid_for: timedelta = attrs.field(
        default=timedelta(days=90),
        validator=_positive_duration,
        metadata={
            "doc": (
                "**practice**, *inferred number*: risk is re-checked throughout (RJC Service "
                "Provider and Practitioner Codes); an assessment stops counting this long after "
                "it was made, judged at the time the action happened (its ``occurred_at`` when "
                "given, else when it is recorded)."
            )
        },
    )
    risk_assessment_scope: RiskScope = attrs.field(
        default=RiskScope.CASE,
        converter=_to_scope,
        metadata={
            "doc": (
                "**practice**: the RJC codes require suitability and risk to be assessed before "
                "contact, for every participant, but do not fix whether that is one document "
                "per case or one per person. Default ``case`` (one assessment covering every "
                "participant, as the seed's preparation stage and saved schema-1 cases record "
                "it); ``participant`` makes each contacted participant (offender, victims, "
                "supporters) need an assessment of their own. An unfavourable assessment of "
                "anyone blocks contact with them in both."
            )
        },
    )

    def is_sensitive(self, category: OffenceCategory) -> bool:
        """True when offences of ``category`` need the sensitive-case safeguards."""
        return category in self.sensitive_categories


#: London CRC's programme: the seed's rules with national practice defaults.
LONDON_CRC = Policy()
