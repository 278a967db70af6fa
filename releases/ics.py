"""The release calendar as iCalendar (RFC 5545), for Google Calendar, Outlook and Apple Calendar.

One VEVENT per release and per departure, from FEED_PAST before now to FEED_FUTURE after it
(releases.calendar has the window and where things sit). UIDs never change: a scheduled departure
is `departure-<train id>-<slot key>@<host>` while projected and after it is cut (its release takes
the UID over, so a subscribed calendar updates that event in place); ad-hoc and hotfix releases are
`release-<id>@<host>`, the host taken from SITE_URL; the rehearsal of a critical release is
`rehearsal-<release id>@<host>`, so moving the rehearsal moves the event. Times carry the
train's own timezone (TZID with its VTIMEZONE), so 14:00 Europe/Berlin stays 14:00 on both sides
of a DST change. Skipped and blacked-out departures stay in the feed as STATUS:CANCELLED, which
calendar apps show or hide. Departures and releases name their captain (a projected departure's
from its rotation turn).

The feed's owner also gets their own captain duties: one VEVENT per rotation turn they hold in
the window, "Release captain: <rotation>" from the turn's start to its end in the rotation's
timezone, UID `turn-<turn id>@<host>` (a turn keeps its row when it is replanned, so a swap or a
moved handoff updates the event in place, or drops it from the feed of whoever gave it away), with
the handoff note left for it in the description. Nobody else's duties are ever in a feed.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from icalendar import Calendar, Event, Timezone

from accounts.models import User
from releases.calendar import (
    FEED_FUTURE,
    FEED_PAST,
    Entry,
    EntryKind,
    calendar_feed_entries,
    calendar_trains,
    resolve_filter,
)
from releases.departures import DepartureState
from releases.models import ReleaseKind, ReleaseStatus, RotationTurn
from releases.selectors_duties import duties_for_feed
from releases.timetable import zone

EVENT_LENGTH = timedelta(minutes=30)
# Every lifecycle transition moves forward in this order, so it serves as the event's SEQUENCE.
STATUS_ORDER = list(ReleaseStatus.values)
CONTENT_TYPE = "text/calendar; charset=utf-8"


def calendar_ics_for_user(
    user: User, *, team: str | None = None, train: int | None = None, now: datetime
) -> bytes:
    """The feed of the user's teams' trains, optionally one team's or one train's.

    Raises ValidationError (field → message) for a team or train the user cannot see.
    """
    trains = resolve_filter(calendar_trains(user), team=team, train=train)
    name = "Stationmaster releases"
    if train is not None and trains:
        name = f"{trains[0].name} releases · Stationmaster"
    elif team and trains:
        name = f"{trains[0].team.name} releases · Stationmaster"
    # The owner's own duties, narrowed like the trains (a train filter that matched nothing,
    # such as another team's train with a team filter, leaves no duties either).
    duties = (
        duties_for_feed(
            user,
            since=now - FEED_PAST,
            until=now + FEED_FUTURE,
            team=team,
            train=trains[0] if train is not None else None,
        )
        if trains or train is None
        else []
    )
    return build_calendar(calendar_feed_entries(trains, now=now), now=now, name=name, duties=duties)


def build_calendar(
    entries: Iterable[Entry],
    *,
    now: datetime,
    name: str,
    site_url: str | None = None,
    duties: Iterable[RotationTurn] = (),
) -> bytes:
    """`entries` as VEVENTs, and `duties`: turns of the feed's owner, one VEVENT each."""
    site_url = (site_url or settings.SITE_URL).rstrip("/")
    host = urlsplit(site_url).hostname or "stationmaster"
    calendar = Calendar()
    calendar.add("prodid", "-//Stationmaster//Release calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-caldesc", "Train departures and releases, and your captain duties.")
    # How often subscribers should fetch again (RFC 7986, and the de-facto Outlook property).
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for entry in entries:
        if entry.kind != EntryKind.FREEZE:
            calendar.add_component(_event(entry, host=host, site_url=site_url, now=now))
    for turn in duties:
        calendar.add_component(_duty_event(turn, host=host, site_url=site_url, now=now))
    # A year either side of the window: every transition a client may need, and no more.
    first_date = (now - FEED_PAST - timedelta(days=366)).date()
    last_date = (now + FEED_FUTURE + timedelta(days=366)).date()
    calendar.add_missing_timezones(first_date=first_date, last_date=last_date)
    if not calendar.subcomponents:
        # RFC 5545 wants at least one component; an empty feed still has to parse everywhere.
        calendar.add_component(
            Timezone.from_tzid("UTC", first_date=first_date, last_date=last_date)
        )
    return calendar.to_ical()


def _event(entry: Entry, *, host: str, site_url: str, now: datetime) -> Event:
    tz = zone(entry.train.timezone)
    url = site_url + entry.url
    event = Event()
    event.add("uid", f"{entry.uid_key}@{host}")
    event.add("dtstamp", now)
    event.add("dtstart", entry.at.astimezone(tz))
    event.add("dtend", (entry.at + EVENT_LENGTH).astimezone(tz))
    event.add("summary", _summary(entry))
    event.add("description", "\n".join([*_details(entry, tz), "", url]))
    event.add("url", url)
    event.add("categories", [entry.train.team.name, entry.train.name])
    event.add("status", "CANCELLED" if entry.is_muted else "CONFIRMED")
    # A departure is something to know about, not time the reader is busy.
    event.add("transp", "TRANSPARENT")
    if entry.release is not None:
        event.add("sequence", 2 + STATUS_ORDER.index(entry.release.status))
        event.add("last-modified", entry.release.updated_at)
    else:
        scheduled = (
            entry.departure is not None and entry.departure.state == DepartureState.SCHEDULED
        )
        event.add("sequence", 0 if scheduled else 1)
    return event


