"""rjflow: restorative justice case workflows that explain themselves.

Open a case, ask what may happen next and why not, record sessions and consent, fire
triggers, and keep a verifiable history of every change.  See the README and docs/.
"""

from importlib.metadata import PackageNotFoundError, version

from rjflow.activities import (
    Acknowledgement,
    ActionStatus,
    Agreement,
    AgreementAction,
    Attendance,
    Closure,
    ClosureReason,
    Conference,
    ConsentDecision,
    ConsentStatus,
    ContactActivity,
    Feedback,
    InformationGiven,
    Letter,
    LetterStatus,
    MaterialChange,
    MaterialChangeKind,
    MessageDirection,
    ProgressUpdate,
    RiskAssessment,
    RiskOutcome,
    Session,
    SessionKind,
    ShuttleMessage,
    Signature,
)
from rjflow.blocker import Blocker
from rjflow.case import Case, Option
from rjflow.errors import (
    ActionRefused,
    ConcurrencyConflict,
    HistoryTampered,
    InvalidDocument,
    InvalidInput,
    InvalidWorkflow,
    RJFlowError,
    UnknownAction,
)
from rjflow.history import Event
from rjflow.offences import Offence, OffenceCategory
from rjflow.parties import (
    Facilitator,
    Offender,
    PractitionerLevel,
    Role,
    Staff,
    StaffRole,
    Supporter,
    Victim,
)
from rjflow.policy import LONDON_CRC, Policy, RiskScope
from rjflow.record import CaseRecord
from rjflow.states import State
from rjflow.workflow import Workflow

try:
    __version__ = version("rjflow")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "LONDON_CRC",
    "Acknowledgement",
    "ActionRefused",
    "ActionStatus",
    "Agreement",
    "AgreementAction",
    "Attendance",
    "Blocker",
    "Case",
    "CaseRecord",
    "Closure",
    "ClosureReason",
    "ConcurrencyConflict",
    "Conference",
    "ConsentDecision",
    "ConsentStatus",
    "ContactActivity",
    "Event",
    "Facilitator",
    "Feedback",
    "HistoryTampered",
    "InformationGiven",
    "InvalidDocument",
    "InvalidInput",
    "InvalidWorkflow",
    "Letter",
    "LetterStatus",
    "MaterialChange",
    "MaterialChangeKind",
    "MessageDirection",
    "Offence",
    "OffenceCategory",
    "Offender",
    "Option",
    "Policy",
    "PractitionerLevel",
    "ProgressUpdate",
    "RJFlowError",
    "RiskAssessment",
    "RiskOutcome",
    "RiskScope",
    "Role",
    "Session",
    "SessionKind",
    "ShuttleMessage",
    "Signature",
    "Staff",
    "StaffRole",
    "State",
    "Supporter",
    "UnknownAction",
    "Victim",
    "Workflow",
    "__version__",
]
