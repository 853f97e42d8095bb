"""rjflow: restorative justice case workflows that explain themselves.

Open a case, ask what may happen next and why not, record sessions and consent, fire
triggers, and keep a verifiable history of every change.  See the README and docs/.
"""

from importlib.metadata import PackageNotFoundError, version

from rjflow.action_names import ActionName, action_name

# -- agreement, enforcement and evaluation (issue 14) --
from rjflow.activities import (
    Acknowledgement,
    ActionStatus,
    Agreement,
    AgreementAction,
    AgreementOutcome,
    Attendance,
    BreachDecision,
    BreachOutcome,
    Closure,
    ClosureReason,
    Conference,
    ConsentDecision,
    ConsentStatus,
    ContactActivity,
    EnforcementStep,
    EnforcementStepKind,
    Feedback,
    FollowUp,
    InformationGiven,
    Letter,
    LetterStatus,
    MaterialChange,
    MaterialChangeKind,
    MessageDirection,
    PartyRequest,
    ProgressUpdate,
    RiskAssessment,
    RiskOutcome,
    RJType,
    Session,
    SessionKind,
    ShuttleMessage,
    Signature,
    SupporterAcceptance,
    VictimUpdate,
    VictimUpdateAbout,
    VictimWish,
)
from rjflow.blocker import Blocker
from rjflow.case import Case, Option
from rjflow.erasure import erase_free_text
from rjflow.errors import (
    ActionRefused,
    CaseExists,
    CaseNotFound,
    ConcurrencyConflict,
    CorruptRecord,
    HistoryTampered,
    IntegrityError,
    InvalidDocument,
    InvalidInput,
    InvalidWorkflow,
    PolicyChanged,
    PolicyMismatch,
    RJFlowError,
    SourceUnavailable,
    StoreUnavailable,
    UnknownAction,
)
from rjflow.freetext import ERASED, ErasedText, ErasureReason
from rjflow.history import Event
from rjflow.integrity import Keyring
from rjflow.offences import Offence, OffenceCategory
from rjflow.parties import (
    Facilitator,
    Offender,
    Party,
    PractitionerLevel,
    Role,
    Staff,
    StaffRole,
    Supporter,
    Victim,
)
from rjflow.policy import LONDON_CRC, Policy, RiskScope
from rjflow.policy_file import PolicyFileError
from rjflow.record import CaseRecord
from rjflow.states import State
from rjflow.workflow import Workflow

try:
    __version__ = version("rjflow")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "ERASED",
    "LONDON_CRC",
    "Acknowledgement",
    "ActionName",
    "ActionRefused",
    "ActionStatus",
    "Agreement",
    "AgreementAction",
    "AgreementOutcome",
    "Attendance",
    "Blocker",
    "BreachDecision",
    "BreachOutcome",
    "Case",
    "CaseExists",
    "CaseNotFound",
    "CaseRecord",
    "Closure",
    "ClosureReason",
    "ConcurrencyConflict",
    "Conference",
    "ConsentDecision",
    "ConsentStatus",
    "ContactActivity",
    "CorruptRecord",
    "EnforcementStep",
    "EnforcementStepKind",
    "ErasedText",
    "ErasureReason",
    "Event",
    "Facilitator",
    "Feedback",
    "FollowUp",
    "HistoryTampered",
    "InformationGiven",
    "IntegrityError",
    "InvalidDocument",
    "InvalidInput",
    "InvalidWorkflow",
    "Keyring",
    "Letter",
    "LetterStatus",
    "MaterialChange",
    "MaterialChangeKind",
    "MessageDirection",
    "Offence",
    "OffenceCategory",
    "Offender",
    "Option",
    "Party",
    "PartyRequest",
    "Policy",
    "PolicyChanged",
    "PolicyFileError",
    "PolicyMismatch",
    "PractitionerLevel",
    "ProgressUpdate",
    "RJFlowError",
    "RJType",
    "RiskAssessment",
    "RiskOutcome",
    "RiskScope",
    "Role",
    "Session",
    "SessionKind",
    "ShuttleMessage",
    "Signature",
    "SourceUnavailable",
    "Staff",
    "StaffRole",
    "State",
    "StoreUnavailable",
    "Supporter",
    "SupporterAcceptance",
    "UnknownAction",
    "Victim",
    "VictimUpdate",
    "VictimUpdateAbout",
    "VictimWish",
    "Workflow",
    "__version__",
    "action_name",
    "erase_free_text",
]
