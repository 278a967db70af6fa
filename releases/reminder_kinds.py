"""What is due now for each reminder kind, read from the database for one tick of reminders.py.

Departure coming and code freeze come from the projected departures; captain handoff and no
eligible captain from the planned rotation turns; checklist open from the releases in flight.
Each kind yields one `Reminder` per departure, turn or release that is due; a reminder is due from
its time until the thing it announces happens.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Prefetch
from django.urls import NoReverseMatch

from accounts.models import Team, User
from releases.calendar import departure_url
from releases.departures import POSTPONE_LOOKBACK, Departure, DepartureState, project, slot_key
from releases.models import (
    ChecklistItem,
    DepartureException,
    NotificationKind,
    Release,
    RotationTurn,
    Stage,
    Train,
    TurnSource,
)
from releases.models.releases import IN_FLIGHT
from releases.permissions import MANAGING_ROLES
from releases.selectors import blackouts_for_teams
from releases.selectors_rotations import captain_for_departure
from releases.services.notifications import Audience, Text

logger = logging.getLogger(__name__)

Kind = NotificationKind
HANDOFF_LEAD = timedelta(hours=24)
CHECKLIST_LEAD = timedelta(hours=2)
NOBODY_LEAD = timedelta(days=7)
# Items of these stages should be done by the target; after-release items come later.
STAGES_BEFORE_TARGET = (Stage.BEFORE_CUT, Stage.BEFORE_APPROVAL, Stage.DURING_DEPLOY)
LISTED = 15
TICK = timedelta(microseconds=1)


def _in(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 90:
        return f"in {minutes} min"
    hours = round(minutes / 60)
    return f"in {hours} h" if hours < 48 else f"in {round(hours / 24)} days"


def rotation_url(rotation) -> str:
    try:
        return rotation.get_absolute_url()
    except NoReverseMatch:  # the rotation pages arrive separately
        return f"/rotations/{rotation.pk}/"


@dataclass(frozen=True)
class Reminder:
    """One reminder that is due: what `notify()` needs, but `now`."""

    kind: str
    subject: str
    occurrence: str
    users: list
    team: Team | None
    title: Text
    body: Text
    url: str


class TeamManagers(dict):
    """The active managers of each team, read once per tick."""

    def __missing__(self, team_id: int) -> list[User]:
        self[team_id] = list(
            User.objects.filter(
                is_active=True,
                memberships__team_id=team_id,
                memberships__role__in=MANAGING_ROLES,
            ).order_by("pk")
        )
        return self[team_id]


# --- departures: coming, and code freeze ---------------------------------------------------------


def _reminder_hours(train: Train) -> list[int]:
    hours = set()
    for value in train.reminder_hours or []:
        try:
            hours.add(int(value))
        except (TypeError, ValueError):
            logger.warning("Train %s has a reminder hour that is not a number: %r", train.pk, value)
    return sorted(hour for hour in hours if hour > 0)


def upcoming_departures(now: datetime) -> list[tuple[Train, Departure]]:
    """Departures that really leave after `now`, as far ahead as any train reminds of them."""
    trains = list(
        Train.objects.filter(is_paused=False)
        .select_related("team", "rotation")
        .prefetch_related(
            Prefetch(
                "exceptions",
                queryset=DepartureException.objects.filter(slot__gte=now - POSTPONE_LOOKBACK),
                to_attr="recent_exceptions",
            )
        )
    )
    blackouts = blackouts_for_teams(
        {train.team_id for train in trains}, since=now.date() - timedelta(days=1)
    )
    found = []
    for train in trains:
        lead = max([*_reminder_hours(train), train.freeze_lead_hours])
        if lead <= 0:
            continue
        end = now + timedelta(hours=lead) + TICK
        for departure in project(
            train, now + TICK, end, exceptions=train.recent_exceptions, blackouts=blackouts
        ):
            if departure.departs:
                found.append((train, departure))
    return found


def _departure_people(train: Train, departure: Departure, managers: TeamManagers):
    captain = captain_for_departure(train, departure.slot)
    return captain, [captain] if captain else managers[train.team_id]


def _captain_line(captain: User | None, a: Audience) -> str:
    return f"Captain: {a.name(captain)}." if captain else "Nobody is captain yet."


def departure_coming_due(now: datetime, upcoming, managers: TeamManagers) -> Iterator[Reminder]:
    """Each train's reminder hours before the cut; after downtime only the nearest is sent."""
    for train, departure in upcoming:
        left = departure.departs_at - now
        hours = [h for h in _reminder_hours(train) if left <= timedelta(hours=h)]
        if not hours:
            continue
        captain, people = _departure_people(train, departure, managers)

        def title(a: Audience, train=train, departure=departure, left=left) -> str:
            return f"{train.name} departs {_in(left)}: {a.when(departure.departs_at)}"

        def body(a: Audience, departure=departure, captain=captain) -> str:
            lines = [
                f"The train is cut at {a.when(departure.departs_at)} whatever is "
                "ready; changes not marked ready by then wait for the next departure.",
                _captain_line(captain, a),
            ]
            if departure.state == DepartureState.POSTPONED:
                since = a.when(departure.slot)
                lines.append(f"Postponed from {since}. {departure.reason}".strip())
            return "\n".join(lines)

        yield Reminder(
            kind=Kind.DEPARTURE_COMING,
            subject=f"departure:{train.pk}:{slot_key(departure.slot)}",
            occurrence=f"{min(hours)}h",
            users=people,
            team=train.team,
            title=title,
            body=body,
            url=departure_url(train.pk, departure.slot),
        )


