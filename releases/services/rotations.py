"""Captain rotations: editing them, planning their turns, cover, time off, swaps and handoffs.

Turns are rows planned HORIZON ahead. A turn that has started is history: no planning or edit
touches it. Every other turn is recomputed in place on each planning (keeping its handoff note and
swaps), so a change to members, cover, time off or swaps applies from the next unstarted turn on.
When an unstarted turn's captain changes, its releases still in flight follow, with a timeline note.
"""

from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone as djtz

from accounts.models import Membership, Team, User
from core.services import audit_record
from releases.departures import project
from releases.models import (
    CaptainCover,
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
    TurnSource,
    Unavailability,
)
from releases.permissions import MANAGING_ROLES, is_manager, require_manager, require_member
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
    _plan(rotation, now, actor=actor, why="the rotation was edited")
    for other in Rotation.objects.filter(pk__in=left):
        _plan(other, now, actor=actor, why=f"a train moved to “{rotation}”")


# --- planning --------------------------------------------------------------------------------


def rotation_plan_turns(rotation: Rotation, *, now: datetime) -> None:
    """Plan (or extend) the rotation's turns HORIZON ahead. Idempotent."""
    with transaction.atomic():
        _plan(rotation, now, why="the rotation was replanned")


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


def _plan(rotation: Rotation, now: datetime, *, actor=None, why: str) -> None:
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
            create.append(target)
        elif _snapshot(target) != before:
            target.save(update_fields=TURN_FIELDS)
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


def _replan_for(user: User, now: datetime, *, actor, why: str) -> None:
    for rotation in Rotation.objects.filter(team__memberships__user=user):
        _plan(rotation, now, actor=actor, why=why)


# --- cover and time off ----------------------------------------------------------------------


def _check_period(starts_at: datetime, ends_at: datetime, now: datetime, what: str) -> None:
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": [f"The {what} must end after it starts."]})
    if ends_at <= now:
        raise ValidationError({"ends_at": [f"The {what} must end in the future."]})


@transaction.atomic
def cover_add(
    *,
    actor: User,
    rotation: Rotation,
    user: User,
    starts_at: datetime,
    ends_at: datetime,
    reason: str = "",
    now: datetime | None = None,
) -> CaptainCover:
    """A manager makes someone captain for the turns that start in a period."""
    now = now or djtz.now()
    require_manager(actor, rotation.team_id, action="assign cover")
    if not Membership.objects.filter(team_id=rotation.team_id, user=user).exists():
        raise ValidationError({"user": [f"{user.display_name} is not a member of the team."]})
    _check_period(starts_at, ends_at, now, "cover")
    cover = CaptainCover(
        rotation=rotation, user=user, starts_at=starts_at, ends_at=ends_at,
        reason=reason.strip(), created_by=actor,
    )  # fmt: skip
    cover.full_clean()
    cover.save()
    _plan(rotation, now, actor=actor, why=f"cover by {user.display_name}")
    audit_record(actor=actor, action="rotation.cover_added", target=cover)
    return cover


@transaction.atomic
def cover_remove(*, actor: User, cover: CaptainCover, now: datetime | None = None) -> None:
    now = now or djtz.now()
    rotation = cover.rotation
    require_manager(actor, rotation.team_id, action="remove cover")
    audit_record(actor=actor, action="rotation.cover_removed", target=cover)
    cover.delete()
    _plan(rotation, now, actor=actor, why="cover removed")


def _require_self_or_manager(actor: User, user: User) -> None:
    if actor.pk == user.pk:
        return
    manages = Membership.objects.filter(
        user=user, team__memberships__user=actor, team__memberships__role__in=MANAGING_ROLES
    )
    if not manages.exists():
        raise PermissionDenied("Only the person themselves or a manager of their team can do this.")


@transaction.atomic
def unavailability_add(
    *,
    actor: User,
    user: User,
    starts_at: datetime,
    ends_at: datetime,
    reason: str = "",
    now: datetime | None = None,
) -> Unavailability:
    """Out of office: rotations skip the person for turns overlapping the period."""
    now = now or djtz.now()
    _require_self_or_manager(actor, user)
    _check_period(starts_at, ends_at, now, "time off")
    away = Unavailability(
        user=user, starts_at=starts_at, ends_at=ends_at, reason=reason.strip(), created_by=actor
    )
    away.full_clean()
    away.save()
    _replan_for(user, now, actor=actor, why=f"{user.display_name} is out of office")
    audit_record(actor=actor, action="rotation.unavailability_added", target=away)
    return away


