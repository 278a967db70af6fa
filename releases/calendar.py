"""Reads for the release calendar (month, week, agenda), its departure pages and its iCalendar feed.

Where things sit: a release sits at the moment it departed (`cut_at`; one never cut sits at its
`target_at`), which is exactly where its projected departure sat before the cut, so a departure
turns into its release in place (and keeps its iCalendar UID). Target and release times are on the
release page and in the feed's description. The future shows departures projected from the
timetables (skips, postponements and blackouts applied) from now up to PROJECTION_HORIZON ahead;
the past shows releases and the departures that did not leave (skipped, blackout, missed).
Code freezes run from `freeze_lead_hours` before a departure until the departure. A critical
release's rehearsal sits at its `rehearsal_at`, as an entry of its own linking to the release.

A range costs the same few queries however much history it holds: the viewer's trains (once per
page), then releases (with train, team and captain; the same query brings the critical releases
rehearsed in the range), departure exceptions, blackouts and unmet departures, one query each,
and when a train has a captain rotation one more for the turns of every projected departure.
A projected departure shows the captain of its rotation turn; a release shows its own captain
(set from the turn at the cut, changed by hand or by a swap since). Nothing here writes.
"""

from __future__ import annotations

import calendar as pycalendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from releases.departures import (
    POSTPONE_LOOKBACK,
    Departure,
    DepartureState,
    parse_slot_key,
    project,
    slot_key,
)
from releases.models import (
    BlackoutPeriod,
    CalendarFeedToken,
    ChangeItem,
    DepartureException,
    DepartureLog,
    DepartureOutcome,
    Release,
    ReleaseStatus,
    RotationTurn,
    Train,
)
from releases.selectors import next_departures, trains_for_user
from releases.selectors_duties import turns_for_departures

VIEWS = ("month", "week", "agenda")
# Upcoming departures are projected this far ahead of now (the issue asks for at least 90 days).
PROJECTION_HORIZON = timedelta(days=180)
# The agenda lists this many days from its date.
AGENDA_DAYS = 30
# The iCalendar feed covers this window around now.
FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=180)
# The week view always shows these hours; earlier or later ones only when something is there.
WEEK_FIRST_HOUR, WEEK_LAST_HOUR = 8, 19


class EntryKind:
    RELEASE = "release"
    DEPARTURE = "departure"  # projected from the timetable
    UNMET = "unmet"  # a past departure that did not leave: skipped, blackout, missed
    FREEZE = "freeze"  # a code freeze starts (agenda only; month and week shade it)
    REHEARSAL = "rehearsal"  # a critical release is rehearsed


# Badge class and text for departures that are not releases (yet): text always, colour second.
DEPARTURE_BADGES = {
    DepartureState.SCHEDULED: ("planned", "Departs"),
    DepartureState.POSTPONED: ("warning", "Postponed"),
    DepartureState.SKIPPED: ("neutral", "Skipped"),
    DepartureState.BLACKOUT: ("neutral", "Blackout"),
}
# A rehearsal's badge says why there is one; its label says what it is.
REHEARSAL_BADGE = ("critical", "Critical")
UNMET_BADGES = {
    DepartureOutcome.SKIPPED: ("neutral", "Skipped"),
    DepartureOutcome.SKIPPED_EMPTY: ("neutral", "Skipped: empty"),
    DepartureOutcome.BLACKOUT: ("neutral", "Blackout"),
    DepartureOutcome.MISSED: ("danger", "Missed"),
}


def departure_url(train_id: int, slot: datetime) -> str:
    return reverse("releases:departure_detail", args=[train_id, slot_key(slot)])


