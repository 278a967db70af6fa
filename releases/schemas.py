"""Request and response shapes of the trains and releases API: the OpenAPI document's schemas.

Inputs refuse unknown fields (a typo like "rule" for "rrule" is a 400, not silently ignored) and
strip surrounding whitespace. Outputs are built explicitly by the `build()` class methods, which
render every time in the train's own timezone, with its offset ("2026-12-01T14:00:00+01:00").
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, tzinfo
from typing import Literal

from ninja import Field, Schema
from pydantic import AwareDatetime, ConfigDict

from releases.departures import Departure
from releases.models import (
    ChangeItem,
    Deployment,
    DeploymentStatus,
    EmptyDeparturePolicy,
    Release,
    ReleaseEvent,
    ReleaseKind,
    ReleaseStatus,
    Train,
)
from releases.models.trains import TRAIN_COLOURS
from releases.services.trains import TrainFields
from releases.timetable import VersionScheme, zone

Colour = Literal[*(key for key, _ in TRAIN_COLOURS)]
VersionSchemeName = Literal[*(key for key, _ in VersionScheme.CHOICES)]
EmptyDeparture = Literal[*EmptyDeparturePolicy.values]
StatusName = Literal[*ReleaseStatus.values]
Kind = Literal[*ReleaseKind.values]
EventKind = Literal[*ReleaseEvent.Kind.values]
DeploymentState = Literal[*DeploymentStatus.values]

# The service's defaults are the truth; the schemas only document them.
_TRAIN_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainFields)}

_INPUT = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _local(moment: datetime | None, tz: tzinfo) -> datetime | None:
    return moment.astimezone(tz) if moment is not None else None


def _username(user) -> str | None:
    return user.username if user is not None else None


# --- errors ---------------------------------------------------------------------------------


class ErrorOut(Schema):
    """Every error. `errors` maps each invalid field to its messages (400 only)."""

    detail: str = Field(examples=["The request has invalid fields."])
    errors: dict[str, list[str]] | None = Field(
        None, examples=[{"rrule": ["This timetable has no future departure."]}]
    )


# --- trains ---------------------------------------------------------------------------------

_RRULE_HELP = (
    "RFC 5545 recurrence rule, evaluated in `timezone` from `starts_on`, without DTSTART. "
    "A departure at 14:00 stays at 14:00 local time across DST changes."
)


class TrainCreateIn(Schema):
    model_config = ConfigDict(
        **_INPUT,
        json_schema_extra={
            "examples": [
                {
                    "team": "checkout",
                    "name": "Checkout web",
                    "rrule": "FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;BYMINUTE=0",
                    "timezone": "Europe/Berlin",
                    "starts_on": "2026-12-01",
                    "release_lead_hours": 24,
                }
            ]
        },
    )

    team: str = Field(description="Slug of one of your teams.", examples=["checkout"])
    name: str = Field(max_length=100, examples=["Checkout web"])
    rrule: str = Field(
        max_length=500,
        description=_RRULE_HELP,
        examples=["FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;BYMINUTE=0"],
    )
    timezone: str = Field(description="IANA timezone of the timetable.", examples=["Europe/Berlin"])
    starts_on: date = Field(description="First day the timetable applies.")
    description: str = _TRAIN_DEFAULTS["description"]
    slug: str = Field(
        _TRAIN_DEFAULTS["slug"],
        max_length=100,
        description="Unique in the team; made from the name when empty.",
    )
    colour: Colour = _TRAIN_DEFAULTS["colour"]
    freeze_lead_hours: int = Field(
        _TRAIN_DEFAULTS["freeze_lead_hours"],
        ge=0,
        description="Code freeze starts this many hours before the cut.",
    )
    release_lead_hours: int = Field(
        _TRAIN_DEFAULTS["release_lead_hours"],
        ge=0,
        description="Hours from the cut to the target release time.",
    )
    version_scheme: VersionSchemeName = Field(
        _TRAIN_DEFAULTS["version_scheme"],
        description="semver_minor: 4.11.0 → 4.12.0; semver_patch: 4.11.2 → 4.11.3; "
        "calver: YYYY.MM.N.",
    )
    initial_version: str = Field(
        _TRAIN_DEFAULTS["initial_version"],
        max_length=32,
        description="The first release's version (SemVer schemes).",
    )
    empty_departure: EmptyDeparture = Field(
        _TRAIN_DEFAULTS["empty_departure"],
        description="When nothing is ready at departure time: depart_empty (a release without "
        "changes) or skip (no release); either way it is recorded.",
    )
    reminder_hours: list[int] = Field(
        default_factory=lambda: [24, 1],
        description="Remind the departure's captain this many hours before each cut (up to 5).",
    )


class TrainUpdateIn(Schema):
    """Any subset of the train's settings; what is left out keeps its value. `null` is refused."""

    model_config = ConfigDict(
        **_INPUT,
        json_schema_extra={"examples": [{"rrule": "FREQ=WEEKLY;BYDAY=WE;BYHOUR=10;BYMINUTE=30"}]},
    )

    # Typed without `| None` on purpose: leaving a field out keeps it, sending null is an error.
    name: str = Field(None, max_length=100)
    rrule: str = Field(None, max_length=500, description=_RRULE_HELP)
    timezone: str = Field(None, description="IANA timezone of the timetable.")
    starts_on: date = None
    description: str = None
    slug: str = Field(None, max_length=100, description="Empty: made from the name again.")
    colour: Colour = None
    freeze_lead_hours: int = Field(None, ge=0)
    release_lead_hours: int = Field(None, ge=0)
    version_scheme: VersionSchemeName = None
    initial_version: str = Field(None, max_length=32)
    empty_departure: EmptyDeparture = None
    reminder_hours: list[int] = None


