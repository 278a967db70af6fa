"""Captain rotations: editing them and planning their turns (cover, time off, swaps and
handoff notes are in rotation_duty.py).

Turns are rows planned HORIZON ahead. A turn that has started is history: no planning or edit
touches it. Every other turn is recomputed in place on each planning (keeping its handoff note and
swaps), so a change to members, cover, time off or swaps applies from the next unstarted turn on.
When an unstarted turn's captain changes, its releases still in flight follow, with a timeline note.
"""

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone as djtz

from accounts.models import Membership, Team, User
from core.services import audit_record
from releases.departures import project
from releases.models import (
    Release,
    ReleaseEvent,
    ReleaseStatus,
    Rotation,
    RotationMember,
    RotationTurn,
    SwapRequest,
    SwapState,
    Train,
    TurnLength,
    Unavailability,
)
from releases.permissions import require_manager
from releases.rotations import (
    HORIZON,
    Period,
    Roster,
    WeekSchedule,
    departure_turns,
    next_member,
    resolve_captain,
)
from releases.selectors import blackouts_for_teams
from releases.timetable import zone

FINISHED = (ReleaseStatus.RELEASED, ReleaseStatus.CANCELLED, ReleaseStatus.ROLLED_BACK)
# Per-departure turns start at the previous departure, which is looked for this far back.
DEPARTURE_LOOKBACK = timedelta(days=93)
HANDOFF_NOTE_LIMIT = 4000

# --- rotations -------------------------------------------------------------------------------


@transaction.atomic
def rotation_create(
    *,
    actor: User,
    team: Team,
    name: str,
    timezone: str,
    turn_length: str,
    weeks: int,
    handoff_weekday: int,
    handoff_time: time | str,
    starts_on: date | str,
    member_ids: list[int],
    train_ids: list[int],
    now: datetime | None = None,
) -> Rotation:
    now = now or djtz.now()
    require_manager(actor, team.pk, action="create rotations")
    rotation = Rotation(team=team, created_by=actor, planned_from=now)
    _apply(rotation, name, timezone, turn_length, weeks, handoff_weekday, handoff_time, starts_on)
    member_ids, train_ids = _ids(member_ids, "members"), _ids(train_ids, "trains")
    _validate(rotation, member_ids, train_ids)
    rotation.save()
    _save_members_and_trains(rotation, member_ids, train_ids, actor=actor, now=now)
    audit_record(actor=actor, action="rotation.created", target=rotation)
    return rotation


@transaction.atomic
def rotation_update(
    *,
    actor: User,
    rotation: Rotation,
    name: str,
    timezone: str,
    turn_length: str,
    weeks: int,
    handoff_weekday: int,
    handoff_time: time | str,
    starts_on: date | str,
    member_ids: list[int],
    train_ids: list[int],
    now: datetime | None = None,
) -> Rotation:
    """Applies from now on: started turns and finished releases keep what they had."""
    now = now or djtz.now()
    require_manager(actor, rotation.team_id, action="edit rotations")
    rotation = (
        Rotation.objects.select_for_update(of=("self",)).select_related("team").get(pk=rotation.pk)
    )
    _apply(rotation, name, timezone, turn_length, weeks, handoff_weekday, handoff_time, starts_on)
    rotation.planned_from = now
    member_ids, train_ids = _ids(member_ids, "members"), _ids(train_ids, "trains")
    _validate(rotation, member_ids, train_ids)
    rotation.save()
    _save_members_and_trains(rotation, member_ids, train_ids, actor=actor, now=now)
    audit_record(actor=actor, action="rotation.updated", target=rotation)
    return rotation


@transaction.atomic
def rotation_delete(*, actor: User, rotation: Rotation) -> None:
    """Turns go with it; releases keep their captains; trains are left without a rotation."""
    require_manager(actor, rotation.team_id, action="delete rotations")
    Train.objects.filter(rotation=rotation).update(rotation=None)
    audit_record(actor=actor, action="rotation.deleted", target=rotation)
    rotation.delete()


def _apply(rotation, name, tz, turn_length, weeks, weekday, handoff_time, starts_on) -> None:
    rotation.name, rotation.timezone = (name or "").strip(), (tz or "").strip()
    rotation.turn_length = turn_length
    try:
        rotation.weeks = int(weeks)
    except (TypeError, ValueError):
        rotation.weeks = None
    rotation.handoff_weekday, rotation.handoff_time = weekday, handoff_time
    rotation.starts_on = starts_on


def _ids(values, field: str) -> list[int]:
    try:
        return [int(value) for value in values]
    except (TypeError, ValueError) as exc:
        raise ValidationError({field: ["Choose from the list."]}) from exc


