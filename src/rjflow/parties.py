"""The people who take part in a case, known only by opaque ids.

Names and contact details belong in the embedding application; rjflow keeps the role a
person plays, and for facilitators what they are trained to do.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from rjflow._validate import boolean, enum_values, opaque_id, to_enum
from rjflow.errors import InvalidInput
from rjflow.offences import OffenceCategory

__all__ = [
    "Facilitator",
    "Offender",
    "Party",
    "PractitionerLevel",
    "Role",
    "Staff",
    "StaffRole",
    "Supporter",
    "Victim",
]


class Role(enum.Enum):
    """The part a person plays in the case."""

    OFFENDER = "offender"
    VICTIM = "victim"
    SUPPORTER = "supporter"
    FACILITATOR = "facilitator"


class PractitionerLevel(enum.IntEnum):
    """A facilitator's accreditation level (RJC practitioner standards).

    Ordered: ``ADVANCED > INTERMEDIATE > FOUNDATION``.  Foundation practitioners may only
    co-facilitate; a conference is led by an intermediate or advanced practitioner; sensitive
    and complex cases need an advanced one.
    """

    FOUNDATION = 1
    INTERMEDIATE = 2
    ADVANCED = 3

    @property
    def label(self) -> str:
        """The level as a caseworker would say it."""
        return self.name.lower()


def _to_level(value: PractitionerLevel | int | str) -> PractitionerLevel:
    return to_enum(PractitionerLevel, "level", value)


def _to_specialisms(value: Iterable[OffenceCategory | str]) -> frozenset[str]:
    specialisms: frozenset[str] = enum_values(
        OffenceCategory, "specialisms", value, "offence categories"
    )
    return specialisms


#: The help of the fields every participant has (see :mod:`rjflow.forms`).
_UNDER_18 = {"doc": "They are under 18: an appropriate adult takes part with them."}
_INTERPRETER = {"doc": "They need an interpreter at sessions and meetings."}


@attrs.frozen
class Offender:
    """The sentenced person taking part in the programme.

    ``under_18``: a young offender, who takes part with an appropriate adult (a
    :class:`Supporter` with ``appropriate_adult=True``) who consents too.
    ``needs_interpreter``: information and consent need an interpreter.
    """

    id: str = attrs.field(validator=opaque_id)
    role: Role = attrs.field(default=Role.OFFENDER, init=False)
    # -- youth and access (issue 14) --
    under_18: bool = attrs.field(default=False, validator=boolean, kw_only=True, metadata=_UNDER_18)
    needs_interpreter: bool = attrs.field(
        default=False, validator=boolean, kw_only=True, metadata=_INTERPRETER
    )


@attrs.frozen
class Victim:
    """A person harmed by the offence.

    ``requested_rj`` records that the victim asked for restorative justice before the
    referral; a victim who asks later is recorded with ``Case.record_request``.  Either way,
    for the offence categories in ``Policy.victim_request_required_for`` (sexual harm by
    default) the service approaches a victim only once they asked.

    ``under_18``: the victim is a child; they take part with an appropriate adult (a
    :class:`Supporter` with ``appropriate_adult=True``) who consents too.
    ``needs_interpreter``: information and consent need an interpreter.
    """

    id: str = attrs.field(
        validator=opaque_id,
        metadata={"doc": "Their reference on your system, such as V1 or F1 (never their name)."},
    )
    requested_rj: bool = attrs.field(
        default=False,
        validator=boolean,
        metadata={"doc": "The victim asked for restorative justice themselves."},
    )
    role: Role = attrs.field(default=Role.VICTIM, init=False)
    # -- youth and access (issue 14) --
    under_18: bool = attrs.field(default=False, validator=boolean, kw_only=True, metadata=_UNDER_18)
    needs_interpreter: bool = attrs.field(
        default=False, validator=boolean, kw_only=True, metadata=_INTERPRETER
    )


@attrs.frozen
class Supporter:
    """Someone who accompanies a victim or the offender; ``supports`` is that party's id.

    A supporter is a participant: they are given information and consent to a face-to-face
    meeting before they attend, and the side they do not support accepts them (RJC Service
    Provider Code).  ``appropriate_adult`` marks the parent, guardian or appropriate adult of
    a party under 18, who consents to each activity alongside them.
    """

    id: str = attrs.field(
        validator=opaque_id,
        metadata={"doc": "Their reference on your system, such as V1 or F1 (never their name)."},
    )
    supports: str = attrs.field(
        validator=opaque_id,
        metadata={"doc": "The id of the participant they support (the offender or a victim)."},
    )
    role: Role = attrs.field(default=Role.SUPPORTER, init=False)
    # -- youth and access (issue 14) --
    appropriate_adult: bool = attrs.field(
        default=False,
        validator=boolean,
        kw_only=True,
        metadata={"doc": "They are the appropriate adult of a participant under 18."},
    )
    needs_interpreter: bool = attrs.field(
        default=False, validator=boolean, kw_only=True, metadata=_INTERPRETER
    )


@attrs.frozen
class Facilitator:
    """A trained restorative justice facilitator.

    ``specialisms`` names the sensitive offence areas the facilitator has specialist
    training for: a list or set of ``OffenceCategory`` members, values or labels (never one
    bare string), kept as the categories' values, e.g. ``frozenset({"domestic_abuse"})``.
    ``level`` is a :class:`PractitionerLevel`, its number or its label (``"advanced"``).

    >>> lead = Facilitator("F1", "advanced", ["Domestic abuse"])
    >>> lead.level, lead.specialisms
    (<PractitionerLevel.ADVANCED: 3>, frozenset({'domestic_abuse'}))
    """

    id: str = attrs.field(
        validator=opaque_id,
        metadata={"doc": "Their reference on your system, such as V1 or F1 (never their name)."},
    )
    level: PractitionerLevel = attrs.field(
        default=PractitionerLevel.INTERMEDIATE,
        converter=_to_level,
        metadata={"doc": "Their practitioner level: foundation, intermediate or advanced."},
    )
    specialisms: frozenset[str] = attrs.field(
        default=frozenset(),
        converter=_to_specialisms,
        metadata={"doc": "The sensitive offence areas they have specialist training for."},
    )
    role: Role = attrs.field(default=Role.FACILITATOR, init=False)


# -- staff roles (issue 14, D2) ---------------------------------------------------------------


class StaffRole(enum.Enum):
    """A role a member of staff holds on a case; the workflow table names, for each action,
    the roles that may take it.

    Every facilitator on the case holds ``FACILITATOR``; the facilitator assigned as lead holds
    ``LEAD_FACILITATOR`` too.  Managers (supervisors) and administrators are :class:`Staff`
    parties.  The offender, victims and supporters hold no role: they are never the actor of
    a staff action.
    """

    FACILITATOR = "facilitator"
    LEAD_FACILITATOR = "lead_facilitator"
    MANAGER = "manager"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        """The role as a caseworker would say it."""
        return self.value.replace("_", " ")


def _to_staff_role(value: StaffRole | str) -> StaffRole:
    role = to_enum(StaffRole, "role", value)
    if role not in (StaffRole.MANAGER, StaffRole.ADMINISTRATOR):
        raise InvalidInput(
            "A staff member's role is manager or administrator; facilitators are added as "
            "Facilitator parties, and the lead is assigned with assign_lead_facilitator."
        )
    return role


@attrs.frozen
class Staff:
    """A member of staff on the case who is not a facilitator: a manager (supervisor), who
    approves enhanced risk assessments, or an administrator.

    >>> Staff("M1", StaffRole.MANAGER).role
    <StaffRole.MANAGER: 'manager'>
    """

    id: str = attrs.field(
        validator=opaque_id,
        metadata={"doc": "Their reference on your system, such as V1 or F1 (never their name)."},
    )
    role: StaffRole = attrs.field(converter=_to_staff_role)


# -- end of staff roles ------------------------------------------------------------------------

#: Any party to a case.
Party = Offender | Victim | Supporter | Facilitator | Staff
