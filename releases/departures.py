"""Projected departures: a train's timetable with its skips, postponements and blackouts applied.

One function serves the cutter, the train page, the calendar, the iCalendar feed and the API, so
they can never disagree about when a train leaves. It takes the exceptions and blackouts as
arguments (loaded once by the caller) and does no queries of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from releases.timetable import zone

# A postponed departure can move later than its slot, but never past the next one; no cadence
# is slower than monthly-ish, so this look-back catches every postponement into a window.
POSTPONE_LOOKBACK = timedelta(days=32)


class DepartureState:
    SCHEDULED = "scheduled"
    POSTPONED = "postponed"
    SKIPPED = "skipped"
    BLACKOUT = "blackout"


@dataclass(frozen=True)
class Departure:
    train: object  # releases.models.Train (kept untyped: no ORM import here)
    slot: datetime
    departs_at: datetime
    state: str
    reason: str = ""

    @property
    def departs(self) -> bool:
        return self.state in (DepartureState.SCHEDULED, DepartureState.POSTPONED)

    @property
    def freeze_starts_at(self) -> datetime:
        return self.departs_at - timedelta(hours=self.train.freeze_lead_hours)

    @property
    def target_at(self) -> datetime:
        return self.departs_at + timedelta(hours=self.train.release_lead_hours)

    @property
    def key(self) -> str:
        """Stable identifier of the slot (iCalendar UIDs, URLs)."""
        return f"{self.train.pk}-{slot_key(self.slot)}"


SLOT_KEY_FORMAT = "%Y%m%dT%H%M%SZ"


def slot_key(slot: datetime) -> str:
    """A URL-safe, stable form of a UTC slot: 20261201T130000Z."""
    return slot.astimezone(UTC).strftime(SLOT_KEY_FORMAT)


def parse_slot_key(key: str) -> datetime:
    """The UTC slot of slot_key(); ValueError for anything else."""
    return datetime.strptime(key, SLOT_KEY_FORMAT).replace(tzinfo=UTC)


def project(
    train,
    start: datetime,
    end: datetime,
    *,
    exceptions: Iterable = (),
    blackouts: Iterable = (),
) -> list[Departure]:
    """Departures of `train` whose (possibly postponed) time falls in [start, end)."""
    by_slot = {exception.slot: exception for exception in exceptions}
    blackouts = [b for b in blackouts if b.team_id in (None, train.team_id)]
    tz = zone(train.timezone)
    found = []
    for slot in train.timetable.occurrences(start - POSTPONE_LOOKBACK, end):
        exception = by_slot.get(slot)
        departs_at, state, reason = slot, DepartureState.SCHEDULED, ""
        if exception is not None and exception.kind == "skip":
            state, reason = DepartureState.SKIPPED, exception.reason
        elif exception is not None and exception.kind == "postpone":
            departs_at = slot + timedelta(hours=exception.postpone_hours)
            state, reason = DepartureState.POSTPONED, exception.reason
        if state != DepartureState.SKIPPED:
            local_day = departs_at.astimezone(tz).date()
            blackout = next((b for b in blackouts if b.covers(local_day)), None)
            if blackout is not None:
                state, reason = DepartureState.BLACKOUT, blackout.reason
        if start <= departs_at < end:
            found.append(Departure(train, slot, departs_at, state, reason))
    return found