@dataclass(frozen=True)
class Entry:
    """One thing on the calendar: a chip in the month and week, a row in the agenda."""

    kind: str
    at: datetime  # UTC
    local: datetime  # in the viewer's timezone
    train: Train
    url: str
    badge_class: str
    badge_label: str
    release: Release | None = None
    departure: Departure | None = None
    note: str = ""  # why a departure is skipped, postponed or did not leave
    turn: RotationTurn | None = None  # a projected departure's turn in its train's rotation

    @property
    def label(self) -> str:
        """The train, and the version once there is a release; the badge says what happens."""
        if self.kind == EntryKind.REHEARSAL:
            return f"Rehearsal: {self.train.name} {self.release.version}"
        if self.release is not None:
            return f"{self.train.name} {self.release.version}"
        return self.train.name

    @property
    def departs(self) -> bool:
        return self.departure is not None and self.departure.departs

    @property
    def is_rehearsal(self) -> bool:
        return self.kind == EntryKind.REHEARSAL

    @property
    def is_muted(self) -> bool:
        """A departure that does not (or did not) leave, or the rehearsal of a release that was
        cancelled: shown struck through."""
        if self.kind == EntryKind.REHEARSAL:
            return self.release.status == ReleaseStatus.CANCELLED
        return self.kind == EntryKind.UNMET or (
            self.kind == EntryKind.DEPARTURE and not self.departs
        )

    @property
    def is_projected(self) -> bool:
        return self.kind in (EntryKind.DEPARTURE, EntryKind.FREEZE)

    @property
    def captain(self) -> User | None:
        """A release's own captain; a projected departure's comes from its rotation turn."""
        if self.release is not None:
            return self.release.captain
        return self.turn.captain if self.turn is not None else None

    @property
    def captainless(self) -> bool:
        """A departure its rotation has nobody eligible for: worth a warning, not a blank."""
        return self.release is None and self.turn is not None and self.turn.captain is None

    @property
    def uid_key(self) -> str:
        """What makes the iCalendar UID: a scheduled release shares its departure's."""
        if self.kind == EntryKind.REHEARSAL:
            return f"rehearsal-{self.release.pk}"
        if self.release is not None and self.release.slot is None:
            return f"release-{self.release.pk}"
        slot = self.release.slot if self.release is not None else self._slot
        return f"departure-{self.train.pk}-{slot_key(slot)}"

    @property
    def _slot(self) -> datetime:
        return self.departure.slot if self.departure is not None else self.at


@dataclass(frozen=True)
class Freeze:
    """A code freeze: from freeze_lead_hours before a departure until the departure."""

    train: Train
    starts_at: datetime
    ends_at: datetime
    url: str  # the departure (or the release it became)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.starts_at < end and self.ends_at > start


@dataclass
class RangeData:
    entries: list[Entry]
    freezes: list[Freeze]
    blackouts: list[BlackoutPeriod]
    projected_until: datetime


# --- trains and filters ------------------------------------------------------------------------


def calendar_trains(user: User) -> list[Train]:
    """Every train of the viewer's teams, with its team: the filter choices and the data source."""
    return list(trains_for_user(user).order_by("team__name", "name"))


def filter_trains(
    trains: list[Train], *, team: str | None = None, train: int | None = None
) -> list[Train]:
    return [
        t for t in trains if (not team or t.team.slug == team) and (train is None or t.pk == train)
    ]


def resolve_filter(trains: list[Train], *, team: str | None, train: int | None) -> list[Train]:
    """The trains a feed filter selects; ValidationError (field → message) for foreign values."""
    errors = {}
    if team and not any(t.team.slug == team for t in trains):
        errors["team"] = [f"You are not in a team “{team}” with trains."]
    if train is not None and not any(t.pk == train for t in trains):
        errors["train"] = [f"There is no train {train} in your teams."]
    if errors:
        raise ValidationError(errors)
    return filter_trains(trains, team=team, train=train)


# --- one range ---------------------------------------------------------------------------------