def _validate(rotation: Rotation, member_ids: list[int], train_ids: list[int]) -> None:
    team = rotation.team
    errors: dict[str, list[str]] = {}
    try:
        # The weeks range is a check constraint; checked below with a message a person can use.
        rotation.full_clean(exclude=["weeks"], validate_unique=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if rotation.weeks is None or not 1 <= rotation.weeks <= 12:
        errors["weeks"] = ["A turn lasts between 1 and 12 weeks."]
    clash = Rotation.objects.filter(team=team, name__iexact=rotation.name).exclude(pk=rotation.pk)
    if rotation.name and clash.exists():
        errors["name"] = [f"{team} already has a rotation called “{rotation.name}”."]
    in_team = set(
        Membership.objects.filter(team=team, user_id__in=member_ids).values_list("user", flat=True)
    )
    if not member_ids:
        errors["members"] = ["Add at least one member to the rotation."]
    elif len(set(member_ids)) != len(member_ids):
        errors["members"] = ["Each person can be in the rotation once."]
    elif set(member_ids) - in_team:
        errors["members"] = [f"Everyone in the rotation must be a member of {team}."]
    if len(set(Train.objects.filter(team=team, pk__in=train_ids))) != len(set(train_ids)):
        errors["trains"] = [f"A rotation of {team} can only serve {team}'s trains."]
    if errors:
        raise ValidationError(errors)


def _save_members_and_trains(rotation, member_ids, train_ids, *, actor, now) -> None:
    rotation.members.all().delete()
    RotationMember.objects.bulk_create(
        RotationMember(rotation=rotation, user_id=user_id, position=position)
        for position, user_id in enumerate(member_ids, start=1)
    )
    Train.objects.filter(rotation=rotation).exclude(pk__in=train_ids).update(rotation=None)
    # A train serves one rotation: taking it over replans the rotation it leaves.
    left = set(
        Train.objects.filter(pk__in=train_ids)
        .exclude(rotation=None)
        .exclude(rotation=rotation)
        .values_list("rotation", flat=True)
    )
    Train.objects.filter(pk__in=train_ids).update(rotation=rotation, updated_at=now)
    rotation_replan(rotation, now, actor=actor, why="the rotation was edited")
    for other in Rotation.objects.filter(pk__in=left):
        rotation_replan(other, now, actor=actor, why=f"a train moved to “{rotation}”")


# --- planning --------------------------------------------------------------------------------


def rotation_plan_turns(rotation: Rotation, *, now: datetime) -> None:
    """Plan (or extend) the rotation's turns HORIZON ahead. Idempotent."""
    with transaction.atomic():
        rotation_replan(rotation, now, why="the rotation was replanned")


def rotations_plan_all(now: datetime) -> int:
    """Extend every rotation's horizon (a beat task); one transaction per rotation."""
    ids = list(Rotation.objects.values_list("pk", flat=True))
    for pk in ids:
        rotation_plan_turns(Rotation(pk=pk), now=now)
    return len(ids)


TURN_FIELDS = ["starts_at", "ends_at", "member_id", "captain_id", "source", "reason"]


def _snapshot(turn: RotationTurn) -> tuple:
    return tuple(getattr(turn, field) for field in TURN_FIELDS)


def _key(turn) -> tuple:
    return (turn.train_id, turn.slot) if turn.slot is not None else (None, turn.starts_at)


def rotation_replan(rotation: Rotation, now: datetime, *, actor=None, why: str) -> None:
    rotation = Rotation.objects.select_for_update().filter(pk=rotation.pk).first()
    if rotation is None:
        return  # deleted meanwhile
    started = rotation.turns.filter(starts_at__lte=now)
    history = list(started.filter(ends_at__gt=now))
    last = started.filter(ends_at__lte=now).order_by("-ends_at", "-train_id").first()
    history += [last] if last else []
    upcoming = {_key(t): t for t in rotation.turns.filter(starts_at__gt=now)}
    until = max(
        [now + HORIZON]
        + [(t.slot or t.starts_at) + timedelta(seconds=1) for t in upcoming.values()]
    )
    history_end = max((t.ends_at for t in history), default=None)
    kept = {_key(t) for t in history}
    planned = [p for p in _planned_turns(rotation, now, until, history_end) if _key(p) not in kept]

    roster, covers, swaps = _load_people(rotation, planned, upcoming)
    # The member sequence runs through history into the plan, in departure/handoff order.
    steps = sorted(history + planned, key=lambda t: (t.ends_at, t.train_id or 0))
    previous, create, changed = None, [], []
    for turn in steps:
        if turn.pk is not None:  # history: saved rows; the plan is not saved yet
            previous = turn.member_id
            continue
        member = previous = next_member(roster.order, previous)
        existing = upcoming.pop(_key(turn), None)
        target = existing or turn
        before = _snapshot(target)
        resolution = resolve_captain(
            starts_at=turn.starts_at,
            ends_at=turn.ends_at,
            member_id=member,
            roster=roster,
            covers=covers,
            swap=swaps.get(existing.pk) if existing else None,
        )
        target.starts_at, target.ends_at = turn.starts_at, turn.ends_at
        target.member_id, target.captain_id = member, resolution.captain_id
        target.source, target.reason = resolution.source, resolution.reason[:300]
        if existing is None:
            target.updated_at = now
            create.append(target)
        elif _snapshot(target) != before:
            target.updated_at = now
            target.save(update_fields=[*TURN_FIELDS, "updated_at"])
        captain_changed = existing is None or before[3] != target.captain_id
        if captain_changed and target.starts_at > now:
            changed.append(target)
    RotationTurn.objects.filter(pk__in=[t.pk for t in upcoming.values()]).delete()
    RotationTurn.objects.bulk_create(create)
    _follow_captains(rotation, changed, roster, actor=actor, why=why, now=now)


def _planned_turns(rotation, now, until, history_end) -> list[RotationTurn]:
    if rotation.turn_length == TurnLength.WEEKS:
        schedule = WeekSchedule(
            timezone=rotation.timezone,
            weekday=rotation.handoff_weekday,
            at=rotation.handoff_time,
            starts_on=rotation.starts_on,
            weeks=rotation.weeks,
        )
        windows = schedule.windows(
            since=history_end or now, until=until, resume=history_end is not None
        )
        return [RotationTurn(rotation=rotation, starts_at=s, ends_at=e) for s, e in windows]
    first_day = datetime.combine(rotation.starts_on, time(0, 0), tzinfo=zone(rotation.timezone))
    start = max(now - DEPARTURE_LOOKBACK, first_day)
    trains = list(rotation.trains.filter(is_paused=False))
    blackouts = blackouts_for_teams([rotation.team_id], since=start.date() - timedelta(days=1))
    departures = []
    for train in trains:
        exceptions = list(train.exceptions.filter(slot__gte=start - timedelta(days=32)))
        departures += [
            (train, d.slot)
            for d in project(train, start, until, exceptions=exceptions, blackouts=blackouts)
            if d.departs and d.slot >= start
        ]
    return [
        RotationTurn(
            rotation=rotation, train=t.train, slot=t.slot, starts_at=t.starts_at, ends_at=t.ends_at
        )
        for t in departure_turns(departures)
        if now < t.slot < until
    ]


def _load_people(rotation, planned, upcoming) -> tuple[Roster, list[Period], dict]:
    order = list(rotation.members.order_by("position").values_list("user_id", flat=True))
    team_ids = frozenset(
        Membership.objects.filter(team_id=rotation.team_id).values_list("user_id", flat=True)
    )
    earliest = min((p.starts_at for p in planned), default=None)
    latest = max((p.ends_at for p in planned), default=None)
    covers, away, swaps = [], {}, {}
    if earliest is not None:
        covers = [
            Period(c.user_id, c.starts_at, c.ends_at, c.reason)
            for c in rotation.covers.filter(ends_at__gt=earliest).order_by("-created_at", "-id")
        ]
        for off in Unavailability.objects.filter(
            user_id__in=team_ids, ends_at__gt=earliest, starts_at__lt=latest
        ):
            period = Period(off.user_id, off.starts_at, off.ends_at, off.reason)
            away.setdefault(off.user_id, []).append(period)
        taken = SwapRequest.objects.filter(
            turn_id__in=[t.pk for t in upcoming.values()], state=SwapState.TAKEN
        ).order_by("closed_at", "id")
        swaps = {s.turn_id: (s.taken_by_id, s.offered_by_id) for s in taken if s.taken_by_id}
    people = team_ids | set(order) | {pk for pair in swaps.values() for pk in pair}
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=people)}
    return Roster(order, team_ids, names, away), covers, swaps