@transaction.atomic
def unavailability_remove(
    *, actor: User, unavailability: Unavailability, now: datetime | None = None
) -> None:
    now = now or djtz.now()
    user = unavailability.user
    _require_self_or_manager(actor, user)
    audit_record(actor=actor, action="rotation.unavailability_removed", target=unavailability)
    unavailability.delete()
    _replan_for(user, now, actor=actor, why=f"{user.display_name} is back")


# --- swaps -----------------------------------------------------------------------------------


def _notify_after_commit(event: str, swap: SwapRequest, now: datetime) -> None:
    def send() -> None:
        from releases import reminders  # imported late: reminders import the rotation models

        getattr(reminders, event)(swap, now=now)

    # A failed notification must not undo a swap that has been committed.
    transaction.on_commit(send, robust=True)


def _check_unstarted(turn: RotationTurn, now: datetime) -> None:
    if turn.starts_at <= now:
        raise ValidationError("This turn has already started; a manager can assign cover instead.")


def _absence(user: User, turn: RotationTurn) -> Unavailability | None:
    return Unavailability.objects.filter(
        user=user, starts_at__lt=turn.ends_at, ends_at__gt=turn.starts_at
    ).first()


@transaction.atomic
def swap_open(
    *, actor: User, turn: RotationTurn, reason: str, now: datetime | None = None
) -> SwapRequest:
    """The captain of a turn offers it to the rest of the team."""
    now = now or djtz.now()
    turn = RotationTurn.objects.select_related("rotation").get(pk=turn.pk)
    require_member(actor, turn.rotation.team_id)
    if turn.captain_id != actor.pk:
        raise PermissionDenied("Only the captain of this turn can offer it for a swap.")
    _check_unstarted(turn, now)
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why you are offering this turn."]})
    if turn.swap_requests.filter(state=SwapState.OPEN).exists():
        raise ValidationError("This turn is already offered for a swap.")
    swap = SwapRequest(turn=turn, offered_by=actor, reason=reason.strip())
    swap.full_clean()
    swap.save()
    audit_record(actor=actor, action="rotation.swap_opened", target=swap)
    _notify_after_commit("swap_opened", swap, now)
    return swap


@transaction.atomic
def swap_take(*, actor: User, swap: SwapRequest, now: datetime | None = None) -> SwapRequest:
    """Another eligible team member takes an open swap; of two at once, one wins."""
    now = now or djtz.now()
    # Lock the rotation before the swap, in the same order as planning does, so takers queue.
    rotation_id = RotationTurn.objects.values_list("rotation_id", flat=True).get(pk=swap.turn_id)
    rotation = Rotation.objects.select_for_update().get(pk=rotation_id)
    require_member(actor, rotation.team_id)
    swap = (
        SwapRequest.objects.select_for_update(of=("self",))
        .select_related("turn", "taken_by", "offered_by")
        .get(pk=swap.pk)
    )
    if swap.state == SwapState.TAKEN:
        raise ValidationError(f"This swap was already taken by {swap.taken_by.display_name}.")
    if swap.state != SwapState.OPEN:
        raise ValidationError(f"This swap is {swap.get_state_display().lower()}.")
    if swap.offered_by_id == actor.pk:
        raise ValidationError("You offered this turn; someone else has to take it.")
    _check_unstarted(swap.turn, now)
    if away := _absence(actor, swap.turn):
        why = f" ({away.reason})" if away.reason else ""
        raise ValidationError(
            f"You are out of office{why} during this turn, so you cannot take it."
        )
    swap.state, swap.taken_by, swap.closed_at = SwapState.TAKEN, actor, now
    swap.save(update_fields=["state", "taken_by", "closed_at", "updated_at"])
    _plan(rotation, now, actor=actor, why=f"{actor.display_name} took a swap")
    audit_record(actor=actor, action="rotation.swap_taken", target=swap)
    _notify_after_commit("swap_taken", swap, now)
    return swap


@transaction.atomic
def swap_withdraw(*, actor: User, swap: SwapRequest, now: datetime | None = None) -> SwapRequest:
    now = now or djtz.now()
    swap = (
        SwapRequest.objects.select_for_update(of=("self",))
        .select_related("turn__rotation")
        .get(pk=swap.pk)
    )
    team_id = swap.turn.rotation.team_id
    require_member(actor, team_id)
    if swap.offered_by_id != actor.pk and not is_manager(actor, team_id):
        raise PermissionDenied("Only whoever offered the swap, or a manager, can withdraw it.")
    if swap.state != SwapState.OPEN:
        raise ValidationError(f"This swap is {swap.get_state_display().lower()}, not open.")
    swap.state, swap.closed_at = SwapState.WITHDRAWN, now
    swap.save(update_fields=["state", "closed_at", "updated_at"])
    audit_record(actor=actor, action="rotation.swap_withdrawn", target=swap)
    return swap