def calendar_range(
    trains: list[Train], *, start: datetime, end: datetime, now: datetime, tz: tzinfo = UTC
) -> RangeData:
    """Everything of `trains` in [start, end): releases, departures, freezes and blackouts."""
    projected_until = now + PROJECTION_HORIZON
    if not trains:
        return RangeData([], [], [], projected_until)
    by_id = {t.pk: t for t in trains}
    # Freezes reach back from their departure, so look a little past the end for departures.
    lead = timedelta(hours=max(t.freeze_lead_hours for t in trains))
    reach = end + lead

    releases = list(
        Release.objects.filter(train_id__in=list(by_id))
        .filter(
            Q(cut_at__gte=start, cut_at__lt=reach)
            | Q(cut_at__isnull=True, target_at__gte=start, target_at__lt=reach)
            # Rehearsals ride the same query: a critical release rehearsed in the range.
            | Q(is_critical=True, rehearsal_at__gte=start, rehearsal_at__lt=end)
        )
        .select_related("train__team", "captain")
    )
    unmet = list(
        DepartureLog.objects.filter(
            train_id__in=list(by_id), slot__gte=start, slot__lt=end
        ).exclude(outcome=DepartureOutcome.CUT)
    )
    project_from, project_to = max(start, now), min(reach, projected_until)
    exceptions = defaultdict(list)
    if project_from < project_to:
        for exception in DepartureException.objects.filter(
            train_id__in=list(by_id),
            slot__gte=project_from - POSTPONE_LOOKBACK,
            slot__lt=project_to,
        ):
            exceptions[exception.train_id].append(exception)
    blackouts = list(
        BlackoutPeriod.objects.filter(
            Q(team__isnull=True) | Q(team_id__in={t.team_id for t in trains}),
            starts_on__lte=(reach + timedelta(days=1)).date(),
            ends_on__gte=(start - timedelta(days=1)).date(),
        ).select_related("team")
    )

    entries: list[Entry] = []
    freezes: list[Freeze] = []
    taken = set()  # (train id, slot): a release or an unmet log replaces the projection
    for release in releases:
        at = release.cut_at or release.target_at
        train = by_id[release.train_id]
        if release.slot is not None:
            taken.add((release.train_id, release.slot))
        if _rehearsed_within(release, start, end):
            entries.append(_rehearsal_entry(release, train, tz))
        if at is None or not start <= at < reach:
            continue  # here only for its rehearsal
        if release.cut_at is not None and release.slot is not None:
            freezes.append(
                Freeze(
                    train,
                    at - timedelta(hours=train.freeze_lead_hours),
                    release.cut_at,
                    release.get_absolute_url(),
                )
            )
        if at < end:
            entries.append(
                Entry(
                    EntryKind.RELEASE,
                    at,
                    timezone.localtime(at, tz),
                    train,
                    release.get_absolute_url(),
                    release.status,
                    release.get_status_display(),
                    release=release,
                )
            )
    for log in unmet:
        taken.add((log.train_id, log.slot))
        badge_class, badge_label = UNMET_BADGES.get(log.outcome, ("neutral", log.outcome))
        entries.append(
            Entry(
                EntryKind.UNMET,
                log.slot,
                timezone.localtime(log.slot, tz),
                by_id[log.train_id],
                departure_url(log.train_id, log.slot),
                badge_class,
                badge_label,
                note=log.note,
            )
        )
    shown: list[Departure] = []
    if project_from < project_to:
        for train in trains:
            if train.is_paused:
                continue  # a paused train does not depart
            for departure in project(
                train,
                project_from,
                project_to,
                exceptions=exceptions[train.pk],
                blackouts=blackouts,
            ):
                if (train.pk, departure.slot) in taken:
                    continue
                if departure.departs:
                    freezes.append(
                        Freeze(
                            train,
                            departure.freeze_starts_at,
                            departure.departs_at,
                            departure_url(train.pk, departure.slot),
                        )
                    )
                if departure.departs_at < end:
                    shown.append(departure)
    # One query for the captains of every departure shown, whatever their number.
    turns = turns_for_departures((d.train, d.slot) for d in shown if d.departs)
    for departure in shown:
        badge_class, badge_label = DEPARTURE_BADGES[departure.state]
        entries.append(
            Entry(
                EntryKind.DEPARTURE,
                departure.departs_at,
                timezone.localtime(departure.departs_at, tz),
                departure.train,
                departure_url(departure.train.pk, departure.slot),
                badge_class,
                badge_label,
                departure=departure,
                note=departure.reason,
                turn=turns.get((departure.train.pk, departure.slot)),
            )
        )
    entries.sort(key=lambda e: (e.at, e.train.name))
    start_day, end_day = timezone.localtime(start, tz).date(), timezone.localtime(end, tz).date()
    return RangeData(
        entries=entries,
        freezes=[f for f in freezes if f.overlaps(start, end)],
        blackouts=[b for b in blackouts if b.starts_on < end_day and b.ends_on >= start_day],
        projected_until=projected_until,
    )


