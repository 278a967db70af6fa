"""Rehearsals of critical releases on the release calendar (month, week, agenda) and in its
iCalendar feed: their own entry and chip, linking to the release, a stable UID, no extra query."""

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from releases.calendar import EntryKind, calendar_range, calendar_view
from releases.ics import calendar_ics_for_user
from releases.models import ReleaseStatus
from releases.services.rollback import rehearsal_schedule, release_set_critical
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # Tuesday 10 March 2026, 10:00 in Berlin
REHEARSAL = datetime(2026, 3, 12, 15, 30, tzinfo=UTC)  # Thursday, 16:30 in Berlin
HOST = "127.0.0.1"  # from SITE_URL


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def team():
    return TeamFactory(slug="checkout", name="Checkout")


@pytest.fixture
def manager(team):
    return MembershipFactory(
        user=UserFactory(username="mia", first_name="Mia", last_name="Manager"),
        team=team,
        role="manager",
    ).user


@pytest.fixture
def train(team):
    return TrainFactory(
        team=team, name="Checkout Web", slug="checkout-web", colour="teal", handled_through=NOW
    )


def critical_release(
    train,
    manager,
    *,
    version="4.12.0",
    at=REHEARSAL,
    target_at=datetime(2026, 3, 20, 13, 0, tzinfo=UTC),
):
    """A critical release cut in February (outside March's month grid), rehearsed at `at`."""
    release = ReleaseFactory(
        train=train,
        kind="adhoc",
        version=version,
        slot=None,
        cut_at=datetime(2026, 2, 10, 13, 0, tzinfo=UTC),
        target_at=target_at,
        captain=manager,
    )
    release = release_set_critical(
        actor=manager, release=release, critical=True, reason="Migrates the orders table", now=NOW
    )
    return rehearsal_schedule(actor=manager, release=release, at=at, now=NOW)


def rehearsals(entries):
    return [e for e in entries if e.kind == EntryKind.REHEARSAL]


# --- the calendar's entries -----------------------------------------------------------------


def test_a_rehearsal_is_an_entry_of_its_own_linking_to_the_release(train, manager):
    release = critical_release(train, manager)
    data = calendar_range(
        [train],
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 4, 1, tzinfo=UTC),
        now=NOW,
        tz=BERLIN,
    )
    # The release itself sits in February; only its rehearsal is in March.
    assert not [e for e in data.entries if e.kind == EntryKind.RELEASE]
    (entry,) = rehearsals(data.entries)
    assert (entry.at, entry.local.hour, entry.local.minute) == (REHEARSAL, 16, 30)
    assert entry.label == "Rehearsal: Checkout Web 4.12.0"
    assert entry.url == f"/releases/{release.pk}/"
    assert (entry.badge_class, entry.badge_label) == ("critical", "Critical")
    assert entry.note == "Migrates the orders table"
    assert entry.captain == manager
    assert not entry.is_projected and not entry.is_muted


def test_the_release_and_its_rehearsal_both_show_when_both_are_in_range(train, manager):
    release = critical_release(train, manager)
    data = calendar_range(
        [train],
        start=datetime(2026, 2, 1, tzinfo=UTC),
        end=datetime(2026, 4, 1, tzinfo=UTC),
        now=NOW,
        tz=BERLIN,
    )
    kinds = [e.kind for e in data.entries if e.release == release]
    assert kinds == [EntryKind.RELEASE, EntryKind.REHEARSAL]


def test_no_rehearsal_entry_outside_the_range_or_for_releases_not_critical(train, manager):
    april = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
    critical_release(train, manager, at=april, target_at=april + timedelta(days=1))
    ReleaseFactory(
        train=train,
        kind="adhoc",
        version="4.13.0",
        cut_at=datetime(2026, 2, 3, tzinfo=UTC),
        rehearsal_at=REHEARSAL,  # left over from when it was critical
        is_critical=False,
    )
    data = calendar_range(
        [train],
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 4, 1, tzinfo=UTC),
        now=NOW,
        tz=BERLIN,
    )
    assert rehearsals(data.entries) == []


