"""Captains on the calendar: projected departures show the captain of their rotation turn (month
and week chips with initials, the agenda and the departure page with the full name), releases keep
their own captain, nobody-eligible turns are flagged, and the month view's query count does not
grow with rotations, turns or departures."""

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from releases.calendar import EntryKind, calendar_range
from releases.departures import slot_key
from releases.models import RotationTurn, TurnLength
from releases.selectors_duties import captains_for_departures, turns_for_departures
from releases.selectors_rotations import captain_for_departure
from releases.services.rotations import rotation_create
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory, UnavailabilityFactory

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# Tuesday 10 March 2026, 10:00 Berlin. Trains leave on Tuesdays at 14:00 Berlin; weekly turns
# hand off on Mondays at 10:00 Berlin, so Casey holds 9–16 March, Dana 16–23, Casey 23–30...
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TUE_10 = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
TUE_17 = datetime(2026, 3, 17, 13, 0, tzinfo=UTC)
TUE_24 = datetime(2026, 3, 24, 13, 0, tzinfo=UTC)
TUE_31 = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)  # 14:00 CEST


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def team():
    return TeamFactory(slug="checkout", name="Checkout")


def person(team, username, first, last, role="engineer"):
    user = UserFactory(username=username, first_name=first, last_name=last)
    return MembershipFactory(user=user, team=team, role=role).user


@pytest.fixture
def manager(team):
    return person(team, "mia", "Mia", "Manager", role="manager")


@pytest.fixture
def casey(team):
    return person(team, "casey", "Casey", "Carter")


@pytest.fixture
def dana(team):
    return person(team, "dana", "Dana", "Diaz")


@pytest.fixture
def train(team):
    return TrainFactory(
        team=team, name="Checkout Web", slug="web", colour="teal", handled_through=NOW
    )


def rotate(manager, trains, members, *, name="Web captains", per_departure=False):
    rotation = rotation_create(
        actor=manager,
        team=trains[0].team,
        name=name,
        timezone="Europe/Berlin",
        turn_length=TurnLength.PER_DEPARTURE if per_departure else TurnLength.WEEKS,
        weeks=1,
        handoff_weekday=0,
        handoff_time="10:00",
        starts_on=date(2026, 3, 2),
        member_ids=[m.pk for m in members],
        train_ids=[t.pk for t in trains],
        now=NOW,
    )
    for train in trains:
        train.refresh_from_db()
    return rotation


def departures_of(
    train, start=datetime(2026, 3, 1, tzinfo=UTC), end=datetime(2026, 4, 6, tzinfo=UTC)
):
    data = calendar_range([train], start=start, end=end, now=NOW, tz=BERLIN)
    return [e for e in data.entries if e.kind == EntryKind.DEPARTURE]


# --- the range and the batch selector ----------------------------------------------------------


def test_projected_departures_carry_the_captain_of_their_weekly_turn(manager, casey, dana, train):
    rotate(manager, [train], [casey, dana])
    entries = departures_of(train)
    assert [(e.at, e.captain) for e in entries] == [
        (TUE_10, casey),
        (TUE_17, dana),
        (TUE_24, casey),
        (TUE_31, dana),
    ]
    assert all(e.turn.rotation.name == "Web captains" and not e.captainless for e in entries)


def test_the_batch_agrees_with_the_per_departure_selector_for_both_turn_lengths(
    manager, casey, dana, team
):
    weekly = TrainFactory(team=team, name="Weekly", handled_through=NOW)
    daily = TrainFactory(
        team=team, name="Daily", rrule="FREQ=DAILY;BYHOUR=9;BYMINUTE=0", handled_through=NOW
    )
    rotate(manager, [weekly], [casey, dana])
    rotate(manager, [daily], [dana, casey], name="Daily captains", per_departure=True)
    pairs = [(e.train, e.departure.slot) for t in (weekly, daily) for e in departures_of(t)]
    assert len(pairs) == 4 + 26  # Tuesdays to 31 March; days from 11 March to 5 April
    captains = captains_for_departures(pairs)
    assert captains == {(t.pk, slot): captain_for_departure(t, slot) for t, slot in pairs}
    # Per-departure turns alternate departure by departure.
    daily_captains = [captains[(t.pk, s)] for t, s in pairs if t == daily][:4]
    assert daily_captains == [dana, casey, dana, casey]


def test_departures_without_a_rotation_or_beyond_the_plan_have_no_turn(manager, casey, team, train):
    plain = TrainFactory(team=team, name="No rotation", handled_through=NOW)
    rotate(manager, [train], [casey])
    far = NOW + timedelta(days=200)  # turns are planned 120 days ahead
    turns = turns_for_departures([(plain, TUE_17), (train, TUE_17), (train, far)])
    assert set(turns) == {(train.pk, TUE_17)}
    assert turns_for_departures([]) == {}


