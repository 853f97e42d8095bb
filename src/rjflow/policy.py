"""The programme's configurable values.

The default :class:`Policy` is London CRC's programme (the seed).  A youth justice service, a
police-led scheme or a prison changes values here, never code.  Each field's docstring says
where its default comes from: **seed** (London CRC's programme page) or **practice** (RJC
codes and standards, the Victims' Code); *inferred* where no source fixed a number.
"""

from __future__ import annotations

import enum
import functools
import os
from collections.abc import Mapping
from datetime import timedelta
from importlib import resources
from types import MappingProxyType
from typing import Any

import attrs

from rjflow import policy_file
from rjflow._validate import (
    boolean,
    enum_members,
    plain_timedelta,
    shown,
    to_enum,
    valid_text,
    whole_number,
)
from rjflow.errors import InvalidInput
from rjflow.offences import OffenceCategory
from rjflow.parties import PractitionerLevel

__all__ = [
    "EXAMPLES",
    "LONDON_CRC",
    "Policy",
    "PolicyFile",
    "RiskScope",
    "example_policy",
    "file_settings",
    "file_values",
    "policy_schema",
    "read_policy_file",
]

_SENSITIVE = frozenset(
    {
        OffenceCategory.DOMESTIC_ABUSE,
        OffenceCategory.SEXUAL_OFFENCE,
        OffenceCategory.STALKING,
        OffenceCategory.TRAFFICKING,
        OffenceCategory.HATE_CRIME,
    }
)


def _whole(_inst: object, attribute: attrs.Attribute[int], value: object) -> None:
    whole_number(f"Policy.{attribute.name}", value, minimum=1)


def _to_int(value: object) -> object:
    # An int subclass (an IntEnum, say) becomes a plain int: one canonical form per policy.
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _nonnegative(_inst: object, attribute: attrs.Attribute[int], value: object) -> None:
    whole_number(f"Policy.{attribute.name}", value, minimum=0)


def _positive_duration(_inst: object, attribute: attrs.Attribute[timedelta], value: object) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0) or value.microseconds:
        raise InvalidInput(
            f"Policy.{attribute.name} must be a positive timedelta of whole seconds, for "
            f"example timedelta(hours=3) (got {shown(value)})."
        )


_OF = "offence categories"

# One named converter per field, so that each message names its field (mypy's attrs plugin
# needs named functions).


def _conference_categories(value: object) -> frozenset[OffenceCategory]:
    return enum_members(OffenceCategory, "Policy.conference_categories", value, _OF)


def _sensitive_categories(value: object) -> frozenset[OffenceCategory]:
    return enum_members(OffenceCategory, "Policy.sensitive_categories", value, _OF)


def _excluded_categories(value: object) -> frozenset[OffenceCategory]:
    return enum_members(OffenceCategory, "Policy.excluded_with_ongoing_contact", value, _OF)


def _request_categories(value: object) -> frozenset[OffenceCategory]:
    return enum_members(OffenceCategory, "Policy.victim_request_required_for", value, _OF)


def _lead_level(value: object) -> PractitionerLevel:
    return to_enum(PractitionerLevel, "Policy.min_lead_level", value)


def _sensitive_lead_level(value: object) -> PractitionerLevel:
    return to_enum(PractitionerLevel, "Policy.min_sensitive_lead_level", value)


