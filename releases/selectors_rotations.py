"""Reads about rotations: who captains a departure, who is captain now and next."""

from datetime import datetime

from accounts.models import User
from releases.models import RotationTurn, Train, TurnLength


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