def _follow_captains(rotation, turns, roster, *, actor, why, now) -> None:
    """Releases still in flight follow their turn's new captain; finished ones never change."""
    if not turns:
        return
    match = Q()
    for turn in turns:
        if turn.slot is not None:
            match |= Q(train_id=turn.train_id, slot=turn.slot)
        else:
            match |= Q(train__rotation=rotation, slot__gte=turn.starts_at, slot__lt=turn.ends_at)
    releases = Release.objects.filter(match, slot__isnull=False).exclude(status__in=FINISHED)
    for release in releases.select_for_update(of=("self",)):
        turn = next(t for t in turns if _serves(t, release))
        if release.captain_id == turn.captain_id:
            continue
        release.captain_id = turn.captain_id
        release.save(update_fields=["captain", "updated_at"])
        name = roster.names.get(turn.captain_id, "nobody is eligible")
        reason = f" {turn.reason}." if turn.reason else ""
        ReleaseEvent.objects.create(
            release=release,
            kind=ReleaseEvent.Kind.CAPTAIN,
            actor=actor,
            note=f"Rotation “{rotation}” ({why}): captain is now {name}.{reason}",
            data={"source": turn.source},
            created_at=now,
        )


def _serves(turn, release) -> bool:
    if turn.slot is not None:
        return (turn.train_id, turn.slot) == (release.train_id, release.slot)
    return turn.starts_at <= release.slot < turn.ends_at


def rotations_replan_for_member(user: User, now: datetime, *, actor, why: str) -> None:
    for rotation in Rotation.objects.filter(team__memberships__user=user):
        rotation_replan(rotation, now, actor=actor, why=why)
