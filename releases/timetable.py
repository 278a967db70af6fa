"""Train timetables: RFC 5545 RRULEs evaluated in the train's own IANA timezone.

Pure Python (no ORM, no request), so it is cheap to test and to call for projections.
Occurrences are generated as naive wall-clock times and only then given the zone: a train at
14:00 Europe/Berlin departs at 14:00 local on both sides of a DST change. A wall-clock time that
does not exist on a spring-forward day resolves to the instant one hour later, as zoneinfo does.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dateutil.rrule import rrule, rrulestr

# Refuse rules that would make a departure more often than this: a release train, not a cron job.
MIN_INTERVAL = timedelta(hours=1)
SEARCH_HORIZON = timedelta(days=3 * 366)
_UTC_UNTIL = re.compile(r"UNTIL=(\d{8}T\d{6})Z")


class TimetableError(ValueError):
    """The timetable cannot be used; the message says why, for a form or an API error."""


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    rrule_template: str  # str.format() with weekday, hour, minute, nth


_AT = "BYHOUR={hour};BYMINUTE={minute}"
PRESETS = (
    Preset("weekly", "Weekly on a weekday", "FREQ=WEEKLY;BYDAY={weekday};" + _AT),
    Preset("biweekly", "Every two weeks", "FREQ=WEEKLY;INTERVAL=2;BYDAY={weekday};" + _AT),
    Preset("monthly", "Monthly on the Nth weekday", "FREQ=MONTHLY;BYDAY={nth}{weekday};" + _AT),
    Preset("weekdays", "Daily on weekdays", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;" + _AT),
)
PRESETS_BY_KEY = {preset.key: preset for preset in PRESETS}
WEEKDAYS = (("MO", "Monday"), ("TU", "Tuesday"), ("WE", "Wednesday"), ("TH", "Thursday"),
            ("FR", "Friday"), ("SA", "Saturday"), ("SU", "Sunday"))  # fmt: skip


def preset_rrule(key: str, *, weekday: str = "TU", hour: int = 14, minute: int = 0, nth: int = 1):
    if key not in PRESETS_BY_KEY:
        raise TimetableError(f"Unknown preset “{key}”.")
    if weekday not in dict(WEEKDAYS):
        raise TimetableError(f"Unknown weekday “{weekday}”; use MO, TU, WE, TH, FR, SA or SU.")
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise TimetableError("The time of day must be between 00:00 and 23:59.")
    if not (-1 <= nth <= 4 and nth != 0):
        raise TimetableError(
            "For a monthly train choose the 1st to 4th, or the last (-1), weekday."
        )
    return PRESETS_BY_KEY[key].rrule_template.format(
        weekday=weekday, hour=hour, minute=minute, nth=nth
    )


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise TimetableError(
            f"“{name}” is not a known IANA timezone, such as Europe/Berlin."
        ) from exc


@dataclass(frozen=True)
class Timetable:
    """A validated RRULE anchored at a start date in a timezone."""

    rule: str
    starts_on: date
    timezone: str

    @classmethod
    def parse(cls, rule: str, *, starts_on: date, timezone: str) -> Timetable:
        """Validate everything a person can get wrong; raise TimetableError with a clear message."""
        rule = (rule or "").strip()
        if rule.upper().startswith("RRULE:"):
            rule = rule[len("RRULE:") :]
        if not rule:
            raise TimetableError("Enter a timetable rule, such as FREQ=WEEKLY;BYDAY=TU;BYHOUR=14.")
        if "DTSTART" in rule.upper() or "\n" in rule:
            raise TimetableError("Give only the RRULE; the start date is a separate field.")
        zone(timezone)
        timetable = cls(rule=rule.upper(), starts_on=starts_on, timezone=timezone)
        try:
            compiled = timetable._rrule()
        except (ValueError, TypeError) as exc:
            raise TimetableError(f"This is not a valid RFC 5545 RRULE: {exc}.") from exc
        first_two = list(_take(iter(compiled), 2))
        if len(first_two) == 2 and first_two[1] - first_two[0] < MIN_INTERVAL:
            raise TimetableError("Departures must be at least an hour apart.")
        return timetable

    def _rrule(self) -> rrule:
        dtstart = datetime.combine(self.starts_on, time(0, 0))
        rule = self.rule
        # Without BYHOUR/BYMINUTE a rule would depart at midnight; without BYSECOND at :00 anyway.
        if "BYSECOND" not in rule:
            rule += ";BYSECOND=0"
        compiled = rrulestr(_local_until(rule, self.timezone), dtstart=dtstart, cache=False)
        if not isinstance(compiled, rrule):
            raise ValueError("a single RRULE is expected")
        return compiled

    def occurrences(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Departure slots (UTC) with start <= slot < end."""
        tz = zone(self.timezone)
        local_start = start.astimezone(tz).replace(tzinfo=None) - timedelta(hours=3)
        local_end = end.astimezone(tz).replace(tzinfo=None) + timedelta(hours=3)
        for naive in self._rrule().between(local_start, local_end, inc=True):
            slot = naive.replace(tzinfo=tz).astimezone(UTC)
            if start <= slot < end:
                yield slot

    def next_after(self, moment: datetime, count: int = 1) -> list[datetime]:
        """The next `count` slots strictly after `moment` (UTC), looking at most ~3 years ahead."""
        found: list[datetime] = []
        window_start = moment + timedelta(microseconds=1)
        window = timedelta(days=35)
        while len(found) < count and window_start - moment < SEARCH_HORIZON:
            found.extend(self.occurrences(window_start, window_start + window))
            window_start += window
        return found[:count]

    def previous_before(self, moment: datetime) -> datetime | None:
        """The latest slot at or before `moment`, looking back at most ~3 years."""
        window_end = moment + timedelta(microseconds=1)
        window = timedelta(days=35)
        while moment - window_end < SEARCH_HORIZON:
            slots = list(self.occurrences(window_end - window, window_end))
            if slots:
                return slots[-1]
            if window_end.date() < self.starts_on:
                return None
            window_end -= window
        return None