def _rehearsed_within(release: Release, start: datetime, end: datetime) -> bool:
    at = release.rehearsal_at
    return release.is_critical and at is not None and start <= at < end


def _rehearsal_entry(release: Release, train: Train, tz: tzinfo) -> Entry:
    badge_class, badge_label = REHEARSAL_BADGE
    return Entry(
        EntryKind.REHEARSAL,
        release.rehearsal_at,
        timezone.localtime(release.rehearsal_at, tz),
        train,
        release.get_absolute_url(),
        badge_class,
        badge_label,
        release=release,
        note=release.critical_reason,
    )


# --- month, week, agenda -----------------------------------------------------------------------


def _span(first: date, last: date) -> str:
    """“30 Mar – 5 Apr 2026”, with the first year too when the span crosses into a new one."""
    start = f"{first.day} {first:%b}" + (f" {first.year}" if first.year != last.year else "")
    return f"{start} – {last.day} {last:%b %Y}"


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


@dataclass
class Day:
    """One day cell: what happens on it, and what shades it."""

    date: date
    entries: list[Entry] = field(default_factory=list)
    freezes: list[Freeze] = field(default_factory=list)
    blackouts: list[BlackoutPeriod] = field(default_factory=list)
    is_today: bool = False
    is_outside: bool = False  # a day of the neighbouring month in the month grid

    @property
    def is_weekend(self) -> bool:
        return self.date.weekday() >= 5

    @property
    def freeze_trains(self) -> list[Train]:
        seen = {}
        for freeze in self.freezes:
            seen.setdefault(freeze.train.pk, freeze.train)
        return list(seen.values())

    @property
    def freeze_label(self) -> str:
        trains = self.freeze_trains
        if not trains:
            return ""
        return f"Freeze: {trains[0].name}" if len(trains) == 1 else f"Freeze: {len(trains)} trains"

    @property
    def freeze_title(self) -> str:
        return "; ".join(
            f"{f.train.name} code freeze {timezone.localtime(f.starts_at):%a %d %b %H:%M} – "
            f"{timezone.localtime(f.ends_at):%a %d %b %H:%M}"
            for f in self.freezes
        )

    @property
    def blackout_label(self) -> str:
        return "Blackout: " + ", ".join(b.reason for b in self.blackouts) if self.blackouts else ""

    @property
    def css(self) -> str:
        classes = ["calendar__day"]
        for flag, name in (
            (self.is_today, "today"),
            (self.is_outside, "outside"),
            (self.is_weekend, "weekend"),
            (bool(self.freezes), "freeze"),
            (bool(self.blackouts), "blackout"),
            (not self.entries, "empty"),
        ):
            if flag:
                classes.append(f"calendar__day--{name}")
        return " ".join(classes)


def _days(first: date, count: int, data: RangeData, tz: tzinfo, today: date) -> list[Day]:
    days = [Day(first + timedelta(days=n), is_today=first + timedelta(days=n) == today)
            for n in range(count)]  # fmt: skip
    by_date = {day.date: day for day in days}
    for entry in data.entries:
        if entry.kind != EntryKind.FREEZE and entry.local.date() in by_date:
            by_date[entry.local.date()].entries.append(entry)
    for day in days:
        start, end = _midnight(day.date, tz), _midnight(day.date + timedelta(days=1), tz)
        day.freezes = [f for f in data.freezes if f.overlaps(start, end)]
        day.blackouts = [b for b in data.blackouts if b.covers(day.date)]
    return days


@dataclass
class CalendarView:
    view: str
    day: date  # the date the view was asked for
    today: date
    start: date  # first day shown
    end: date  # the day after the last day shown
    heading: str
    previous: date
    next: date
    projected_until: date
    trains: list[Train]
    weeks: list[list[Day]] = field(default_factory=list)  # month
    days: list[Day] = field(default_factory=list)  # week columns; agenda days with something on
    hours: list[HourRow] = field(default_factory=list)  # week
    entry_count: int = 0

    @property
    def has_trains(self) -> bool:
        return bool(self.trains)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def contains_today(self) -> bool:
        return self.start <= self.today < self.end

    @property
    def reaches_past_projection(self) -> bool:
        return self.end > self.projected_until