def test_a_cut_release_keeps_its_own_captain(manager, casey, dana, train):
    rotate(manager, [train], [casey, dana])
    # Casey holds the 10 March turn, but the release's captain was changed to Mia by hand.
    ReleaseFactory(train=train, slot=TUE_10, cut_at=TUE_10, version="4.12.0", captain=manager)
    data = calendar_range(
        [train],
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 3, 20, tzinfo=UTC),
        now=NOW,
        tz=BERLIN,
    )
    release = next(e for e in data.entries if e.kind == EntryKind.RELEASE)
    departure = next(e for e in data.entries if e.kind == EntryKind.DEPARTURE)
    assert (release.at, release.captain, release.turn) == (TUE_10, manager, None)
    assert (departure.at, departure.captain) == (TUE_17, dana)


def test_a_turn_nobody_can_hold_is_flagged_not_left_blank(manager, casey, train):
    UnavailabilityFactory(
        user=casey,
        starts_at=datetime(2026, 3, 16, 9, tzinfo=UTC),
        ends_at=datetime(2026, 3, 23, 9, tzinfo=UTC),
        reason="Holiday",
    )
    rotate(manager, [train], [casey])
    by_slot = {e.at: e for e in departures_of(train)}
    assert by_slot[TUE_10].captain == casey and not by_slot[TUE_10].captainless
    assert by_slot[TUE_17].captain is None and by_slot[TUE_17].captainless


# --- the pages ---------------------------------------------------------------------------------


def test_month_and_week_chips_show_initials_and_the_full_name_on_hover(
    client, frozen, manager, casey, dana, train
):
    rotate(manager, [train], [casey, dana])
    client.force_login(manager)
    for url in ("/calendar/?date=2026-03-10", "/calendar/?view=week&date=2026-03-17"):
        page = client.get(url).content.decode()
        assert ">DD</abbr>" in page
        assert 'title="Captain Dana Diaz"' in page
        assert "captain Dana Diaz (Web captains)" in page  # the chip's hover text
        assert '<span class="visually-hidden">captain Dana Diaz: </span>' in page
    month = client.get("/calendar/?date=2026-03-10").content.decode()
    assert month.count(">CC</abbr>") == 2 and month.count(">DD</abbr>") == 2


def test_the_agenda_names_captains_and_flags_turns_without_one(
    client, frozen, manager, casey, train
):
    UnavailabilityFactory(
        user=casey,
        starts_at=datetime(2026, 3, 23, 9, tzinfo=UTC),
        ends_at=datetime(2026, 3, 30, 9, tzinfo=UTC),
        reason="Holiday",
    )
    rotate(manager, [train], [casey])
    client.force_login(manager)
    page = client.get("/calendar/?view=agenda&date=2026-03-10").content.decode()
    assert page.count("Captain Casey Carter") == 3  # 10, 17 and 31 March
    assert "No captain: nobody in Web captains is eligible" in page  # 24 March
    month = client.get("/calendar/?date=2026-03-10").content.decode()
    assert "no captain: </span>?</abbr>" in month


def test_the_departure_page_names_the_captain_and_links_the_rotation(
    client, frozen, manager, casey, dana, train
):
    rotation = rotate(manager, [train], [casey, dana])
    client.force_login(manager)
    page = client.get(f"/calendar/departures/{train.pk}/{slot_key(TUE_17)}/").content.decode()
    assert "<dt>Captain</dt>" in page and "Dana Diaz" in page
    assert f'href="{rotation.get_absolute_url()}"' in page


def test_outsiders_see_no_captains_of_other_teams(client, frozen, manager, casey, train):
    rotate(manager, [train], [casey])
    outsider = person(TeamFactory(slug="other", name="Other"), "olly", "Olly", "Outsider")
    TrainFactory(team=outsider.memberships.get().team, name="Their train", handled_through=NOW)
    client.force_login(outsider)
    page = client.get("/calendar/?date=2026-03-10").content.decode()
    assert "Their train" in page
    assert "Casey Carter" not in page and ">CC</abbr>" not in page


def test_the_month_view_query_count_does_not_grow_with_rotations_and_turns(
    client, frozen, manager, casey, dana, team, train
):
    client.force_login(manager)

    def queries():
        with CaptureQueriesContext(connection) as context:
            response = client.get("/calendar/?date=2026-03-10")
        assert response.status_code == 200
        return len(context.captured_queries), response.content.decode().count("</abbr>")

    without, _ = queries()
    rotate(manager, [train], [casey, dana])
    few, initials_few = queries()
    # Four more trains departing daily, on a per-departure and a weekly rotation: many more
    # departures, turns and captains in the month.
    daily = [
        TrainFactory(
            team=team,
            name=f"Daily {n}",
            rrule=f"FREQ=DAILY;BYHOUR={8 + n};BYMINUTE=0",
            handled_through=NOW,
        )
        for n in range(4)
    ]
    rotate(manager, daily[:2], [dana, casey], name="Daily captains", per_departure=True)
    rotate(manager, daily[2:], [casey, dana, manager], name="Ops captains")
    assert RotationTurn.objects.count() > 150
    many, initials_many = queries()
    assert initials_many > initials_few + 100
    assert many == few, "the month view's queries must not grow with rotations and turns"
    assert few <= without + 1  # one query for every departure's turn
    assert few <= 11