def _local_until(rule: str, timezone: str) -> str:
    """RFC 5545 writes UNTIL in UTC (…Z); occurrences are generated in local wall-clock time."""
    match = _UTC_UNTIL.search(rule)
    if not match:
        return rule
    until = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    local = until.astimezone(zone(timezone)).strftime("%Y%m%dT%H%M%S")
    return rule[: match.start(1)] + local + rule[match.end(1) + 1 :]


def _take(iterator: Iterator, count: int):
    for _, item in zip(range(count), iterator, strict=False):
        yield item


# --- versions -------------------------------------------------------------------------------


class VersionScheme:
    SEMVER_MINOR = "semver_minor"
    SEMVER_PATCH = "semver_patch"
    CALVER = "calver"
    CHOICES = (
        (SEMVER_MINOR, "SemVer, minor bump (4.11.0 → 4.12.0)"),
        (SEMVER_PATCH, "SemVer, patch bump (4.11.2 → 4.11.3)"),
        (CALVER, "CalVer YYYY.MM.N (2026.11.1, 2026.11.2, …)"),
    )


def next_version(scheme: str, previous: str | None, *, on: date, initial: str = "1.0.0") -> str:
    """The version a new release gets, from the previous release's version."""
    if scheme == VersionScheme.CALVER:
        prefix = f"{on.year}.{on.month:02d}."
        if previous and previous.startswith(prefix) and previous[len(prefix) :].isdigit():
            return f"{prefix}{int(previous[len(prefix) :]) + 1}"
        return f"{prefix}1"
    if not previous:
        return initial
    parts = previous.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise TimetableError(f"“{previous}” is not a SemVer version like 4.11.0.")
    major, minor, patch = (int(p) for p in parts)
    if scheme == VersionScheme.SEMVER_PATCH:
        return f"{major}.{minor}.{patch + 1}"
    return f"{major}.{minor + 1}.0"
