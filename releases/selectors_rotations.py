"""Reads about rotations: who captains a departure, who is captain now and next."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Case, F, Prefetch, Q, QuerySet, When, Window
from django.db.models.functions import RowNumber

from accounts.models import User
from releases.models import (
    Rotation,
    RotationMember,
    RotationTurn,
    SwapRequest,
    SwapState,
    Train,
    TurnLength,
    TurnSource,
)

# Turns with nobody eligible are flagged this many days ahead.
WARNING_DAYS = 14


def turn_for_departure(train: Train, slot: datetime) -> RotationTurn | None:
    """The planned turn that captains `train`'s departure at `slot`, if its rotation has one.

    Per-departure rotations plan one turn per (train, slot); week-based ones plan a turn that
    covers the slot.
    """
    if not train.rotation_id:
        return None
    turns = RotationTurn.objects.filter(rotation_id=train.rotation_id).select_related("captain")
    if train.rotation.turn_length == TurnLength.PER_DEPARTURE:
        return turns.filter(train=train, slot=slot).first()
    return turns.filter(starts_at__lte=slot, ends_at__gt=slot).first()


def captain_for_departure(train: Train, slot: datetime) -> User | None:
    turn = turn_for_departure(train, slot)
    return turn.captain if turn else None


def rotations_for_user(user: User) -> QuerySet[Rotation]:
    """The rotations of the viewer's teams, with team, members (in order) and trains."""
    return (
        Rotation.objects.filter(team__memberships__user=user)
        .select_related("team")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=RotationMember.objects.select_related("user").order_by("position"),
            ),
            Prefetch("trains", queryset=Train.objects.order_by("name")),
        )
    )


def _turns() -> QuerySet[RotationTurn]:
    return RotationTurn.objects.select_related(
        "rotation", "rotation__team", "train", "member", "captain", "handoff_note_by"
    )


@dataclass(frozen=True)
class RotationOverview:
    rotation: Rotation
    current: RotationTurn | None
    upcoming: list[RotationTurn] = field(default_factory=list)


def rotation_overview(rotation: Rotation, *, now: datetime, count: int = 8) -> RotationOverview:
    """Who is captain now (for per-departure rotations: of the next departure), and the next
    `count` turns. One query."""
    turns = _turns().filter(rotation=rotation)
    if rotation.turn_length == TurnLength.PER_DEPARTURE:
        ahead = list(turns.filter(slot__gt=now).order_by("slot", "train__name")[: count + 1])
    else:
        ahead = list(turns.filter(ends_at__gt=now).order_by("starts_at")[: count + 1])
    if ahead and (ahead[0].slot is not None or ahead[0].starts_at <= now):
        return RotationOverview(rotation, ahead[0], ahead[1:])
    return RotationOverview(rotation, None, ahead[:count])


def rotation_overviews(
    rotations: list[Rotation], *, now: datetime, count: int = 8
) -> dict[int, RotationOverview]:
    """`rotation_overview()` for many rotations in one query: each one's turns from now on,
    numbered per rotation in the same order, cut at the current turn plus `count`. The same rows
    and the same rule for the current turn (a test holds the two together)."""
    if not rotations:
        return {}
    per_departure = Q(rotation__turn_length=TurnLength.PER_DEPARTURE)
    order = Case(When(per_departure, then=F("slot")), default=F("starts_at"))
    turns = (
        RotationTurn.objects.filter(rotation__in=rotations)
        .filter((per_departure & Q(slot__gt=now)) | (~per_departure & Q(ends_at__gt=now)))
        .annotate(
            place=Window(
                RowNumber(),
                partition_by=[F("rotation_id")],
                order_by=[order.asc(), F("train__name").asc(), F("pk").asc()],
            )
        )
        .filter(place__lte=count + 1)
        .select_related("captain", "train")
        .order_by("rotation_id", "place")
    )
    ahead: dict[int, list[RotationTurn]] = defaultdict(list)
    for turn in turns:
        ahead[turn.rotation_id].append(turn)
    overviews = {}
    for rotation in rotations:
        found = ahead[rotation.pk]
        if found and (found[0].slot is not None or found[0].starts_at <= now):
            overviews[rotation.pk] = RotationOverview(rotation, found[0], found[1:])
        else:
            overviews[rotation.pk] = RotationOverview(rotation, None, found[:count])
    return overviews