@dataclass
class Cell:
    day: Day
    entries: list[Entry]
    is_freeze: bool

    @property
    def css(self) -> str:
        classes = ["calendar-week__slot"]
        if self.day.is_today:
            classes.append("calendar-week__slot--today")
        if self.is_freeze:
            classes.append("calendar-week__slot--freeze")
        if self.day.blackouts:
            classes.append("calendar-week__slot--blackout")
        return " ".join(classes)


@dataclass
class HourRow:
    hour: int
    cells: list[Cell]

    @property
    def label(self) -> str:
        return f"{self.hour:02d}:00"


def calendar_view(
    trains: list[Train], *, view: str, day: date, tz: tzinfo, now: datetime
) -> CalendarView:
    """The month, week or agenda around `day` in the viewer's timezone `tz`."""
    today = timezone.localtime(now, tz).date()
    if view == "week":
        first = day - timedelta(days=day.weekday())
        count = 7
        previous, following = day - timedelta(days=7), day + timedelta(days=7)
        last = first + timedelta(days=6)
        heading = _span(first, last)
    elif view == "agenda":
        first, count = day, AGENDA_DAYS
        previous, following = day - timedelta(days=count), day + timedelta(days=count)
        last = first + timedelta(days=count - 1)
        heading = _span(first, last)
    else:
        month_first = day.replace(day=1)
        month_last = month_first.replace(day=pycalendar.monthrange(day.year, day.month)[1])
        first = month_first - timedelta(days=month_first.weekday())
        count = (month_last - first).days + 7 - month_last.weekday()
        previous = (month_first - timedelta(days=1)).replace(day=1)
        following = month_last + timedelta(days=1)
        heading = f"{month_first:%B %Y}"
    end = first + timedelta(days=count)
    data = calendar_range(
        trains, start=_midnight(first, tz), end=_midnight(end, tz), now=now, tz=tz
    )
    days = _days(first, count, data, tz, today)
    result = CalendarView(
        view=view,
        day=day,
        today=today,
        start=first,
        end=end,
        heading=heading,
        previous=previous,
        next=following,
        projected_until=timezone.localtime(data.projected_until, tz).date(),
        trains=trains,
        entry_count=sum(len(d.entries) for d in days),
    )
    if view == "week":
        result.days = days
        result.hours = _hours(days, tz)
    elif view == "agenda":
        _add_freeze_starts(days, data, tz)
        for d in days:  # a blackout is announced on its first day (or the agenda's), not daily
            d.blackouts = [b for b in d.blackouts if b.starts_on == d.date or d.date == first]
        result.days = [d for d in days if d.entries or d.blackouts or d.is_today]
    else:
        for d in days:
            d.is_outside = d.date.month != day.month
        result.weeks = [days[n : n + 7] for n in range(0, len(days), 7)]
    return result


def _hours(days: list[Day], tz: tzinfo) -> list[HourRow]:
    used = [e.local.hour for d in days for e in d.entries]
    first, last = min([WEEK_FIRST_HOUR, *used]), max([WEEK_LAST_HOUR, *used])
    rows = []
    for hour in range(first, last + 1):
        cells = []
        for day in days:
            start = datetime.combine(day.date, time(hour), tzinfo=tz)
            end = start + timedelta(hours=1)
            cells.append(
                Cell(
                    day,
                    [e for e in day.entries if e.local.hour == hour],
                    any(f.overlaps(start, end) for f in day.freezes),
                )
            )
        rows.append(HourRow(hour, cells))
    return rows


def _add_freeze_starts(days: list[Day], data: RangeData, tz: tzinfo) -> None:
    """The agenda has no shading: it lists when each upcoming code freeze starts instead."""
    by_date = {d.date: d for d in days}
    for freeze in data.freezes:
        local = timezone.localtime(freeze.starts_at, tz)
        if local.date() in by_date and freeze.starts_at >= _midnight(days[0].date, tz):
            by_date[local.date()].entries.append(
                Entry(
                    EntryKind.FREEZE,
                    freeze.starts_at,
                    local,
                    freeze.train,
                    freeze.url,
                    "warning",
                    "Code freeze",
                    note=f"until the departure {timezone.localtime(freeze.ends_at, tz):%a %H:%M}",
                )
            )
    for day in days:
        day.entries.sort(key=lambda e: (e.at, e.train.name))


