"""The offence a case is about: its category and the facts that decide eligibility.

The offence narrative is personal data and has no place here; the category and two flags
are all the rules need.
"""

from __future__ import annotations

import enum

import attrs

from rjflow._validate import boolean, to_enum

__all__ = ["Offence", "OffenceCategory"]


class OffenceCategory(enum.Enum):
    """Broad offence categories, as the programme's rules need them."""

    VIOLENCE = "violence"
    HOUSEHOLD_BURGLARY = "household_burglary"
    ROBBERY = "robbery"
    THEFT = "theft"
    CRIMINAL_DAMAGE = "criminal_damage"
    FRAUD = "fraud"
    PUBLIC_ORDER = "public_order"
    DRUGS = "drugs"
    MOTORING = "motoring"
    DOMESTIC_ABUSE = "domestic_abuse"
    SEXUAL_OFFENCE = "sexual_offence"
    STALKING = "stalking"
    TRAFFICKING = "trafficking"
    HATE_CRIME = "hate_crime"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The category as a caseworker would say it."""
        return self.value.replace("_", " ")


def _to_category(value: object) -> OffenceCategory:
    return to_enum(OffenceCategory, "category", value)


@attrs.frozen
class Offence:
    """The offence the offender was sentenced for.

    ``direct_personal_harm``: the offence caused direct personal harm to the victim (the
    seed's third conference ground).  ``ongoing_contact``: offender and victim are likely to
    stay in contact (London CRC's exclusion for domestic abuse and sexual offences).
    """

    category: OffenceCategory = attrs.field(converter=_to_category)
    direct_personal_harm: bool = attrs.field(default=False, validator=boolean)
    ongoing_contact: bool = attrs.field(default=False, validator=boolean)