@dataclass(frozen=True)
class RotationState:
    current: RotationTurn | None
    next_handoff: datetime | None
    warning_count: int


def rotation_states(rotations: list[Rotation], *, now: datetime) -> dict[int, RotationState]:
    """For a list of rotations, from one query: the turn running now, when the duty next changes
    hands, and how many turns in the next WARNING_DAYS nobody is eligible to hold."""
    current: dict[int, RotationTurn] = {}
    following: dict[int, RotationTurn] = {}
    warnings: dict[int, int] = defaultdict(int)
    warn_until = now + timedelta(days=WARNING_DAYS)
    turns = RotationTurn.objects.filter(rotation__in=rotations, ends_at__gt=now)
    for turn in turns.select_related("captain").order_by("ends_at", "starts_at"):
        # Per-departure turns may overlap: the one ending first is the one running.
        if turn.source == TurnSource.NOBODY and turn.starts_at < warn_until:
            warnings[turn.rotation_id] += 1
        if turn.starts_at <= now:
            current.setdefault(turn.rotation_id, turn)
        else:
            following.setdefault(turn.rotation_id, turn)
    states = {}
    for rotation in rotations:
        now_turn, next_turn = current.get(rotation.pk), following.get(rotation.pk)
        handoff = now_turn.ends_at if now_turn else next_turn.starts_at if next_turn else None
        states[rotation.pk] = RotationState(now_turn, handoff, warnings[rotation.pk])
    return states


def turns_for_user(user: User, *, since: datetime, until: datetime) -> QuerySet[RotationTurn]:
    """The turns the viewer holds that overlap [since, until), in their teams."""
    return (
        _turns()
        .filter(captain=user, rotation__team__memberships__user=user)
        .filter(starts_at__lt=until, ends_at__gt=since)
        .order_by("starts_at", "ends_at")
    )


def next_duty_for_user(user: User, *, now: datetime) -> RotationTurn | None:
    """The viewer's current turn, or the next one."""
    return (
        _turns()
        .filter(captain=user, rotation__team__memberships__user=user, ends_at__gt=now)
        .order_by("starts_at", "ends_at")
        .first()
    )


def handoff_for_user(user: User, *, now: datetime) -> RotationTurn | None:
    """The viewer's next turn that the outgoing captain left a handoff note for."""
    return (
        _turns()
        .filter(captain=user, rotation__team__memberships__user=user, ends_at__gt=now)
        .exclude(handoff_note="")
        .order_by("starts_at", "ends_at")
        .first()
    )


def rotation_warnings(
    rotation: Rotation, *, now: datetime, days: int = WARNING_DAYS
) -> QuerySet[RotationTurn]:
    """Turns in the next `days` that nobody is eligible to hold."""
    return (
        _turns()
        .filter(rotation=rotation, source=TurnSource.NOBODY, ends_at__gt=now)
        .filter(starts_at__lt=now + timedelta(days=days))
        .order_by("starts_at", "ends_at")
    )


def open_swaps_for_user(user: User, *, now: datetime) -> QuerySet[SwapRequest]:
    """Open swaps in the viewer's teams that someone else offered, for turns still to come."""
    return (
        SwapRequest.objects.filter(
            state=SwapState.OPEN,
            turn__rotation__team__memberships__user=user,
            turn__starts_at__gt=now,
        )
        .exclude(offered_by=user)
        .select_related("turn", "turn__rotation", "turn__rotation__team", "turn__train")
        .select_related("offered_by")
        .order_by("turn__starts_at")
    )
