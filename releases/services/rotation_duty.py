"""The duty around a rotation: cover, time off, swap requests and handoff notes.

Each change replans the rotation's unstarted turns (rotation_replan), so it applies from the
next turn on and the releases of those turns follow their new captain.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone as djtz

from accounts.models import Membership, User
from core.services import audit_record
from releases.models import (
    CaptainCover,
    Rotation,
    RotationTurn,
    SwapRequest,
    SwapState,
    Unavailability,
)
from releases.permissions import MANAGING_ROLES, is_manager, require_manager, require_member
from releases.services.rotations import (
    HANDOFF_NOTE_LIMIT,
    rotation_replan,
    rotations_replan_for_member,
)

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
    rotation_replan(rotation, now, actor=actor, why=f"cover by {user.display_name}")
    audit_record(actor=actor, action="rotation.cover_added", target=cover)
    return cover


@transaction.atomic
def cover_remove(*, actor: User, cover: CaptainCover, now: datetime | None = None) -> None:
    now = now or djtz.now()
    rotation = cover.rotation
    require_manager(actor, rotation.team_id, action="remove cover")
    audit_record(actor=actor, action="rotation.cover_removed", target=cover)
    cover.delete()
    rotation_replan(rotation, now, actor=actor, why="cover removed")


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
    rotations_replan_for_member(user, now, actor=actor, why=f"{user.display_name} is out of office")
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
    rotations_replan_for_member(user, now, actor=actor, why=f"{user.display_name} is back")


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
    rotation_replan(rotation, now, actor=actor, why=f"{actor.display_name} took a swap")
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
    rotation_replan(rotation, now, actor=actor, why=f"{actor.display_name} arranged a swap")
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
    turn.updated_at = now
    turn.save(update_fields=["handoff_note", "handoff_note_by", "handoff_note_at", "updated_at"])
    audit_record(actor=actor, action="rotation.handoff_note", target=turn)
    return turn


def _outgoing_captains(turn: RotationTurn) -> set[int]:
    """Captains of the turn(s) ending where this one begins (two trains may depart together)."""
    before = RotationTurn.objects.filter(rotation_id=turn.rotation_id).exclude(pk=turn.pk)
    end = before.filter(ends_at__lte=turn.starts_at).aggregate(end=Max("ends_at"))["end"]
    if end is None:
        return set()
    return set(before.filter(ends_at=end).values_list("captain_id", flat=True)) - {None}
