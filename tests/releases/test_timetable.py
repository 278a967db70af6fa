from datetime import UTC, date, datetime, timedelta

import pytest

from releases.timetable import (
    Timetable,
    TimetableError,
    VersionScheme,
    next_version,
    preset_rrule,
)

BERLIN_TUESDAYS = "FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;BYMINUTE=0"


def tt(rule=BERLIN_TUESDAYS, tz="Europe/Berlin", starts_on=date(2026, 1, 1)):
    return Timetable.parse(rule, starts_on=starts_on, timezone=tz)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_weekly_departures_in_the_trains_timezone():
    slots = list(tt().occurrences(utc(2026, 1, 1), utc(2026, 1, 21)))
    assert slots == [utc(2026, 1, 6, 13), utc(2026, 1, 13, 13), utc(2026, 1, 20, 13)]


@pytest.mark.parametrize(
    "before, after",
    [
        # Europe/Berlin goes to summer time on 2026-03-29 and back on 2026-10-25.
        ((2026, 3, 24, 13), (2026, 3, 31, 12)),
        ((2026, 10, 20, 12), (2026, 10, 27, 13)),
    ],
)
def test_a_train_keeps_its_local_time_across_dst(before, after):
    slots = list(tt().occurrences(utc(*before), utc(*after) + timedelta(minutes=1)))
    assert slots == [utc(*before), utc(*after)]
    assert all(s.astimezone(_berlin()).hour == 14 for s in slots)


def _berlin():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Berlin")


def test_new_york_dst_differs_from_berlins():
    rule = "FREQ=DAILY;BYHOUR=9;BYMINUTE=30"
    slots = list(tt(rule, tz="America/New_York").occurrences(utc(2026, 3, 7), utc(2026, 3, 10)))
    # 09:30 EST is 14:30 UTC; from 2026-03-08 on, 09:30 EDT is 13:30 UTC.
    assert slots == [utc(2026, 3, 7, 14, 30), utc(2026, 3, 8, 13, 30), utc(2026, 3, 9, 13, 30)]


@pytest.mark.parametrize(
    "preset, kwargs, expected_local",
    [
        ("weekly", {"weekday": "WE", "hour": 10, "minute": 30}, [(2026, 1, 7, 10, 30), (2026, 1, 14, 10, 30)]),  # noqa: E501
        # RFC 5545 counts INTERVAL from the start's week (2026-01-01 is a Thursday).
        ("biweekly", {"weekday": "TU", "hour": 14}, [(2026, 1, 13, 14, 0), (2026, 1, 27, 14, 0)]),
        ("monthly", {"weekday": "TH", "hour": 9, "nth": 2}, [(2026, 1, 8, 9, 0), (2026, 2, 12, 9, 0)]),  # noqa: E501
        ("monthly", {"weekday": "FR", "hour": 9, "nth": -1}, [(2026, 1, 30, 9, 0), (2026, 2, 27, 9, 0)]),  # noqa: E501
        ("weekdays", {"hour": 11}, [(2026, 1, 1, 11, 0), (2026, 1, 2, 11, 0), (2026, 1, 5, 11, 0)]),
    ],
)  # fmt: skip
def test_presets(preset, kwargs, expected_local):
    rule = preset_rrule(preset, **kwargs)
    timetable = tt(rule)
    slots = timetable.next_after(utc(2025, 12, 31), count=len(expected_local))
    local = [s.astimezone(_berlin()).timetuple()[:5] for s in slots]
    assert local == expected_local


def test_next_after_and_previous_before():
    timetable = tt()
    assert timetable.next_after(utc(2026, 1, 6, 13)) == [utc(2026, 1, 13, 13)]
    assert timetable.previous_before(utc(2026, 1, 12)) == utc(2026, 1, 6, 13)
    assert timetable.previous_before(utc(2025, 12, 1)) is None


def test_the_rrule_prefix_is_accepted_and_normalised():
    assert tt("rrule:freq=weekly;byday=tu;byhour=14").rule == "FREQ=WEEKLY;BYDAY=TU;BYHOUR=14"


@pytest.mark.parametrize(
    "rule, tz, message",
    [
        ("", "Europe/Berlin", "Enter a timetable rule"),
        ("FREQ=FORTNIGHTLY", "Europe/Berlin", "not a valid RFC 5545 RRULE"),
        ("FREQ=WEEKLY;BYDAY=XX", "Europe/Berlin", "not a valid RFC 5545 RRULE"),
        ("DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "Europe/Berlin", "Give only the RRULE"),
        ("FREQ=MINUTELY", "Europe/Berlin", "at least an hour apart"),
        (BERLIN_TUESDAYS, "Mars/Olympus", "not a known IANA timezone"),
    ],
)
def test_bad_timetables_are_explained(rule, tz, message):
    with pytest.raises(TimetableError, match=message):
        Timetable.parse(rule, starts_on=date(2026, 1, 1), timezone=tz)


def test_a_finished_timetable_has_no_next_departure():
    timetable = tt("FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;UNTIL=20260127T130000Z")
    # UNTIL is inclusive and in UTC: 13:00 UTC is the 14:00 Berlin departure itself.
    assert timetable.next_after(utc(2026, 1, 20, 13)) == [utc(2026, 1, 27, 13)]
    assert timetable.next_after(utc(2026, 1, 27, 13)) == []


@pytest.mark.parametrize(
    "scheme, previous, on, expected",
    [
        (VersionScheme.SEMVER_MINOR, None, date(2026, 5, 1), "1.0.0"),
        (VersionScheme.SEMVER_MINOR, "4.11.2", date(2026, 5, 1), "4.12.0"),
        (VersionScheme.SEMVER_PATCH, "4.11.2", date(2026, 5, 1), "4.11.3"),
        (VersionScheme.CALVER, None, date(2026, 5, 1), "2026.05.1"),
        (VersionScheme.CALVER, "2026.05.3", date(2026, 5, 20), "2026.05.4"),
        (VersionScheme.CALVER, "2026.04.7", date(2026, 5, 1), "2026.05.1"),
    ],
)
def test_next_version(scheme, previous, on, expected):
    assert next_version(scheme, previous, on=on) == expected


def test_next_version_refuses_a_non_semver_previous():
    with pytest.raises(TimetableError, match="not a SemVer version"):
        next_version(VersionScheme.SEMVER_MINOR, "banana", on=date(2026, 1, 1))