def _name(_inst: object, _attribute: object, value: object) -> None:
    # Any text but lone surrogates: the renderers escape what they show (a name is the
    # service's own label, not a caseworker's note).
    valid_text("Policy.name", value, max_length=200, controls=True)
    if not value.strip():  # type: ignore[attr-defined]
        raise InvalidInput("Policy.name must not be blank; name the service's programme.")


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

    Every value is checked and normalised when the policy is built, so that equal policies
    have one form (and one fingerprint) in every process: whole numbers are plain ``int``
    (never ``True``/``False``), switches are ``bool``, levels are :class:`PractitionerLevel`
    members (given as a member, its number or its label), offence categories are frozensets of
    :class:`OffenceCategory` (members, values or labels; never one bare string), durations
    whole seconds.  A wrong value raises :class:`~rjflow.InvalidInput` naming the field.

    >>> from rjflow import Policy
    >>> Policy().max_sessions, Policy().max_session_length
    (12, datetime.timedelta(seconds=10800))
    >>> youth = Policy(name="Youth justice", max_sessions=8)
    >>> youth.max_sessions
    8
    >>> Policy(min_lead_level=2) == Policy(min_lead_level="intermediate")
    True
    """

    name: str = attrs.field(
        default="London CRC restorative justice programme",
        validator=_name,
        metadata={
            "doc": (
                "A name for the policy, shown by ``rjflow policy``, in diagrams and in the "
                "blocker for an activity the policy does not offer: a service's label, never "
                "personal data (text without lone surrogates, at most 200 characters)."
            )
        },
    )
    max_sessions: int = attrs.field(
        default=12,
        converter=_to_int,
        validator=_whole,
        metadata={
            "doc": "**seed**: the programme consists of twelve sessions (attended sessions count)."
        },
    )
    max_session_length: timedelta = attrs.field(
        default=timedelta(hours=3),
        converter=plain_timedelta,
        validator=_positive_duration,
        metadata={"doc": "**seed**: each session lasts up to three hours."},
    )
    conference_categories: frozenset[OffenceCategory] = attrs.field(
        default=frozenset({OffenceCategory.VIOLENCE, OffenceCategory.HOUSEHOLD_BURGLARY}),
        converter=_conference_categories,
        metadata={
            "doc": "**seed**: a conference only for a violent offence or household burglary ..."
        },
    )
    conference_for_direct_personal_harm: bool = attrs.field(
        default=True,
        validator=boolean,
        metadata={"doc": "**seed**: ... or an offence where direct personal harm was caused."},
    )
    sensitive_categories: frozenset[OffenceCategory] = attrs.field(
        default=_SENSITIVE,
        converter=_sensitive_categories,
        metadata={"doc": "**practice**: sensitive and complex offences need heightened judgement."},
    )
    excluded_with_ongoing_contact: frozenset[OffenceCategory] = attrs.field(
        default=frozenset({OffenceCategory.DOMESTIC_ABUSE, OffenceCategory.SEXUAL_OFFENCE}),
        converter=_excluded_categories,
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
        converter=_request_categories,
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
        validator=boolean,
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
        converter=_lead_level,
        metadata={
            "doc": (
                "**practice**: a direct process is led by an intermediate or advanced practitioner."
            )
        },
    )
    min_sensitive_lead_level: PractitionerLevel = attrs.field(
        default=PractitionerLevel.ADVANCED,
        converter=_sensitive_lead_level,
        metadata={
            "doc": "**practice**: sensitive and complex cases need an advanced practitioner."
        },
    )
    sensitive_needs_specialism: bool = attrs.field(
        default=True,
        validator=boolean,
        metadata={
            "doc": (
                "**practice**, *inferred*: the lead of a sensitive case has specialist "
                "training in that offence area (``Facilitator.specialisms``)."
            )
        },
    )
    information_before_consent: bool = attrs.field(
        default=True,
        validator=boolean,
        metadata={"doc": "**practice**: participants are informed before consent is recorded."},
    )
    require_guilty_plea: bool = attrs.field(
        default=True,
        validator=boolean,
        metadata={
            "doc": (
                "**practice (London CRC)**: a guilty plea as well as acknowledging responsibility."
            )
        },
    )
    enforcement_window: timedelta = attrs.field(
        default=timedelta(days=365),
        converter=plain_timedelta,
        validator=_positive_duration,
        metadata={
            "doc": (
                "**law** (Sentencing Act 2020, Sch. 10): a first unacceptable absence gives a "
                "warning; another within this window of a warning is referred for breach (12 "
                "months)."
            )
        },
    )
    min_review_sessions: int = attrs.field(
        default=1,
        converter=_to_int,
        validator=_whole,
        metadata={
            "doc": (
                "*inferred*: review sessions needed to complete a case with no binding agreement."
            )
        },
    )
    conference_enabled: bool = attrs.field(
        default=True,
        validator=boolean,
        metadata={"doc": "**seed**: the face-to-face conference is offered."},
    )
    letter_enabled: bool = attrs.field(
        default=True,
        validator=boolean,
        metadata={
            "doc": (
                "**seed**: a letter of apology is offered where the victim does not wish to meet."
            )
        },
    )
    shuttle_enabled: bool = attrs.field(
        default=True,
        validator=boolean,
        metadata={
            "doc": (
                "**seed**: shuttle discussions are offered where the victim does not wish to meet."
            )
        },
    )
    # -- agreement and sessions (issue 14) --
    facilitator_signs_agreement: bool = attrs.field(
        default=True,
        validator=boolean,
        metadata={
            "doc": (
                '**seed**: the outcome agreement is "signed by all parties": the lead '
                "facilitator signs it too."
            )
        },
    )
    min_introduction_sessions: int = attrs.field(
        default=1,
        converter=_to_int,
        validator=_nonnegative,
        metadata={"doc": "**seed**: attended introduction sessions before preparation."},
    )
    min_preparation_sessions: int = attrs.field(
        default=1,
        converter=_to_int,
        validator=_nonnegative,
        metadata={"doc": "**seed**: attended preparation sessions before an activity."},
    )
    min_conference_sessions: int = attrs.field(
        default=1,
        converter=_to_int,
        validator=_nonnegative,
        metadata={
            "doc": ("**seed**: conference sessions before reviews; the conference itself is one.")
        },
    )
    min_letter_sessions: int = attrs.field(
        default=1,
        converter=_to_int,
        validator=_nonnegative,
        metadata={"doc": "*inferred*: attended letter-writing sessions before reviews."},
    )
    min_shuttle_sessions: int = attrs.field(
        default=1,
        converter=_to_int,
        validator=_nonnegative,
        metadata={"doc": "*inferred*: attended shuttle mediation sessions before reviews."},
    )
    required_sessions: int = attrs.field(
        default=0,
        converter=_to_int,
        validator=_nonnegative,
        metadata={
            "doc": (
                "**seed** (*inferred as a minimum*): attended sessions needed to complete the "
                "programme; 0 means no total minimum, at most ``max_sessions``."
            )
        },
    )

    @required_sessions.validator
    def _check_required(self, _attribute: object, value: int) -> None:
        if value > self.max_sessions:
            raise InvalidInput(
                f"Policy.required_sessions ({value}) cannot be more than Policy.max_sessions "
                f"({self.max_sessions}); lower it or raise max_sessions."
            )

    def min_sessions_in(self, stage: str) -> int:
        """The attended sessions the stage called ``stage`` (a ``State`` value) needs before
        the case moves on; 0 for a stage without sessions."""
        return {
            "introduction": self.min_introduction_sessions,
            "preparation": self.min_preparation_sessions,
            "conference": self.min_conference_sessions,
            "letter_of_apology": self.min_letter_sessions,
            "shuttle_mediation": self.min_shuttle_sessions,
            "review": self.min_review_sessions,
        }.get(stage, 0)

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

    # -- deadlines (issue 13): when things fall due; rjflow.deadlines reads them ------------
    # They judge no action (metadata judges=False), so they stay out of the policy's
    # fingerprint: a record sealed before they existed, or under other values, still loads.
    first_contact_within: timedelta = attrs.field(
        default=timedelta(days=10),
        converter=plain_timedelta,
        validator=_positive_duration,
        metadata={
            "judges": False,
            "doc": (
                "**practice**, *inferred number*: each victim is contacted this soon after the "
                "referral (or after joining the case); the Victims' Code gives victims a right "
                "to information about restorative justice, and the RJC Service Provider Code "
                "asks services to set and monitor their timescales, but no national number "
                "exists.  Not for offences where the service waits for the victim to ask."
            ),
        },
    )
    idle_after: timedelta = attrs.field(
        default=timedelta(days=28),
        converter=plain_timedelta,
        validator=_positive_duration,
        metadata={
            "judges": False,
            "doc": (
                "*inferred*: an open case with no recorded activity for this long is flagged "
                "(RJC Service Provider Code: cases are supervised and progress is monitored)."
            ),
        },
    )
    review_every: timedelta = attrs.field(
        default=timedelta(days=28),
        converter=plain_timedelta,
        validator=_positive_duration,
        metadata={
            "judges": False,
            "doc": (
                "**seed** (reviews of progress on the agreement), *inferred number*: the next "
                "review falls due this long after the last attended review session, or after "
                "reviews started."
            ),
        },
    )
    breach_outcome_within: timedelta = attrs.field(
        default=timedelta(days=28),
        converter=plain_timedelta,
        validator=_positive_duration,
        metadata={
            "judges": False,
            "doc": (
                "*inferred*: the court's outcome of a referral for breach (Sentencing Act "
                "2020, Sch. 10) is expected, and recorded, this soon after the referral."
            ),
        },
    )
    due_soon_within: timedelta = attrs.field(
        default=timedelta(days=7),
        converter=plain_timedelta,
        validator=_positive_duration,
        metadata={
            "judges": False,
            "doc": (
                "*inferred*: an obligation whose due time is this close is shown as due rather "
                "than upcoming (``rjflow.deadlines``)."
            ),
        },
    )

    def is_sensitive(self, category: OffenceCategory) -> bool:
        """True when offences of ``category`` need the sensitive-case safeguards."""
        return category in self.sensitive_categories

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Policy:
        """The policy a service's TOML file describes (issue 12; ``docs/configuring.md``).

        Keys the file does not set keep London CRC's defaults.  Raises
        :class:`~rjflow.policy_file.PolicyFileError` (a ``ValueError``) naming the file, the
        key, its line, the kind of the bad value and the allowed values; and
        :class:`~rjflow.SourceUnavailable` when the file cannot be read.

        >>> import pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "youth.toml").write_text("max_sessions = 8")
        >>> Policy.from_toml(folder / "youth.toml").max_sessions
        8
        """
        return read_policy_file(path).policy


#: The policy values that judge no action, only schedule (``metadata["judges"]`` False: the
#: deadlines of issue 13).  A sealed record does not depend on them, so the policy's
#: fingerprint leaves them out (see ``rjflow.serialization``).
SCHEDULING_FIELDS: frozenset[str] = frozenset(
    a.name for a in attrs.fields(Policy) if a.metadata.get("judges") is False
)

#: London CRC's programme: the seed's rules with national practice defaults.
LONDON_CRC = Policy()


# -- policy files (issue 12) ----------------------------------------------------------------------


def _setting(field: attrs.Attribute[Any]) -> policy_file.Setting:
    """The file setting of one ``Policy`` field, derived from its default and validator."""
    default = field.default
    doc = field.metadata.get("doc", "")
    kind = policy_file.Kind
    if isinstance(default, bool):
        return policy_file.Setting(kind.SWITCH, doc, default=default)
    if isinstance(default, PractitionerLevel):
        return policy_file.Setting(kind.LEVEL, doc, default=default.label)
    if isinstance(default, int):
        minimum = 1 if field.validator is _whole else 0
        return policy_file.Setting(kind.WHOLE, doc, default=int(default), minimum=minimum)
    if isinstance(default, timedelta):
        return policy_file.Setting(kind.DURATION, doc, default=_duration_data(default))
    if isinstance(default, frozenset):
        return policy_file.Setting(kind.CATEGORIES, doc, default=sorted(c.value for c in default))
    if isinstance(default, RiskScope):
        choices = tuple(s.value for s in RiskScope)
        return policy_file.Setting(kind.CHOICE, doc, choices, default=default.value)
    if isinstance(default, str):
        return policy_file.Setting(kind.TEXT, doc, default=default)
    raise TypeError(f"Policy.{field.name} has no file form")  # pragma: no cover - a new type


def _duration_data(value: timedelta) -> dict[str, int]:
    """A duration as the largest whole unit that writes it exactly: ``{"days": 90}``."""
    seconds = int(value.total_seconds())
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds % size == 0:
            return {unit: seconds // size}
    return {"seconds": seconds}


@functools.cache
def file_settings() -> Mapping[str, policy_file.Setting]:
    """Every key a policy file may set: one per ``Policy`` field, derived from the class."""
    return MappingProxyType({f.name: _setting(f) for f in attrs.fields(Policy)})


@attrs.frozen
class PolicyFile:
    """A policy read from a file: the ``policy``, the keys the file set (``from_file``; every
    other value is the default) and the line each stands on (``lines``)."""

    policy: Policy
    from_file: frozenset[str]
    lines: Mapping[str, int]


def read_policy_file(path: str | os.PathLike[str]) -> PolicyFile:
    """The policy a TOML file describes, with where each value came from (see
    :meth:`Policy.from_toml` for the errors raised)."""
    raw = policy_file.read(path, file_settings())
    # The policy refuses one value at a time: each refused value is noted and left out, and
    # the rest tried again (with the file's other values, so that a rule between two values
    # judges the file's), so that one reading names every value to mend, in the file's order.
    values = dict(raw.values)
    problems: list[policy_file.PolicyFileError] = []
    while True:
        try:
            policy = Policy(**values)
        except InvalidInput as exc:
            problems.append(problem := _refused(exc, raw, values))
            if problem.key in values:  # one value's fault: try the others without it
                del values[problem.key]
                continue
        break
    if not problems:
        return PolicyFile(policy, frozenset(raw.values), raw.lines)
    problems.sort(key=lambda p: p.line if p.line is not None else 0)
    first, *others = problems
    raise policy_file.PolicyFileError(
        first.code,
        first.problem,
        file=raw.file,
        key=first.key,
        line=first.line,
        also=tuple(others),
    )


def _refused(
    exc: InvalidInput, raw: policy_file.RawPolicyFile, given: Mapping[str, Any]
) -> policy_file.PolicyFileError:
    """The policy's refusal of ``given`` (values of the file) as the file's problem."""
    key = _named_setting(str(exc), given)
    return policy_file.PolicyFileError(
        policy_file.FileCode.INVALID_VALUE,
        _without_field(str(exc)),
        file=raw.file,
        key=key,
        line=raw.lines.get(key) if key is not None else None,
    )


def file_values(policy: Policy) -> dict[str, Any]:
    """``policy`` as policy-file data (every key, in the class's order): what
    :func:`rjflow.policy_file.to_toml` writes and :meth:`Policy.from_toml` reads back equal.

    >>> file_values(Policy())["max_session_length"]
    {'hours': 3}
    """
    values: dict[str, Any] = {}
    for field in attrs.fields(Policy):
        value = getattr(policy, field.name)
        if isinstance(value, bool | str):
            values[field.name] = value
        elif isinstance(value, PractitionerLevel):
            values[field.name] = value.label
        elif isinstance(value, int):
            values[field.name] = int(value)
        elif isinstance(value, timedelta):
            values[field.name] = _duration_data(value)
        elif isinstance(value, frozenset):
            values[field.name] = sorted(c.value for c in value)
        else:
            values[field.name] = value.value
    return values


#: The example policy files shipped in the package (``rjflow/policies/<name>.toml``): clearly
#: labelled examples for other kinds of service, each naming its sources.  London CRC's
#: programme (:data:`LONDON_CRC`) stays the default.
EXAMPLES = ("police-out-of-court", "prison", "youth")


def example_policy(name: str) -> PolicyFile:
    """The shipped example called ``name`` (one of :data:`EXAMPLES`), read like any file.

    >>> example_policy("youth").policy.youth_needs_appropriate_adult
    True

    Raises :class:`~rjflow.InvalidInput` for a name not in :data:`EXAMPLES`.
    """
    if name not in EXAMPLES:
        raise InvalidInput(f"'name' must be one of {', '.join(map(repr, EXAMPLES))}.")
    with resources.as_file(resources.files("rjflow") / "policies" / f"{name}.toml") as path:
        return read_policy_file(path)


def policy_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a policy file, generated from :class:`Policy`.

    The same schema ships as ``rjflow/schema/policy-v1.json`` (``docs/policy-schema.md``
    publishes it); ``tests/test_policy_file.py`` fails when either is stale and says how to
    regenerate them.
    """
    return policy_file.json_schema(file_settings())


def _named_setting(message: str, given: Mapping[str, Any]) -> str | None:
    """The first of the file's keys the policy's message names (``Policy.max_sessions``)."""
    spots = [(message.find(f"Policy.{k}"), k) for k in given if f"Policy.{k}" in message]
    spots += [(message.find(f"'{k}'"), k) for k in given if f"'{k}'" in message]
    return min(spots)[1] if spots else None


def _without_field(message: str) -> str:
    """The policy's message, with its first word lowered to follow the file's location."""
    return message[:1].lower() + message[1:] if message[:1] == "A" else message
