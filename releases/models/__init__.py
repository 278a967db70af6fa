from releases.models.calendar import CalendarFeedToken
from releases.models.releases import (
    TRANSITIONS,
    ChangeItem,
    Deployment,
    DeploymentStatus,
    Release,
    ReleaseEvent,
    ReleaseKind,
    ReleaseStatus,
)
from releases.models.trains import (
    BlackoutPeriod,
    DepartureException,
    DepartureLog,
    DepartureOutcome,
    EmptyDeparturePolicy,
    ExceptionKind,
    Train,
)

__all__ = [
    "TRANSITIONS",
    "BlackoutPeriod",
    "CalendarFeedToken",
    "ChangeItem",
    "DepartureException",
    "DepartureLog",
    "DepartureOutcome",
    "Deployment",
    "DeploymentStatus",
    "EmptyDeparturePolicy",
    "ExceptionKind",
    "Release",
    "ReleaseEvent",
    "ReleaseKind",
    "ReleaseStatus",
    "Train",
]