def test_the_rehearsal_of_a_cancelled_release_is_struck_through(train, manager):
    release = critical_release(train, manager)
    release.status = ReleaseStatus.CANCELLED
    release.save()
    cal = calendar_view([train], view="month", day=date(2026, 3, 1), tz=BERLIN, now=NOW)
    (entry,) = rehearsals(e for week in cal.weeks for day in week for e in day.entries)
    assert entry.is_muted


def test_month_week_and_agenda_show_the_rehearsal_chip(client, frozen, manager, train):
    release = critical_release(train, manager)
    client.force_login(manager)
    for query in ("", "view=week&date=2026-03-12&", "view=agenda&date=2026-03-10&"):
        response = client.get(f"/calendar/?{query}")
        assert response.status_code == 200, query
        html = response.content.decode()
        assert "Rehearsal: Checkout Web 4.12.0" in html, query
        assert "cal-chip--rehearsal" in html or "cal-agenda__item--rehearsal" in html, query
        assert f'href="/releases/{release.pk}/"' in html, query
        assert "Rehearsal of a critical release" in html  # the legend
    # The week puts it at its local hour.
    cal = calendar_view([train], view="week", day=date(2026, 3, 12), tz=BERLIN, now=NOW)
    row = next(r for r in cal.hours if r.hour == 16)
    assert [e.label for c in row.cells for e in c.entries] == ["Rehearsal: Checkout Web 4.12.0"]


def test_rehearsals_cost_no_extra_query(client, frozen, manager, train):
    client.force_login(manager)

    def queries():
        with CaptureQueriesContext(connection) as context:
            response = client.get("/calendar/?date=2026-03-01")
        assert response.status_code == 200
        html = response.content.decode()
        return len(context.captured_queries), html.count("cal-chip--rehearsal")

    none, chips_none = queries()
    critical_release(train, manager, version="4.12.0")
    one, chips_one = queries()
    for n in range(8):
        critical_release(
            train, manager, version=f"4.2{n}.0", at=REHEARSAL + timedelta(days=n % 10, hours=n)
        )
    many, chips_many = queries()
    assert (chips_none, chips_one, chips_many) == (0, 1, 9)
    assert none == one == many


# --- the iCalendar feed ------------------------------------------------------------------------


def events(body: bytes) -> dict[str, object]:
    return {str(e["UID"]): e for e in Calendar.from_ical(body).walk("VEVENT")}


def test_the_feed_has_a_rehearsal_event_with_a_stable_uid(manager, train):
    release = critical_release(train, manager)
    found = events(calendar_ics_for_user(manager, now=NOW))
    uid = f"rehearsal-{release.pk}@{HOST}"
    event = found[uid]
    assert str(event["SUMMARY"]) == "Rehearsal: Checkout Web 4.12.0"
    start = event["DTSTART"].dt
    assert start == REHEARSAL and str(start.tzinfo) == "Europe/Berlin"
    assert (start.hour, start.minute) == (16, 30)
    description = str(event["DESCRIPTION"])
    assert "Rehearsal of a critical release: Migrates the orders table" in description
    assert "Captain: Mia Manager" in description
    assert str(event["URL"]) == f"http://127.0.0.1:8000/releases/{release.pk}/"
    assert str(event["STATUS"]) == "CONFIRMED"
    # The release keeps its own event next to it.
    assert f"release-{release.pk}@{HOST}" in found

    # Moving the rehearsal moves the same event.
    moved = REHEARSAL + timedelta(days=1)
    rehearsal_schedule(actor=manager, release=release, at=moved, now=NOW)
    again = events(calendar_ics_for_user(manager, now=NOW))
    assert again[uid]["DTSTART"].dt == moved
    assert [key for key in again if key.startswith("rehearsal-")] == [uid]


def test_an_unscheduled_rehearsal_leaves_the_feed(manager, train):
    release = critical_release(train, manager)
    rehearsal_schedule(actor=manager, release=release, at=None, now=NOW)
    found = events(calendar_ics_for_user(manager, now=NOW))
    assert not [uid for uid in found if uid.startswith("rehearsal-")]
