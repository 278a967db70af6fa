"""Reads about captain duties for pages that show many departures or one person's duty at once.

`selectors_rotations` answers for one departure (`captain_for_departure`, used at the cut); the
calendar, the feed and the dashboard need the same answer for a whole range, so here the turns of
every departure in it come from one query over the trains' rotations, matched in Python the same
way: a per-departure rotation by (train, slot), a week-based one by the turn covering the slot.
Everything is scoped to the viewer's teams by the callers' trains or by the viewer.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, OuterRef, Q

from accounts.models import User
from releases.models import (
    Release,
    Rotation,
    RotationMember,
    RotationTurn,
    SwapRequest,
    Train,
    TurnLength,
    Unavailability,
)
from releases.models.releases import IN_FLIGHT
from releases.selectors import releases_for_user
from releases.selectors_rotations import (
    handoff_for_user,
    next_duty_for_user,
    open_swaps_for_user,
    turns_for_user,
)

DepartureKey = tuple[int, datetime]  # (train id, timetable slot)


# --- many departures ---------------------------------------------------------------------------


def turns_for_departures(
    departures: Iterable[tuple[Train, datetime]],
) -> dict[DepartureKey, RotationTurn]:
    """The planned turn of each (train, slot) whose train has a rotation, in one query.

    Keys are (train id, slot); a departure without a turn (no rotation, or not planned that far)
    is left out. The turn comes with its rotation and captain (who may be None: nobody eligible).
    """
    pairs = [(train, slot) for train, slot in departures if train.rotation_id]
    if not pairs:
        return {}
    slots = [slot for _, slot in pairs]
    first, last = min(slots), max(slots)
    per_departure = Q(rotation__turn_length=TurnLength.PER_DEPARTURE)
    own = per_departure & Q(
        train_id__in={train.pk for train, _ in pairs}, slot__gte=first, slot__lte=last
    )
    covering = ~per_departure & Q(starts_at__lte=last, ends_at__gt=first)
    turns = (
        RotationTurn.objects.filter(rotation_id__in={train.rotation_id for train, _ in pairs})
        .filter(own | covering)
        .select_related("rotation", "captain")
        .order_by("starts_at", "pk")
    )
    exact: dict[DepartureKey, RotationTurn] = {}
    weekly: dict[int, list[RotationTurn]] = defaultdict(list)
    for turn in turns:
        if turn.rotation.turn_length == TurnLength.PER_DEPARTURE:
            exact.setdefault((turn.train_id, turn.slot), turn)
        else:
            weekly[turn.rotation_id].append(turn)
    starts = {pk: [t.starts_at for t in found] for pk, found in weekly.items()}
    result: dict[DepartureKey, RotationTurn] = {}
    for train, slot in pairs:
        key = (train.pk, slot)
        if key in exact:
            result[key] = exact[key]
        elif train.rotation_id in weekly:
            # Week turns never overlap: the last one starting at or before the slot, if it
            # has not ended by then.
            index = bisect_right(starts[train.rotation_id], slot) - 1
            turn = weekly[train.rotation_id][index] if index >= 0 else None
            if turn is not None and turn.ends_at > slot:
                result[key] = turn
    return result


def captains_for_departures(
    departures: Iterable[tuple[Train, datetime]],
) -> dict[DepartureKey, User | None]:
    """Who captains each (train, slot) by the rotation: None where the turn has nobody."""
    return {key: turn.captain for key, turn in turns_for_departures(departures).items()}


# --- one person's duties -----------------------------------------------------------------------


def duties_for_feed(
    user: User,
    *,
    since: datetime,
    until: datetime,
    team: str | None = None,
    train: Train | None = None,
) -> list[RotationTurn]:
    """The turns `user` holds in [since, until) in their teams, for their own calendar feed.

    A feed narrowed to a team keeps that team's rotations; narrowed to a train, the turns that
    captain it (its rotation's week turns, or its own departures' turns).
    """
    turns = turns_for_user(user, since=since, until=until)
    if team:
        turns = turns.filter(rotation__team__slug=team)
    if train is not None:
        if not train.rotation_id:
            return []
        turns = turns.filter(rotation_id=train.rotation_id).filter(
            Q(slot__isnull=True) | Q(train_id=train.pk)
        )
    return list(turns)


@dataclass(frozen=True)
class DutyCard:
    """The dashboard's "Your captain duty": the turn now or next, its releases, the handoff note
    left for the viewer, and swaps they could take."""

    now: datetime
    rotations: list[Rotation]  # the rotations the viewer is a member of
    turn: RotationTurn | None  # the viewer's current turn, or their next one
    releases: list[Release] = field(default_factory=list)
    handoff: RotationTurn | None = None  # the viewer's next turn with a note left for it
    swaps: list[SwapRequest] = field(default_factory=list)
    more_swaps: bool = False

    @property
    def is_current(self) -> bool:
        return self.turn is not None and self.turn.starts_at <= self.now

    @property
    def on_rotation(self) -> bool:
        return bool(self.rotations) or self.turn is not None

    @property
    def handoff_is_for_turn(self) -> bool:
        """The note is for the turn shown (else the card says which turn it is for)."""
        return self.handoff is not None and self.turn is not None and self.handoff == self.turn


def duty_card_for_user(user: User, *, now: datetime, swap_limit: int = 5) -> DutyCard:
    """Five queries whatever the number of rotations, turns, releases and swaps."""
    rotations = [
        member.rotation
        for member in RotationMember.objects.filter(
            user=user, rotation__team__memberships__user=user
        )
        .select_related("rotation", "rotation__team")
        .order_by("rotation__team__name", "rotation__name")
    ]
    turn = next_duty_for_user(user, now=now)
    releases = _releases_of_turn(user, turn) if turn is not None else []
    handoff = handoff_for_user(user, now=now)
    swaps = list(swaps_user_could_take(user, now=now)[: swap_limit + 1])
    return DutyCard(
        now=now,
        rotations=rotations,
        turn=turn,
        releases=releases,
        handoff=handoff,
        swaps=swaps[:swap_limit],
        more_swaps=len(swaps) > swap_limit,
    )


def swaps_user_could_take(user: User, *, now: datetime):
    """Open swaps in the viewer's teams offered by someone else, for turns still to come that the
    viewer does not already hold and is not out of office for (what `swap_take` would allow)."""
    away = Unavailability.objects.filter(
        user=user, starts_at__lt=OuterRef("turn__ends_at"), ends_at__gt=OuterRef("turn__starts_at")
    )
    return open_swaps_for_user(user, now=now).exclude(turn__captain=user).exclude(Exists(away))


def _releases_of_turn(user: User, turn: RotationTurn) -> list[Release]:
    """Releases in flight that the turn captains, and any other in flight the viewer captains
    (a per-departure turn ends at its departure, while its release is still on its way)."""
    if turn.slot is not None:
        of_turn = Q(train_id=turn.train_id, slot=turn.slot)
    else:
        of_turn = Q(
            train__rotation_id=turn.rotation_id, slot__gte=turn.starts_at, slot__lt=turn.ends_at
        )
    return list(
        releases_for_user(user)
        .filter(of_turn | Q(captain=user), status__in=IN_FLIGHT)
        .order_by("target_at", "pk")
    )