@transaction.atomic
def swap_arrange(
    *, actor: User, turn: RotationTurn, taker: User, reason: str, now: datetime | None = None
) -> SwapRequest:
    """A manager swaps a turn on people's behalf: a taken swap that says who arranged it."""
    now = now or djtz.now()
    rotation = Rotation.objects.select_for_update().get(pk=turn.rotation_id)
    require_manager(actor, rotation.team_id, action="arrange swaps")
    turn = RotationTurn.objects.select_related("captain").get(pk=turn.pk)
    _check_unstarted(turn, now)
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the turn is swapped."]})
    if not Membership.objects.filter(team_id=rotation.team_id, user=taker).exists():
        raise ValidationError({"taker": [f"{taker.display_name} is not a member of the team."]})
    if turn.captain_id is None:
        raise ValidationError("Nobody holds this turn to swap it; assign cover instead.")
    if turn.captain_id == taker.pk:
        raise ValidationError({"taker": [f"{taker.display_name} already holds this turn."]})
    if away := _absence(taker, turn):
        why = f" ({away.reason})" if away.reason else ""
        raise ValidationError({"taker": [f"{taker.display_name} is out of office{why}."]})
    # An open offer for the turn is answered by the arrangement.
    turn.swap_requests.filter(state=SwapState.OPEN).update(
        state=SwapState.WITHDRAWN, closed_at=now, updated_at=now
    )
    swap = SwapRequest(
        turn=turn, offered_by=turn.captain, reason=reason.strip(), state=SwapState.TAKEN,
        taken_by=taker, arranged_by=actor, closed_at=now,
    )  # fmt: skip
    swap.full_clean()
    swap.save()
    _plan(rotation, now, actor=actor, why=f"{actor.display_name} arranged a swap")
    audit_record(actor=actor, action="rotation.swap_arranged", target=swap)
    _notify_after_commit("swap_taken", swap, now)
    return swap


def swaps_expire(now: datetime) -> int:
    """Open swaps whose turn has started untaken expire (a beat task)."""
    with transaction.atomic():
        due = list(
            SwapRequest.objects.select_for_update(of=("self",))
            .filter(state=SwapState.OPEN, turn__starts_at__lte=now)
            .select_related("turn")
        )
        for swap in due:
            swap.state, swap.closed_at = SwapState.EXPIRED, now
            swap.save(update_fields=["state", "closed_at", "updated_at"])
            audit_record(actor=None, action="rotation.swap_expired", target=swap)
    return len(due)


# --- handoff ---------------------------------------------------------------------------------


@transaction.atomic
def handoff_note_write(
    *, actor: User, turn: RotationTurn, text: str, now: datetime | None = None
) -> RotationTurn:
    """The outgoing captain (or a manager) leaves a note for whoever holds `turn`."""
    now = now or djtz.now()
    turn = (
        RotationTurn.objects.select_for_update(of=("self",))
        .select_related("rotation")
        .get(pk=turn.pk)
    )
    team_id = turn.rotation.team_id
    require_member(actor, team_id)
    if not is_manager(actor, team_id) and actor.pk not in _outgoing_captains(turn):
        raise PermissionDenied("Only the outgoing captain or a manager can write the handoff note.")
    text = (text or "").strip()
    if len(text) > HANDOFF_NOTE_LIMIT:
        raise ValidationError(
            {"text": [f"Keep the handoff note under {HANDOFF_NOTE_LIMIT} characters."]}
        )
    turn.handoff_note = text
    turn.handoff_note_by, turn.handoff_note_at = (actor, now) if text else (None, None)
    turn.save(update_fields=["handoff_note", "handoff_note_by", "handoff_note_at"])
    audit_record(actor=actor, action="rotation.handoff_note", target=turn)
    return turn


def _outgoing_captains(turn: RotationTurn) -> set[int]:
    """Captains of the turn(s) ending where this one begins (two trains may depart together)."""
    before = RotationTurn.objects.filter(rotation_id=turn.rotation_id).exclude(pk=turn.pk)
    end = before.filter(ends_at__lte=turn.starts_at).aggregate(end=Max("ends_at"))["end"]
    if end is None:
        return set()
    return set(before.filter(ends_at=end).values_list("captain_id", flat=True)) - {None}


__all__ = [
    "TurnSource",
    "cover_add",
    "cover_remove",
    "handoff_note_write",
    "rotation_create",
    "rotation_delete",
    "rotation_plan_turns",
    "rotation_update",
    "rotations_plan_all",
    "swap_arrange",
    "swap_open",
    "swap_take",
    "swap_withdraw",
    "swaps_expire",
    "unavailability_add",
    "unavailability_remove",
]