class TrainOut(Schema):
    id: int
    team: str = Field(description="The team's slug.", examples=["checkout"])
    name: str
    slug: str
    description: str
    colour: Colour
    rrule: str = Field(examples=["FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;BYMINUTE=0"])
    timezone: str = Field(examples=["Europe/Berlin"])
    starts_on: date
    freeze_lead_hours: int
    release_lead_hours: int
    version_scheme: VersionSchemeName
    initial_version: str
    empty_departure: EmptyDeparture
    reminder_hours: list[int]
    is_paused: bool = Field(description="Change it on the train's page.")
    next_departures: list[datetime] = Field(
        description="Read-only. The next 5 departures that really leave (skips, postponements "
        "and blackouts applied), in the train's timezone with its offset. Empty while paused.",
        examples=[["2026-12-01T14:00:00+01:00", "2026-12-08T14:00:00+01:00"]],
        json_schema_extra={"readOnly": True},
    )

    @classmethod
    def build(cls, train: Train, departures: list[Departure]) -> TrainOut:
        tz = zone(train.timezone)
        return cls(
            id=train.pk,
            team=train.team.slug,
            name=train.name,
            slug=train.slug,
            description=train.description,
            colour=train.colour,
            rrule=train.rrule,
            timezone=train.timezone,
            starts_on=train.starts_on,
            freeze_lead_hours=train.freeze_lead_hours,
            release_lead_hours=train.release_lead_hours,
            version_scheme=train.version_scheme,
            initial_version=train.initial_version,
            empty_departure=train.empty_departure,
            reminder_hours=train.reminder_hours,
            is_paused=train.is_paused,
            next_departures=[d.departs_at.astimezone(tz) for d in departures],
        )


class TrainRef(Schema):
    id: int
    slug: str = Field(examples=["checkout-web"])
    name: str = Field(examples=["Checkout web"])
    team: str = Field(description="The team's slug.", examples=["checkout"])
    timezone: str = Field(
        description="Times of this release are given in this timezone.", examples=["Europe/Berlin"]
    )

    @classmethod
    def build(cls, train: Train) -> TrainRef:
        return cls(
            id=train.pk,
            slug=train.slug,
            name=train.name,
            team=train.team.slug,
            timezone=train.timezone,
        )


class CutNowIn(Schema):
    model_config = ConfigDict(**_INPUT, json_schema_extra={"examples": [{"note": "Payment fix"}]})

    note: str = Field("", description="Why the train leaves outside its timetable.")


# --- change items ---------------------------------------------------------------------------


