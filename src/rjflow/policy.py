"""The programme's configurable values.

The default :class:`Policy` is London CRC's programme (the seed).  A youth justice service, a
police-led scheme or a prison changes values here, never code.  Each field's docstring says
where its default comes from: **seed** (London CRC's programme page) or **practice** (RJC
codes and standards, the Victims' Code); *inferred* where no source fixed a number.
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from rjflow.errors import InvalidInput
from rjflow.offences import OffenceCategory
from rjflow.parties import PractitionerLevel

__all__ = ["LONDON_CRC", "Policy"]

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
    # -- change of mind, youth (issue 14) --
    victim_request_required_for: frozenset[OffenceCategory] = attrs.field(
        default=frozenset({OffenceCategory.SEXUAL_OFFENCE}),
        converter=_categories,
        metadata={
            "doc": (
                "**practice** (RJC guidance; Victims' Code: RJ can be asked for at any stage): "
                "for these offences restorative justice is considered only when the victim "
                "asked for it, and the service does not make the first approach.  Default: "
                "sexual offences; a service adds ``OffenceCategory.DOMESTIC_ABUSE`` to treat "
                "domestic abuse the same way.  Empty switches the rule off."
            )
        },
    )
    youth_needs_appropriate_adult: bool = attrs.field(
        default=True,
        metadata={
            "doc": (
                "**practice** (RJC Practitioner Code; youth justice practice): a party under "
                "18 takes part with a parent, guardian or appropriate adult, who is informed "
                "and consents too; the young person's consent is in force for contact only "
                "with theirs."
            )
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

    def is_sensitive(self, category: OffenceCategory) -> bool:
        """True when offences of ``category`` need the sensitive-case safeguards."""
        return category in self.sensitive_categories


#: London CRC's programme: the seed's rules with national practice defaults.
LONDON_CRC = Policy()