# --- the iCalendar feed ------------------------------------------------------------------------


def calendar_feed_entries(trains: list[Train], *, now: datetime) -> list[Entry]:
    """Releases and departures from FEED_PAST before now to FEED_FUTURE after it."""
    data = calendar_range(trains, start=now - FEED_PAST, end=now + FEED_FUTURE, now=now)
    return data.entries


def calendar_feed_token(user: User) -> CalendarFeedToken | None:
    return CalendarFeedToken.objects.filter(user=user).first()


# --- one projected departure -------------------------------------------------------------------


class DepartureNotFound(ObjectDoesNotExist):
    """Not a train of the viewer's teams, or not a slot on its timetable: a 404 either way."""


@dataclass
class DepartureInfo:
    train: Train
    departure: Departure
    release: Release | None
    log: DepartureLog | None
    waiting: list[ChangeItem]
    next_departure: Departure | None
    is_future: bool  # not yet departed (nor recorded as skipped, missed or blacked out)
    turn: RotationTurn | None = None  # who captains it by the train's rotation

    @property
    def is_next(self) -> bool:
        return self.next_departure is not None and self.next_departure.slot == self.departure.slot

    @property
    def badge(self) -> tuple[str, str]:
        if self.log is not None:
            return UNMET_BADGES.get(self.log.outcome, ("neutral", self.log.get_outcome_display()))
        return DEPARTURE_BADGES[self.departure.state]

    @property
    def timezone_differs(self) -> bool:
        return self.train.timezone != timezone.get_current_timezone_name()

    @property
    def postponed_hours(self) -> int:
        return round((self.departure.departs_at - self.departure.slot).total_seconds() / 3600)


def departure_for_user(user: User, *, train_id: int, key: str, now: datetime) -> DepartureInfo:
    """One slot of a train's timetable as the viewer may see it; DepartureNotFound otherwise."""
    train = trains_for_user(user).filter(pk=train_id).first()
    try:
        slot = parse_slot_key(key)
    except ValueError:
        slot = None
    if train is None or slot is None:
        raise DepartureNotFound("There is no such departure in your teams.")
    if slot not in set(train.timetable.occurrences(slot, slot + timedelta(seconds=1))):
        raise DepartureNotFound("The timetable has no departure at that time.")
    since = min(slot, now) - POSTPONE_LOOKBACK
    exceptions = list(train.exceptions.filter(slot__gte=since))
    blackouts = list(
        BlackoutPeriod.objects.filter(
            Q(team__isnull=True) | Q(team_id=train.team_id), ends_on__gte=since.date()
        )
    )
    postponed = next((e.postpone_hours or 0 for e in exceptions if e.slot == slot), 0)
    departure = next(
        (
            d
            for d in project(
                train,
                slot,
                slot + timedelta(hours=postponed, seconds=1),
                exceptions=exceptions,
                blackouts=blackouts,
            )
            if d.slot == slot
        ),
        None,
    )
    if departure is None:
        raise DepartureNotFound("The timetable has no departure at that time.")
    release = Release.objects.filter(train=train, slot=slot).first()
    log = DepartureLog.objects.filter(train=train, slot=slot).first()
    upcoming = departure.departs_at >= now and log is None
    following = (
        next_departures(train, count=1, now=now, exceptions=exceptions, blackouts=blackouts)
        if upcoming and not train.is_paused
        else []
    )
    waiting = list(
        ChangeItem.objects.filter(train=train, release__isnull=True).select_related("author")
        if upcoming
        else []
    )
    turns = turns_for_departures([(train, slot)] if upcoming and departure.departs else [])
    return DepartureInfo(
        train=train,
        departure=departure,
        release=release,
        log=log,
        waiting=waiting,
        next_departure=following[0] if following else None,
        is_future=upcoming,
        turn=turns.get((train.pk, slot)),
    )