class ChangeItemIn(Schema):
    model_config = ConfigDict(
        **_INPUT,
        json_schema_extra={
            "examples": [
                {
                    "title": "Faster checkout button",
                    "link": "https://git.example.com/shop/pulls/812",
                    "ready": True,
                    "external_id": "PR-812",
                    "author": "Dana",
                }
            ]
        },
    )

    title: str = Field(max_length=200)
    link: str = Field("", max_length=500, description="A URL, e.g. the pull request.")
    ready: bool = Field(False, description="Ready changes board the next departure.")
    external_id: str = Field(
        "",
        max_length=100,
        description="Your id for the change (PR number, commit). Sending the same id again "
        "updates that change (title, link, ready, author) instead of adding another.",
    )
    author: str = Field("", max_length=100, description="Who wrote the change, as CI knows it.")


class ChangeItemPatchIn(Schema):
    model_config = ConfigDict(**_INPUT, json_schema_extra={"examples": [{"ready": True}]})

    ready: bool


class ChangeItemOut(Schema):
    id: int
    train: int = Field(description="The train's id.")
    release: int | None = Field(description="The release it departed with; null while waiting.")
    title: str
    link: str
    ready: bool
    author: str = Field(description="The author as sent by CI; may be empty.")
    added_by: str | None = Field(description="Username of who added it (the token's user).")
    external_id: str
    carried_over: int = Field(description="How many departures left without it.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def build(cls, item: ChangeItem, tz: tzinfo) -> ChangeItemOut:
        return cls(
            id=item.pk,
            train=item.train_id,
            release=item.release_id,
            title=item.title,
            link=item.link,
            ready=item.is_ready,
            author=item.author_name,
            added_by=_username(item.author),
            external_id=item.external_id,
            carried_over=item.carried_over,
            created_at=_local(item.created_at, tz),
            updated_at=_local(item.updated_at, tz),
        )


# --- releases -------------------------------------------------------------------------------


class ReleaseFilters(Schema):
    train: str | None = Field(
        None, description="A train's id or slug (combine with `team` when slugs repeat)."
    )
    team: str | None = Field(None, description="A team's slug.")
    # Checked by the view rather than typed as list[StatusName], so that an unknown value is
    # reported as `status` (not `filters.status.0`) with the list of valid ones.
    status: list[str] = Field(
        default_factory=list,
        description="One or more statuses: `status=cut&status=stabilizing` or "
        "`status=cut,stabilizing`.",
        json_schema_extra={"items": {"type": "string", "enum": ReleaseStatus.values}},
    )

    def statuses(self) -> list[str]:
        """The requested statuses; ValueError naming the unknown ones."""
        wanted = [part.strip() for value in self.status for part in value.split(",")]
        wanted = [value for value in wanted if value]
        unknown = [value for value in wanted if value not in ReleaseStatus.values]
        if unknown:
            raise ValueError(
                f"Unknown status {', '.join(unknown)}; use {', '.join(ReleaseStatus.values)}."
            )
        return wanted

    limit: int = Field(50, ge=1, le=200, description="Page size, at most 200.")
    offset: int = Field(0, ge=0, description="How many releases to skip.")


class ReleaseOut(Schema):
    id: int
    train: TrainRef
    kind: Kind
    version: str = Field(examples=["4.12.0"])
    status: StatusName
    slot: datetime | None = Field(
        description="The timetable departure it was cut for; null for ad-hoc and hotfix releases."
    )
    captain: str | None = Field(description="The release captain's username.")
    cut_at: datetime | None
    target_at: datetime | None = Field(description="Target release time.")
    released_at: datetime | None
    finished_at: datetime | None = Field(description="When it was rolled back or cancelled.")
    change_count: int = Field(description="How many changes ride this release.")

    @classmethod
    def fields_of(cls, release: Release) -> dict:
        tz = zone(release.train.timezone)
        return {
            "id": release.pk,
            "train": TrainRef.build(release.train),
            "kind": release.kind,
            "version": release.version,
            "status": release.status,
            "slot": _local(release.slot, tz),
            "captain": _username(release.captain),
            "cut_at": _local(release.cut_at, tz),
            "target_at": _local(release.target_at, tz),
            "released_at": _local(release.released_at, tz),
            "finished_at": _local(release.finished_at, tz),
            "change_count": release.change_count,
        }

    @classmethod
    def build(cls, release: Release) -> ReleaseOut:
        return cls(**cls.fields_of(release))


class ReleasePage(Schema):
    count: int = Field(description="How many releases match, on all pages.")
    limit: int
    offset: int
    items: list[ReleaseOut]


class EventOut(Schema):
    kind: EventKind
    actor: str | None = Field(description="Username; null when Stationmaster itself acted.")
    from_status: StatusName | None = Field(
        serialization_alias="from", description="Status before; null unless a transition."
    )
    to_status: StatusName | None = Field(
        serialization_alias="to", description="Status after; null unless a transition or cut."
    )
    note: str
    created_at: datetime

    @classmethod
    def build(cls, event: ReleaseEvent, tz: tzinfo) -> EventOut:
        return cls(
            kind=event.kind,
            actor=_username(event.actor),
            from_status=event.from_status or None,
            to_status=event.to_status or None,
            note=event.note,
            created_at=_local(event.created_at, tz),
        )


class DeploymentOut(Schema):
    id: int
    release: int = Field(description="The release's id.")
    version: str = Field(examples=["4.12.0"])
    environment: str = Field(examples=["production"])
    status: DeploymentState
    started_at: datetime
    finished_at: datetime | None
    reported_by: str | None = Field(description="Username of the token that reported it.")
    external_id: str

    @classmethod
    def build(cls, deployment: Deployment, release: Release) -> DeploymentOut:
        tz = zone(release.train.timezone)
        return cls(
            id=deployment.pk,
            release=release.pk,
            version=release.version,
            environment=deployment.environment,
            status=deployment.status,
            started_at=_local(deployment.started_at, tz),
            finished_at=_local(deployment.finished_at, tz),
            reported_by=_username(deployment.reported_by),
            external_id=deployment.external_id,
        )


class ReleaseDetailOut(ReleaseOut):
    next_statuses: list[StatusName] = Field(
        description="Where the lifecycle allows it to move next (your role may still refuse)."
    )
    events: list[EventOut] = Field(description="The timeline, oldest first.")
    changes: list[ChangeItemOut]
    deployments: list[DeploymentOut] = Field(description="Newest first.")

    @classmethod
    def build(cls, release: Release) -> ReleaseDetailOut:
        tz = zone(release.train.timezone)
        return cls(
            **ReleaseOut.fields_of(release),
            next_statuses=list(release.allowed_next()),
            events=[EventOut.build(event, tz) for event in release.events.all()],
            changes=[ChangeItemOut.build(item, tz) for item in release.changes.all()],
            deployments=[DeploymentOut.build(d, release) for d in release.deployments.all()],
        )


class TransitionIn(Schema):
    model_config = ConfigDict(
        **_INPUT,
        json_schema_extra={"examples": [{"to": "stabilizing", "note": "Smoke tests green"}]},
    )

    to: StatusName = Field(description="The status to move to.")
    note: str = Field("", description="Required when cancelling: say why.")


# --- deployments ----------------------------------------------------------------------------


class DeploymentIn(Schema):
    """Identify the release either by `release` (its id) or by `train` and `version`."""

    model_config = ConfigDict(
        **_INPUT,
        json_schema_extra={
            "examples": [
                {
                    "train": "checkout-web",
                    "team": "checkout",
                    "version": "4.12.0",
                    "environment": "production",
                    "status": "succeeded",
                    "started_at": "2026-12-03T10:02:00+01:00",
                    "finished_at": "2026-12-03T10:11:00+01:00",
                    "external_id": "pipeline-8812",
                },
                {"release": 42, "environment": "staging", "status": "started"},
            ]
        },
    )

    release: int | None = Field(None, description="The release's id.")
    train: int | str | None = Field(
        None, description="The train's id or slug, with `version`.", examples=["checkout-web"]
    )
    team: str | None = Field(
        None, description="A team's slug, when several of your teams have a train of that slug."
    )
    version: str | None = Field(None, max_length=32, examples=["4.12.0"])
    environment: str = Field(max_length=50, examples=["production"])
    status: DeploymentState
    started_at: AwareDatetime | None = Field(
        None, description="ISO-8601 with offset; default: when this is first reported."
    )
    finished_at: AwareDatetime | None = Field(
        None, description="ISO-8601 with offset; default: now, once the status is final."
    )
    external_id: str = Field(
        "",
        max_length=100,
        description="Your id for this deployment (e.g. the pipeline run). Sending it again for "
        "the same release and environment updates that deployment instead of adding another.",
    )
