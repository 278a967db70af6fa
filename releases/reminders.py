"""The reminder tick, and the two swap events the rotation services send on commit.

`send_due_reminders(now)` runs every minute (Celery beat, or `manage.py send_due_reminders`). Each
kind (reminder_kinds.py) reads from the database what is due and the tick calls `notify()`, whose
exactly-once key makes a second tick, a second beat or a retried task harmless. A reminder is due
from its time until the thing it announces happens, so a tick missed during downtime is caught up,
and nothing is announced after the fact. Every title and body says what and when, in the
recipient's timezone (a webhook's in its team's).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone as djtz

from accounts.models import Membership, User
from releases.models import NotificationKind, SwapRequest, SwapState
from releases.reminder_kinds import (
    TeamManagers,
    captain_handoff_due,
    checklist_open_due,
    departure_coming_due,
    freeze_starts_due,
    no_eligible_captain_due,
    rotation_url,
    upcoming_departures,
)
from releases.services.notifications import Audience, deliveries_dispatch_due, notify

logger = logging.getLogger(__name__)

Kind = NotificationKind


# --- swap events (called by the rotation services once the swap is committed) -------------------


def _swap(swap: SwapRequest) -> SwapRequest | None:
    """The swap as committed, or None when it is gone (its turn was replanned meanwhile)."""
    return (
        SwapRequest.objects.select_related(
            "turn__rotation__team", "offered_by", "taken_by", "arranged_by"
        )
        .filter(pk=swap.pk)
        .first()
    )


def swap_opened(swap: SwapRequest, *, now: datetime) -> list:
    """The other members of the rotation's team hear that a turn is offered, and why."""
    swap = _swap(swap)
    if swap is None or swap.state != SwapState.OPEN:
        return []  # withdrawn or taken before this ran
    turn, offerer = swap.turn, swap.offered_by
    members = User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.filter(team_id=turn.rotation.team_id).values("user_id"),
    ).exclude(pk=offerer.pk)

    def body(a: Audience) -> str:
        return (
            f"The turn runs from {a.when(turn.starts_at)} "
            f"to {a.when(turn.ends_at)}.\n"
            f"Reason: {swap.reason}\nOpen the rotation page to take it."
        )

    return notify(
        kind=Kind.SWAP_OPENED,
        subject=f"swap:{swap.pk}",
        occurrence="opened",
        users=members,
        team=turn.rotation.team,
        title=lambda a: (
            f"{offerer.display_name} offers their turn on {a.day(turn.starts_at)}: {swap.reason}"
        ),
        body=body,
        url=rotation_url(turn.rotation),
        now=now,
    )


def swap_taken(swap: SwapRequest, *, now: datetime) -> list:
    """Whoever offered the turn and whoever took it hear who is captain now."""
    swap = _swap(swap)
    if swap is None or swap.state != SwapState.TAKEN or swap.taken_by is None:
        return []
    turn, offerer, taker = swap.turn, swap.offered_by, swap.taken_by

    def title(a: Audience) -> str:
        day = a.day(turn.starts_at)
        by = f" (arranged by {swap.arranged_by.display_name})" if swap.arranged_by else ""
        if a.is_user(taker):
            return f"You are captain on {day} in place of {offerer.display_name}{by}"
        if a.is_user(offerer):
            return f"{taker.display_name} takes your turn on {day}{by}"
        return f"{taker.display_name} takes {offerer.display_name}’s turn on {day}{by}"

    def body(a: Audience) -> str:
        return (
            f"{taker.display_name} is captain of {turn.rotation.name} from "
            f"{a.when(turn.starts_at)} to {a.when(turn.ends_at)}.\n"
            f"Reason for the swap: {swap.reason}"
        )

    return notify(
        kind=Kind.SWAP_TAKEN,
        subject=f"swap:{swap.pk}",
        occurrence="taken",
        users=[offerer, taker],
        team=turn.rotation.team,
        title=title,
        body=body,
        url=rotation_url(turn.rotation),
        now=now,
    )


# --- the tick ------------------------------------------------------------------------------------


def _expire_swaps(now: datetime) -> int:
    try:
        from releases.services.rotation_duty import swaps_expire
    except ImportError:
        return 0
    return swaps_expire(now)


def send_due_reminders(now: datetime | None = None) -> dict[str, int]:
    """Every reminder due at `now`, expired swaps, and deliveries due again.

    Returns the deliveries claimed per kind, plus "swaps_expired", "deliveries_dispatched" and
    "errors": a step that fails is logged and counted there, and the other steps still run.
    """
    now = now or djtz.now()
    managers = TeamManagers()
    upcoming: list = []
    steps = [
        ("upcoming", lambda: upcoming.extend(upcoming_departures(now))),
        (Kind.DEPARTURE_COMING, lambda: departure_coming_due(now, upcoming, managers)),
        (Kind.FREEZE_STARTS, lambda: freeze_starts_due(now, upcoming, managers)),
        (Kind.CAPTAIN_HANDOFF, lambda: captain_handoff_due(now)),
        (Kind.CHECKLIST_OPEN, lambda: checklist_open_due(now, managers)),
        (Kind.NO_ELIGIBLE_CAPTAIN, lambda: no_eligible_captain_due(now, managers)),
        ("swaps_expired", lambda: _expire_swaps(now)),
        ("deliveries_dispatched", lambda: deliveries_dispatch_due(now)),
    ]
    counts = {"errors": 0}
    for name, step in steps:
        try:
            result = step()
            if name in Kind.values:
                result = sum(len(notify(**vars(reminder), now=now)) for reminder in result)
            counts[str(name)] = result
        except Exception:
            logger.exception("Reminder step %s failed at %s", name, now.isoformat())
            counts[str(name)] = 0
            counts["errors"] += 1
    counts.pop("upcoming")
    return counts