def freeze_starts_due(now: datetime, upcoming, managers: TeamManagers) -> Iterator[Reminder]:
    """When the code freeze before a departure begins (freeze_lead_hours before the cut)."""
    for train, departure in upcoming:
        if not train.freeze_lead_hours or departure.freeze_starts_at > now:
            continue
        captain, people = _departure_people(train, departure, managers)

        def title(a: Audience, train=train, departure=departure) -> str:
            cut = a.when(departure.departs_at)
            return f"Code freeze for {train.name}: the cut is {cut}"

        def body(a: Audience, departure=departure, captain=captain) -> str:
            return (
                f"The code freeze began at {a.when(departure.freeze_starts_at)}. "
                "Only fixes for this departure should land now; new work waits for the next one."
                f"\n{_captain_line(captain, a)}"
            )

        yield Reminder(
            kind=Kind.FREEZE_STARTS,
            subject=f"departure:{train.pk}:{slot_key(departure.slot)}",
            occurrence="freeze",
            users=people,
            team=train.team,
            title=title,
            body=body,
            url=departure_url(train.pk, departure.slot),
        )


# --- rotations: handoff, and turns nobody can take ----------------------------------------------


def _previous_captains(turn: RotationTurn) -> list[User]:
    """Who holds the turn(s) ending where this one begins."""
    before = RotationTurn.objects.filter(
        rotation_id=turn.rotation_id, ends_at__lte=turn.starts_at
    ).exclude(pk=turn.pk)
    last = before.order_by("-ends_at").values_list("ends_at", flat=True).first()
    if last is None:
        return []
    turns = before.filter(ends_at=last, captain__isnull=False).select_related("captain")
    return list({t.captain_id: t.captain for t in turns}.values())


def _turn_span(turn: RotationTurn, a: Audience) -> str:
    if turn.train_id and turn.slot:
        return f"the {turn.train.name} departure at {a.when(turn.slot)}"
    return f"the turn until {a.when(turn.ends_at)}"