def _summary(entry: Entry) -> str:
    name = entry.train.name
    release = entry.release
    if entry.kind == EntryKind.REHEARSAL:
        return entry.label + (" (cancelled release)" if entry.is_muted else "")
    if release is not None:
        kind = f" ({release.get_kind_display().lower()})" if release.kind != "scheduled" else ""
        return f"{name} {release.version}{kind} — {release.get_status_display().lower()}"
    if entry.kind == EntryKind.UNMET:
        return f"{name} departure — {entry.badge_label.lower()}"
    state = entry.departure.state
    if state == DepartureState.POSTPONED:
        return f"{name} train departs (postponed)"
    if state == DepartureState.SKIPPED:
        return f"{name} departure skipped"
    if state == DepartureState.BLACKOUT:
        return f"{name} does not depart: blackout"
    return f"{name} train departs"


def _when(moment: datetime | None, tz) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M %Z}"


def _details(entry: Entry, tz) -> list[str]:
    lines = []
    release = entry.release
    if entry.kind == EntryKind.REHEARSAL:
        lines.append(f"Rehearsal of a critical release: {release.critical_reason}")
        lines.append(f"Release status: {release.get_status_display()}")
        if release.captain is not None:
            lines.append(f"Captain: {release.captain.display_name}")
        lines.append(f"Target release: {_when(release.target_at, tz)}")
    elif release is not None:
        lines.append(f"Status: {release.get_status_display()}")
        if release.kind != ReleaseKind.SCHEDULED:
            lines.append(f"Kind: {release.get_kind_display()}")
        if release.captain is not None:
            lines.append(f"Captain: {release.captain.display_name}")
        lines.append(f"Cut: {_when(release.cut_at, tz)}")
        lines.append(f"Target release: {_when(release.target_at, tz)}")
        if release.released_at:
            lines.append(f"Released: {_when(release.released_at, tz)}")
    elif entry.kind == EntryKind.UNMET:
        lines.append(f"Status: {entry.badge_label}" + (f" — {entry.note}" if entry.note else ""))
    else:
        departure = entry.departure
        status = {
            DepartureState.SCHEDULED: "Scheduled",
            DepartureState.POSTPONED: "Postponed",
            DepartureState.SKIPPED: "Skipped",
            DepartureState.BLACKOUT: "Blackout: nothing departs",
        }[departure.state]
        lines.append(f"Status: {status}" + (f" — {entry.note}" if entry.note else ""))
        if departure.state == DepartureState.POSTPONED:
            lines.append(f"Timetable slot: {_when(departure.slot, tz)}")
        if departure.departs:
            lines.append(f"Code freeze from: {_when(departure.freeze_starts_at, tz)}")
            lines.append(f"Target release: {_when(departure.target_at, tz)}")
        if entry.turn is not None:
            lines += _turn_captain(entry.turn)
    lines.append(f"Train: {entry.train.name} ({entry.train.team.name})")
    return lines


def _turn_captain(turn: RotationTurn) -> list[str]:
    if turn.captain is not None:
        lines = [f"Captain: {turn.captain.display_name} (rotation “{turn.rotation.name}”)"]
    else:
        lines = [f"Captain: nobody in the rotation “{turn.rotation.name}” is eligible"]
    return lines + ([f"Why: {turn.reason}"] if turn.reason else [])


# --- the owner's own duties --------------------------------------------------------------------


def _duty_event(turn: RotationTurn, *, host: str, site_url: str, now: datetime) -> Event:
    rotation = turn.rotation
    tz = zone(rotation.timezone)
    url = site_url + rotation.get_absolute_url()
    event = Event()
    event.add("uid", f"turn-{turn.pk}@{host}")
    event.add("dtstamp", now)
    event.add("dtstart", turn.starts_at.astimezone(tz))
    event.add("dtend", turn.ends_at.astimezone(tz))
    event.add("summary", f"Release captain: {rotation.name}")
    event.add("description", "\n".join([*_duty_details(turn, tz), "", url]))
    event.add("url", url)
    event.add("categories", [rotation.team.name, "Release captain"])
    event.add("status", "CONFIRMED")
    # A duty spans days or weeks: shown alongside meetings, not blocking them.
    event.add("transp", "TRANSPARENT")
    event.add("last-modified", turn.updated_at)
    return event


def _duty_details(turn: RotationTurn, tz) -> list[str]:
    lines = [f"You are release captain for “{turn.rotation.name}” ({turn.rotation.team.name})."]
    lines.append(f"From {_when(turn.starts_at, tz)} until {_when(turn.ends_at, tz)}")
    if turn.train is not None and turn.slot is not None:
        lines.append(f"For the departure of {turn.train.name} at {_when(turn.slot, tz)}")
    if turn.reason:
        lines.append(f"Why you: {turn.reason}")
    if turn.handoff_note:
        by = turn.handoff_note_by.display_name if turn.handoff_note_by else "the previous captain"
        lines += ["", f"Handoff note from {by} ({_when(turn.handoff_note_at, tz)}):"]
        lines.append(turn.handoff_note)
    return lines


def ics_response(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = 'inline; filename="stationmaster.ics"'
    response["X-Robots-Tag"] = "noindex"
    # Feed URLs carry secrets or tokens: no shared cache may keep the answer.
    patch_cache_control(response, private=True, max_age=0)
    return response
