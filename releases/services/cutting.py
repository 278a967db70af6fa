"""Cutting departures: on time, whatever is ready, exactly once.

Exactly-once is enforced by the database: each train is processed under its row lock
(`select_for_update(skip_locked=True)` on PostgreSQL; SQLite's IMMEDIATE transactions serialise
writers), and (train, slot) is unique both on DepartureLog and on Release. Two beat processes, two
workers, a retried task or a task killed mid-way can therefore never cut a slot twice: the loser
either skips the locked train or finds the slot already logged.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from core.services import audit_record
from releases.departures import Departure, DepartureState, project
from releases.models import (
    ChangeItem,
    DepartureLog,
    DepartureOutcome,
    EmptyDeparturePolicy,
    Release,
    ReleaseEvent,
    ReleaseKind,
    ReleaseStatus,
    Train,
)
from releases.permissions import require_manager
from releases.selectors import blackouts_for_teams
from releases.selectors_rotations import turn_for_departure
from releases.services.rollback import prepare_release
from releases.timetable import next_version, zone

logger = logging.getLogger(__name__)


@dataclass
class CutReport:
    cut: list[Release] = field(default_factory=list)
    logged: list[DepartureLog] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{len(self.cut)} cut, {len(self.logged) - len(self.cut)} recorded without a cut"


def cut_due_trains(now: datetime | None = None) -> CutReport:
    """Cut every departure that is due at `now`. Safe to call any number of times, concurrently."""
    now = now or timezone.now()
    report = CutReport()
    for train_id in _trains_with_a_slot_due(now):
        with transaction.atomic():
            train = (
                Train.objects.select_for_update(skip_locked=True)
                .filter(pk=train_id, is_paused=False)
                .first()
            )
            if train is None:
                continue  # another cutter holds this train right now; it will do the work
            _handle_due_departures(train, now, report)
    return report


def _trains_with_a_slot_due(now: datetime) -> list[int]:
    """Trains whose timetable has a slot since they were last handled: one query, then only
    the timetables, so an idle minute costs the same few queries however many trains there are.
    Skips, postponements and blackouts are applied under the train's lock; a slot they affect is
    still a timetable slot, so this never misses one."""
    candidates = Train.objects.filter(is_paused=False, handled_through__lt=now).only(
        "pk", "rrule", "starts_on", "timezone", "handled_through"
    )
    return [
        train.pk
        for train in candidates
        if next(
            train.timetable.occurrences(
                train.handled_through + timedelta(microseconds=1), now + timedelta(microseconds=1)
            ),
            None,
        )
    ]


def _handle_due_departures(train: Train, now: datetime, report: CutReport) -> None:
    since = train.handled_through
    departures = project(
        train,
        since + timedelta(microseconds=1),
        now + timedelta(microseconds=1),
        exceptions=train.exceptions.filter(slot__gt=since - timedelta(days=32)),
        blackouts=blackouts_for_teams([train.team_id], since=since.date() - timedelta(days=1)),
    )
    logged = set(
        DepartureLog.objects.filter(train=train, slot__gt=since - timedelta(days=32)).values_list(
            "slot", flat=True
        )
    )
    due = [d for d in departures if d.slot > since and d.slot not in logged]
    to_cut = [d for d in due if d.departs]
    for departure in due:
        if departure.state == DepartureState.SKIPPED:
            report.logged.append(_log(train, departure, DepartureOutcome.SKIPPED, now))
        elif departure.state == DepartureState.BLACKOUT:
            report.logged.append(_log(train, departure, DepartureOutcome.BLACKOUT, now))
        elif departure is not to_cut[-1]:
            # After downtime only the latest missed departure leaves; older ones are recorded.
            note = "Missed while Stationmaster was not running; a later departure was cut."
            report.logged.append(_log(train, departure, DepartureOutcome.MISSED, now, note=note))
    if to_cut:
        release, log = _cut(train, to_cut[-1], now)
        report.logged.append(log)
        if release is not None:
            report.cut.append(release)
    handled = [d.slot for d in due]
    if handled:
        train.handled_through = max(handled)
        train.save(update_fields=["handled_through"])


def _log(train, departure: Departure, outcome: str, now, *, release=None, note="") -> DepartureLog:
    return DepartureLog.objects.create(
        train=train,
        slot=departure.slot,
        outcome=outcome,
        release=release,
        note=(note or departure.reason)[:200],
        recorded_at=now,
    )


def _previous_version(train: Train) -> str | None:
    return (
        Release.objects.filter(train=train)
        .exclude(kind=ReleaseKind.HOTFIX)
        .order_by("-created_at", "-id")
        .values_list("version", flat=True)
        .first()
    )


def _create_release(
    train: Train, *, kind: str, slot, now: datetime, departs_at: datetime, actor=None, note=""
) -> Release:
    local_day = now.astimezone(zone(train.timezone)).date()
    # A scheduled departure's captain is whoever holds its turn in the train's rotation.
    turn = turn_for_departure(train, slot) if kind == ReleaseKind.SCHEDULED else None
    release = Release.objects.create(
        train=train,
        kind=kind,
        slot=slot,
        captain=turn.captain if turn else None,
        version=next_version(
            train.version_scheme,
            _previous_version(train),
            on=local_day,
            initial=train.initial_version,
        ),
        status=ReleaseStatus.CUT,
        cut_at=now,
        target_at=departs_at + timedelta(hours=train.release_lead_hours),
    )
    prepare_release(release, train)
    waiting = ChangeItem.objects.filter(train=train, release__isnull=True)
    boarded = waiting.filter(is_ready=True).update(release=release, updated_at=now)
    left_behind = list(waiting.filter(is_ready=False).values_list("title", flat=True))
    waiting.filter(is_ready=False).update(carried_over=F("carried_over") + 1, updated_at=now)
    ReleaseEvent.objects.create(
        release=release,
        kind=ReleaseEvent.Kind.CUT,
        actor=actor,
        to_status=ReleaseStatus.CUT,
        note=note,
        data={"boarded": boarded, "left_behind": left_behind},
        created_at=now,
    )
    if kind == ReleaseKind.SCHEDULED and train.rotation_id:
        if release.captain is not None:
            why = f" {turn.reason}." if turn.reason else ""
            note = f"Captain from rotation “{train.rotation}”: {release.captain.display_name}.{why}"
        else:
            why = (turn.reason if turn else "") or "nobody in the rotation holds this departure"
            note = f"No captain: {why}."
        ReleaseEvent.objects.create(
            release=release,
            kind=ReleaseEvent.Kind.CAPTAIN,
            note=note,
            data={"source": turn.source if turn else ""},
            created_at=now,
        )
    return release


def _cut(train: Train, departure: Departure, now: datetime) -> tuple[Release | None, DepartureLog]:
    has_ready = ChangeItem.objects.filter(train=train, release__isnull=True, is_ready=True).exists()
    if not has_ready and train.empty_departure == EmptyDeparturePolicy.SKIP:
        note = "Nothing was ready, and this train skips empty departures."
        return None, _log(train, departure, DepartureOutcome.SKIPPED_EMPTY, now, note=note)
    note = "" if has_ready else "Departed empty: nothing was ready."
    if departure.state == DepartureState.POSTPONED:
        note = f"Postponed departure. {note}".strip()
    release = _create_release(
        train,
        kind=ReleaseKind.SCHEDULED,
        slot=departure.slot,
        now=now,
        departs_at=departure.departs_at,
        note=note,
    )
    logger.info("Cut %s %s for slot %s", train, release.version, departure.slot.isoformat())
    return release, _log(train, departure, DepartureOutcome.CUT, now, release=release)


@transaction.atomic
def train_cut_now(*, actor: User, train: Train, note: str = "", now: datetime | None = None):
    """A manager's ad-hoc release on a train, outside the timetable."""
    now = now or timezone.now()
    require_manager(actor, train.team_id, action="cut an ad-hoc release")
    train = Train.objects.select_for_update().get(pk=train.pk)
    release = _create_release(
        train, kind=ReleaseKind.ADHOC, slot=None, now=now, departs_at=now, actor=actor, note=note
    )
    audit_record(actor=actor, action="release.cut_now", target=release)
    return release