def captain_handoff_due(now: datetime) -> Iterator[Reminder]:
    """A day before a turn, its incoming captain hears when it starts, with the handoff note."""
    turns = RotationTurn.objects.filter(
        captain__isnull=False, starts_at__gt=now, starts_at__lte=now + HANDOFF_LEAD
    ).select_related("rotation__team", "captain", "train", "handoff_note_by")
    for turn in turns:
        outgoing = _previous_captains(turn)
        if [c.pk for c in outgoing] == [turn.captain_id]:
            continue  # the same captain carries on: nothing is handed over

        def title(a: Audience, turn=turn) -> str:
            mine = a.is_user(turn.captain)
            who = "You are" if mine else f"{turn.captain.display_name} is"
            return f"{who} captain of {turn.rotation.name} from {a.when(turn.starts_at)}"

        def body(a: Audience, turn=turn, outgoing=outgoing) -> str:
            lines = [f"The turn covers {_turn_span(turn, a)}."]
            if outgoing:
                lines.append(f"Taking over from {', '.join(a.name(c) for c in outgoing)}.")
            if turn.handoff_note:
                by = f" from {turn.handoff_note_by.display_name}" if turn.handoff_note_by else ""
                lines.append(f"\nHandoff note{by}:\n{turn.handoff_note}")
            else:
                lines.append("No handoff note has been written yet.")
            return "\n".join(lines)

        yield Reminder(
            kind=Kind.CAPTAIN_HANDOFF,
            subject=f"turn:{turn.pk}",
            occurrence=turn.starts_at.isoformat(),
            users=[turn.captain],
            team=turn.rotation.team,
            title=title,
            body=body,
            url=rotation_url(turn.rotation),
        )


def no_eligible_captain_due(now: datetime, managers: TeamManagers) -> Iterator[Reminder]:
    """Managers hear, days ahead, of a turn that nobody in the rotation can take."""
    turns = RotationTurn.objects.filter(
        source=TurnSource.NOBODY, starts_at__gt=now, starts_at__lte=now + NOBODY_LEAD
    ).select_related("rotation__team", "train")
    for turn in turns:

        def title(a: Audience, turn=turn) -> str:
            starts = a.when(turn.starts_at)
            return f"Nobody can captain {turn.rotation.name} from {starts}"

        def body(a: Audience, turn=turn) -> str:
            why = f" {turn.reason.rstrip('.')}." if turn.reason else ""
            return (
                f"No member of the rotation is eligible for {_turn_span(turn, a)}.{why}\n"
                "Assign cover on the rotation page, or add people to the rotation."
            )

        yield Reminder(
            kind=Kind.NO_ELIGIBLE_CAPTAIN,
            subject=f"turn:{turn.pk}",
            occurrence="nobody",
            users=managers[turn.rotation.team_id],
            team=turn.rotation.team,
            title=title,
            body=body,
            url=rotation_url(turn.rotation),
        )


# --- releases: required items still open near the target ---------------------------------------


def checklist_open_due(now: datetime, managers: TeamManagers) -> Iterator[Reminder]:
    """Two hours before a release's target, its captain (or else the managers) hears which
    required items are still open."""
    releases = list(
        Release.objects.filter(
            status__in=IN_FLIGHT, target_at__gt=now, target_at__lte=now + CHECKLIST_LEAD
        ).select_related("train__team", "train__rotation", "captain")
    )
    open_items: dict[int, list[ChecklistItem]] = {}
    for item in ChecklistItem.objects.filter(
        release__in=releases,
        is_required=True,
        ticked_at__isnull=True,
        stage__in=STAGES_BEFORE_TARGET,
    ).order_by("release_id", "position", "pk"):
        open_items.setdefault(item.release_id, []).append(item)
    for release in releases:
        items = open_items.get(release.pk)
        if not items:
            continue
        captain = release.captain
        if captain is None and release.slot is not None:
            captain = captain_for_departure(release.train, release.slot)

        def title(a: Audience, release=release, items=items) -> str:
            count = f"{len(items)} required checklist item{'s' if len(items) != 1 else ''}"
            return f"{release} targets {a.when(release.target_at)}: {count} still open"

        def body(a: Audience, items=items) -> str:
            lines = ["Still open:"]
            lines += [f"- {item.text} ({item.get_stage_display()})" for item in items[:LISTED]]
            if len(items) > LISTED:
                lines.append(f"… and {len(items) - LISTED} more.")
            return "\n".join(lines)

        yield Reminder(
            kind=Kind.CHECKLIST_OPEN,
            subject=f"release:{release.pk}",
            occurrence="target-2h",
            users=[captain] if captain else managers[release.train.team_id],
            team=release.train.team,
            title=title,
            body=body,
            url=release.get_absolute_url(),
        )
