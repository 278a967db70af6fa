"""Trains, their timetables and the exceptions that never shift the cadence."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Team, User
from core.services import audit_record
from releases.models import (
    BlackoutPeriod,
    DepartureException,
    DepartureLog,
    ExceptionKind,
    Train,
)
from releases.permissions import require_manager
from releases.services.checklists import default_template
from releases.timetable import Timetable, TimetableError


@dataclass
class TrainFields:
    """What a person edits on a train; validated together by train_create / train_update."""

    name: str
    rrule: str
    starts_on: date
    timezone: str
    description: str = ""
    slug: str = ""
    colour: str = "blue"
    freeze_lead_hours: int = 24
    release_lead_hours: int = 48
    version_scheme: str = "semver_minor"
    initial_version: str = "1.0.0"
    empty_departure: str = "depart_empty"
    reminder_hours: list[int] = field(default_factory=lambda: [24, 1])


MAX_REMINDER_HOURS = 24 * 14


def _validate_reminders(fields: TrainFields) -> None:
    hours = sorted(set(fields.reminder_hours), reverse=True)
    if len(hours) > 5 or any(not 1 <= hour <= MAX_REMINDER_HOURS for hour in hours):
        raise ValidationError(
            {"reminder_hours": [f"Up to five reminders, each 1 to {MAX_REMINDER_HOURS} hours."]}
        )
    fields.reminder_hours = hours


def _validate_timetable(fields: TrainFields, now: datetime) -> None:
    try:
        timetable = Timetable.parse(
            fields.rrule, starts_on=fields.starts_on, timezone=fields.timezone
        )
    except TimetableError as exc:
        field = "timezone" if "timezone" in str(exc) else "rrule"
        raise ValidationError({field: [str(exc)]}) from exc
    fields.rrule = timetable.rule
    if not timetable.next_after(now):
        raise ValidationError(
            {"rrule": ["This timetable has no future departure. Check its end (UNTIL/COUNT)."]}
        )


def _apply(train: Train, fields: TrainFields) -> None:
    for name, value in vars(fields).items():
        setattr(train, name, value)
    if not train.slug:
        train.slug = slugify(fields.name)[:100]


def _validate_unique_in_team(train: Train) -> None:
    """Name and slug are unique per team; say so on the field rather than on the whole form."""
    siblings = Train.objects.filter(team_id=train.team_id).exclude(pk=train.pk)
    errors = {}
    if siblings.filter(name__iexact=train.name).exists():
        errors["name"] = [f"The team already has a train called {train.name}."]
    if siblings.filter(slug=train.slug).exists():
        errors["slug"] = [f"The team already has a train at the address {train.slug}."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def train_create(
    *, actor: User, team: Team, fields: TrainFields, now: datetime | None = None
) -> Train:
    now = now or timezone.now()
    require_manager(actor, team.pk, action="create trains")
    _validate_timetable(fields, now)
    _validate_reminders(fields)
    # Slots before the train existed are not "missed": cutting starts from now.
    train = Train(
        team=team,
        handled_through=now,
        created_by=actor,
        checklist_template=default_template(team.pk),
    )
    _apply(train, fields)
    _validate_unique_in_team(train)
    train.full_clean()
    train.save()
    audit_record(actor=actor, action="train.created", target=train)
    return train


@transaction.atomic
def train_update(
    *, actor: User, train: Train, fields: TrainFields, now: datetime | None = None
) -> Train:
    now = now or timezone.now()
    require_manager(actor, train.team_id, action="change trains")
    train = Train.objects.select_for_update().get(pk=train.pk)
    _validate_timetable(fields, now)
    _validate_reminders(fields)
    timetable_changed = (fields.rrule, fields.starts_on, fields.timezone) != (
        train.rrule,
        train.starts_on,
        train.timezone,
    )
    _apply(train, fields)
    if timetable_changed:
        # The new timetable's past slots were never promised to anyone; do not "catch them up".
        train.handled_through = max(train.handled_through, now)
    _validate_unique_in_team(train)
    train.full_clean()
    train.save()
    audit_record(actor=actor, action="train.updated", target=train)
    return train


@transaction.atomic
def train_set_paused(
    *, actor: User, train: Train, paused: bool, now: datetime | None = None
) -> Train:
    now = now or timezone.now()
    require_manager(actor, train.team_id, action="pause or resume trains")
    train = Train.objects.select_for_update().get(pk=train.pk)
    if train.is_paused == paused:
        return train
    train.is_paused = paused
    if not paused:
        # Departures that fell while paused were intentionally not taken.
        train.handled_through = max(train.handled_through, now)
    train.save(update_fields=["is_paused", "handled_through", "updated_at"])
    audit_record(actor=actor, action="train.paused" if paused else "train.resumed", target=train)
    return train


def _check_future_slot(train: Train, slot: datetime, now: datetime) -> datetime:
    """The slot must be a real, future, unhandled departure; returns the slot after it."""
    if slot <= now:
        raise ValidationError({"slot": ["That departure is in the past."]})
    if slot not in set(train.timetable.occurrences(slot, slot + timedelta(seconds=1))):
        raise ValidationError({"slot": ["The timetable has no departure at that time."]})
    if DepartureLog.objects.filter(train=train, slot=slot).exists():
        raise ValidationError({"slot": ["That departure has already left."]})
    following = train.timetable.next_after(slot)
    return following[0] if following else slot + timedelta(days=3660)


@transaction.atomic
def departure_skip(
    *, actor: User, train: Train, slot: datetime, reason: str = "", now: datetime | None = None
) -> DepartureException:
    now = now or timezone.now()
    require_manager(actor, train.team_id, action="skip departures")
    _check_future_slot(train, slot, now)
    exception, _ = DepartureException.objects.update_or_create(
        train=train,
        slot=slot,
        defaults={
            "kind": ExceptionKind.SKIP,
            "postpone_hours": None,
            "reason": reason,
            "created_by": actor,
        },
    )
    audit_record(actor=actor, action="departure.skipped", target=exception, data={"reason": reason})
    return exception


@transaction.atomic
def departure_postpone(
    *,
    actor: User,
    train: Train,
    slot: datetime,
    hours: int,
    reason: str = "",
    now: datetime | None = None,
) -> DepartureException:
    now = now or timezone.now()
    require_manager(actor, train.team_id, action="postpone departures")
    if not isinstance(hours, int) or hours < 1:
        raise ValidationError({"hours": ["Postpone by at least one hour."]})
    following = _check_future_slot(train, slot, now)
    if slot + timedelta(hours=hours) >= following:
        raise ValidationError(
            {"hours": [
                "A postponement cannot reach the next departure "
                f"({timezone.localtime(following):%a %d %b %H:%M}); skip this one instead."
            ]}
        )  # fmt: skip
    exception, _ = DepartureException.objects.update_or_create(
        train=train,
        slot=slot,
        defaults={
            "kind": ExceptionKind.POSTPONE,
            "postpone_hours": hours,
            "reason": reason,
            "created_by": actor,
        },
    )
    audit_record(actor=actor, action="departure.postponed", target=exception, data={"hours": hours})
    return exception


@transaction.atomic
def departure_restore(*, actor: User, train: Train, slot: datetime) -> None:
    """Undo a skip or postponement: the departure runs on the timetable again."""
    require_manager(actor, train.team_id, action="restore departures")
    deleted, _ = DepartureException.objects.filter(train=train, slot=slot).delete()
    if deleted:
        audit_record(
            actor=actor, action="departure.restored", target=train, data={"slot": str(slot)}
        )


@transaction.atomic
def blackout_create(
    *, actor: User, team: Team | None, starts_on: date, ends_on: date, reason: str
) -> BlackoutPeriod:
    if team is None and not actor.is_staff:
        raise PermissionDenied("Only an administrator can declare an organisation-wide blackout.")
    if team is not None:
        require_manager(actor, team.pk, action="declare blackouts")
    blackout = BlackoutPeriod(
        team=team, starts_on=starts_on, ends_on=ends_on, reason=reason.strip(), created_by=actor
    )
    blackout.full_clean()
    blackout.save()
    audit_record(actor=actor, action="blackout.created", target=blackout)
    return blackout


@transaction.atomic
def blackout_delete(*, actor: User, blackout: BlackoutPeriod) -> None:
    if blackout.team_id is None and not actor.is_staff:
        raise PermissionDenied("Only an administrator can lift an organisation-wide blackout.")
    if blackout.team_id is not None:
        require_manager(actor, blackout.team_id, action="lift blackouts")
    audit_record(actor=actor, action="blackout.deleted", target=blackout)
    blackout.delete()
