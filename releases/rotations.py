"""Captain rotation schedules: when turns start and end, whose turn it is, and who holds it.

Pure Python (no ORM, no request), like `timetable.py`, so the rules are cheap to test and the
service that materialises turns stays a thin loop around them.

- Week-based turns hand off at a weekday and wall-clock time in the rotation's timezone: the first
  boundary falls on or after `starts_on`, the next ones every `weeks` weeks. Boundaries are computed
  as local dates and times and only then given the zone, so 10:00 Europe/Berlin stays 10:00 local
  on both sides of a DST change (the turn across the change is an hour shorter or longer).
- Per-departure turns run from the previous departure (among all the rotation's trains) up to
  their own departure; the first one starts a week before.
- Captain resolution: cover, then a taken swap, then the rotation's pick if eligible, then the
  next eligible member; nobody eligible is flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from releases.timetable import zone

# Turns are materialised this far ahead of now.
HORIZON = timedelta(days=120)
# The first per-departure turn has no previous departure to start from.
FIRST_DEPARTURE_LEAD = timedelta(days=7)


class Source:
    """How a turn's captain was chosen; the values are `releases.models.TurnSource`'s."""

    ROTATION = "rotation"
    SKIP = "skip"
    COVER = "cover"
    SWAP = "swap"
    NOBODY = "nobody"


# --- week-based turns ------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekSchedule:
    timezone: str
    weekday: int  # Monday is 0
    at: time
    starts_on: date
    weeks: int

    @property
    def first_day(self) -> date:
        return self.starts_on + timedelta(days=(self.weekday - self.starts_on.weekday()) % 7)

    def boundary(self, index: int) -> datetime:
        """The index-th handoff (UTC). A wall-clock time skipped by DST resolves an hour later."""
        day = self.first_day + timedelta(weeks=self.weeks * index)
        local = datetime.combine(day, self.at).replace(tzinfo=zone(self.timezone))
        return local.astimezone(UTC)

    def index_at_or_before(self, moment: datetime) -> int:
        """The last handoff at or before `moment`; -1 when the first one is still to come."""
        if moment < self.boundary(0):
            return -1
        period = timedelta(weeks=self.weeks)
        index = int((moment - self.boundary(0)) / period)
        # DST moves boundaries by an hour against the plain division; step to the exact one.
        while self.boundary(index) > moment:
            index -= 1
        while self.boundary(index + 1) <= moment:
            index += 1
        return index

    def windows(
        self, *, since: datetime, until: datetime, resume: bool = False
    ) -> list[tuple[datetime, datetime]]:
        """Turns [start, end) that end after `since` and start before `until`.

        With `resume`, the schedule continues from `since` (where history ends after an edit):
        the turn running at that instant is cut to start there, so turns never overlap.
        """
        index = max(self.index_at_or_before(since), 0)
        found = []
        while (start := self.boundary(index)) < until:
            end = self.boundary(index + 1)
            if end > since:
                found.append((max(start, since) if resume else start, end))
            index += 1
        return found


# --- per-departure turns ---------------------------------------------------------------------


@dataclass(frozen=True)
class DepartureTurn:
    train: object  # releases.models.Train (untyped: no ORM import here)
    slot: datetime
    starts_at: datetime
    ends_at: datetime


def departure_turns(departures: Iterable[tuple[object, datetime]]) -> list[DepartureTurn]:
    """One turn per (train, slot), from the previous departure's slot up to its own.

    Trains departing at the same instant get a turn each, both starting at the last earlier slot.
    """
    ordered = sorted(departures, key=lambda pair: (pair[1], getattr(pair[0], "pk", 0)))
    turns, previous, current = [], None, None
    for train, slot in ordered:
        if slot != current:
            previous, current = current, slot
        starts_at = previous if previous is not None else slot - FIRST_DEPARTURE_LEAD
        turns.append(DepartureTurn(train, slot, starts_at, slot))
    return turns


# --- who holds a turn ------------------------------------------------------------------------


def next_member(order: Sequence[int], previous: int | None) -> int | None:
    """The member after `previous` (wrapping round); the first when there is none or they left."""
    if not order:
        return None
    if previous is None or previous not in order:
        return order[0]
    return order[(order.index(previous) + 1) % len(order)]


@dataclass(frozen=True)
class Period:
    """A cover or an absence: who, from when until when, and why."""

    user_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str = ""

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        return self.starts_at < ends_at and self.ends_at > starts_at


class Resolution(NamedTuple):
    captain_id: int | None
    source: str
    reason: str = ""


@dataclass(frozen=True)
class Roster:
    """What captain resolution needs to know about people, loaded once per rotation."""

    order: Sequence[int]  # rotation members by position
    team_member_ids: frozenset[int]
    names: Mapping[int, str]
    away: Mapping[int, Sequence[Period]]  # user id → unavailabilities

    def absence(self, user_id: int, starts_at: datetime, ends_at: datetime) -> str | None:
        """Why `user_id` cannot hold a turn over [starts_at, ends_at), or None if they can."""
        name = self.names.get(user_id, "Someone")
        if user_id not in self.team_member_ids:
            return f"{name} is no longer a member of the team"
        for period in self.away.get(user_id, ()):
            if period.overlaps(starts_at, ends_at):
                why = f" ({period.reason})" if period.reason else ""
                return f"{name} is out of office{why}"
        return None


def resolve_captain(
    *,
    starts_at: datetime,
    ends_at: datetime,
    member_id: int | None,
    roster: Roster,
    covers: Sequence[Period] = (),
    swap: tuple[int, int] | None = None,
) -> Resolution:
    """Who holds a turn, and why. `covers` newest first; `swap` is (taker, offerer)."""
    cover = next(
        (
            c
            for c in covers
            if c.starts_at <= starts_at < c.ends_at and c.user_id in roster.team_member_ids
        ),
        None,
    )
    # A taker who has since become unavailable is skipped like anyone else.
    swapped = swap is not None and roster.absence(swap[0], starts_at, ends_at) is None
    # Cover beats everything, except a swap that the cover captain offered themselves.
    if cover is not None and not (swapped and swap[1] == cover.user_id):
        why = f": {cover.reason}" if cover.reason else ""
        return Resolution(cover.user_id, Source.COVER, f"Cover by {_name(roster, cover)}{why}")
    if swapped:
        taker, offerer = swap
        names = roster.names
        reason = f"Swap: {names.get(taker, 'Someone')} took it from {names.get(offerer, '?')}"
        return Resolution(taker, Source.SWAP, reason)
    if member_id is None:
        return Resolution(None, Source.NOBODY, "Nobody eligible: the rotation has no members")
    skipped = roster.absence(member_id, starts_at, ends_at)
    if skipped is None:
        return Resolution(member_id, Source.ROTATION)
    order = list(roster.order)
    start = order.index(member_id) + 1 if member_id in order else 0
    for candidate in order[start:] + order[:start]:
        if candidate != member_id and roster.absence(candidate, starts_at, ends_at) is None:
            return Resolution(candidate, Source.SKIP, skipped)
    return Resolution(None, Source.NOBODY, f"Nobody eligible: {skipped}")


def _name(roster: Roster, period: Period) -> str:
    return roster.names.get(period.user_id, "someone")
