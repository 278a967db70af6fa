"""Captains and captain duties in the iCalendar feed, parsed back with the icalendar library:
departures name the captain of their rotation turn, the feed's owner gets one event per turn they
hold (stable UID, the turn's times in the rotation's timezone, the handoff note), and nobody else's
duties, nor those of teams the owner is not in, ever appear."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from accounts.models import Membership
from accounts.services import api_token_issue
from releases.departures import slot_key
from releases.ics import calendar_ics_for_user
from releases.models import RotationTurn, TurnLength
from releases.services.calendar_feed import calendar_feed_reset
from releases.services.rotation_duty import handoff_note_write, swap_open, swap_take
from releases.services.rotations import rotation_create, rotation_plan_turns
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # Tuesday; trains leave at 14:00 Berlin
TUE_10 = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
TUE_17 = datetime(2026, 3, 17, 13, 0, tzinfo=UTC)
HOST = "127.0.0.1"  # from SITE_URL
# Casey's first turn: Monday 9 March 10:00 Berlin to Monday 16 March 10:00 Berlin.
MON_9, MON_16 = datetime(2026, 3, 9, 9, tzinfo=UTC), datetime(2026, 3, 16, 9, tzinfo=UTC)


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
    return TrainFactory(team=team, name="Checkout Web", slug="web", handled_through=NOW)


@pytest.fixture
def rotation(manager, casey, dana, train):
    return rotate(manager, [train], [casey, dana])


def rotate(manager, trains, members, *, name="Web captains", per_departure=False):
    return rotation_create(
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


def events(body: bytes) -> dict[str, object]:
    found = {}
    for event in Calendar.from_ical(body).walk("VEVENT"):
        uid = str(event["UID"])
        assert uid not in found, f"duplicate UID {uid}"
        found[uid] = event
    return found


def duties(body: bytes) -> dict[str, object]:
    return {uid: e for uid, e in events(body).items() if uid.startswith("turn-")}


def feed(user, now=NOW, **filters) -> bytes:
    return calendar_ics_for_user(user, now=now, **filters)


def turn_uid(turn) -> str:
    return f"turn-{turn.pk}@{HOST}"


def departure_uid(train, slot) -> str:
    return f"departure-{train.pk}-{slot_key(slot)}@{HOST}"


# --- captains on departures and releases -------------------------------------------------------


def test_departures_name_the_captain_of_their_turn(manager, casey, dana, train, rotation):
    ReleaseFactory(train=train, slot=TUE_10, cut_at=TUE_10, version="4.12.0", captain=casey)
    found = events(feed(manager))
    released = str(found[departure_uid(train, TUE_10)]["DESCRIPTION"])
    assert "Captain: Casey Carter" in released
    upcoming = str(found[departure_uid(train, TUE_17)]["DESCRIPTION"])
    assert "Captain: Dana Diaz (rotation “Web captains”)" in upcoming


def test_a_departure_nobody_can_captain_says_so(manager, casey, train):
    casey_only = rotate(manager, [train], [casey])
    RotationTurn.objects.filter(rotation=casey_only).update(captain=None, reason="Nobody eligible")
    description = str(events(feed(manager))[departure_uid(train, TUE_17)]["DESCRIPTION"])
    assert "Captain: nobody in the rotation “Web captains” is eligible" in description


# --- the owner's duties ------------------------------------------------------------------------


def test_the_owner_gets_one_event_per_turn_they_hold(casey, dana, rotation):
    mine = list(RotationTurn.objects.filter(rotation=rotation, captain=casey).order_by("starts_at"))
    theirs = list(RotationTurn.objects.filter(rotation=rotation, captain=dana))
    assert len(mine) >= 8 and theirs
    found = duties(feed(casey))
    assert set(found) == {turn_uid(t) for t in mine}
    first = found[turn_uid(mine[0])]
    assert str(first["SUMMARY"]) == "Release captain: Web captains"
    start, end = first["DTSTART"].dt, first["DTEND"].dt
    assert (start, end) == (MON_9, MON_16) == (mine[0].starts_at, mine[0].ends_at)
    assert str(start.tzinfo) == "Europe/Berlin" and (start.hour, end.hour) == (10, 10)
    assert str(first["URL"]) == f"http://127.0.0.1:8000{rotation.get_absolute_url()}"
    assert "You are release captain for “Web captains” (Checkout)" in str(first["DESCRIPTION"])
    # Another member's duties never reach my feed.
    assert not {turn_uid(t) for t in theirs} & set(events(feed(casey)))


def test_someone_on_no_rotation_gets_no_duty_events(manager, rotation):
    assert duties(feed(manager)) == {}


def test_the_handoff_note_rides_the_duty_event_and_the_uid_stays(casey, dana, rotation):
    # Dana holds 16–23 March; Casey, the outgoing captain, leaves her a note.
    turn = RotationTurn.objects.get(rotation=rotation, starts_at=MON_16)
    before = duties(feed(dana))
    assert "Handoff note" not in str(before[turn_uid(turn)]["DESCRIPTION"])
    handoff_note_write(actor=casey, turn=turn, text="Payments flag is at 50%.", now=NOW)
    rotation_plan_turns(rotation, now=NOW + timedelta(hours=1))  # replanning keeps the row
    after = duties(feed(dana))
    assert set(after) == set(before)
    description = str(after[turn_uid(turn)]["DESCRIPTION"])
    assert "Handoff note from Casey Carter (Tue 10 Mar 2026 10:00 CET):" in description
    assert "Payments flag is at 50%." in description


def test_a_swapped_turn_moves_to_the_takers_feed_under_the_same_uid(casey, dana, rotation):
    turn = RotationTurn.objects.get(rotation=rotation, starts_at=MON_16)  # Dana's
    swap = swap_open(actor=dana, turn=turn, reason="Conference", now=NOW)
    swap_take(actor=casey, swap=swap, now=NOW)
    assert turn_uid(turn) in duties(feed(casey))
    assert turn_uid(turn) not in duties(feed(dana))
    assert "Swap: Casey Carter took it from Dana Diaz" in str(
        duties(feed(casey))[turn_uid(turn)]["DESCRIPTION"]
    )


def test_a_changed_duty_says_when_it_changed(casey, dana, rotation):
    turn = RotationTurn.objects.get(rotation=rotation, starts_at=MON_16)  # Dana's
    planned_at = duties(feed(dana))[turn_uid(turn)]["LAST-MODIFIED"].dt
    later = NOW + timedelta(hours=2)
    swap = swap_open(actor=dana, turn=turn, reason="Conference", now=NOW)
    swap_take(actor=casey, swap=swap, now=later)
    event = duties(feed(casey, now=later))[turn_uid(turn)]
    assert planned_at < event["LAST-MODIFIED"].dt == later


def test_per_departure_turns_name_their_departure(manager, casey, dana, train):
    rotate(manager, [train], [casey, dana], per_departure=True)
    turn = RotationTurn.objects.get(train=train, slot=TUE_17)
    event = duties(feed(turn.captain))[turn_uid(turn)]
    assert event["DTEND"].dt == TUE_17
    assert "For the departure of Checkout Web at Tue 17 Mar 2026 14:00 CET" in str(
        event["DESCRIPTION"]
    )


def test_duties_of_a_team_the_owner_left_are_not_in_the_feed(casey, team, rotation):
    assert duties(feed(casey))
    Membership.objects.filter(user=casey, team=team).delete()
    assert duties(feed(casey)) == {}


def test_filters_narrow_the_duties_too(manager, casey, dana, team, train, rotation):
    other_team = TeamFactory(slug="payments", name="Payments")
    MembershipFactory(user=casey, team=other_team)
    boss = MembershipFactory(team=other_team, role="manager").user
    payments = TrainFactory(team=other_team, name="Payments API", handled_through=NOW)
    rotate(boss, [payments], [casey], name="Payments captains")
    no_rotation = TrainFactory(team=team, name="No rotation", handled_through=NOW)

    def summaries(**filters):
        return {str(e["SUMMARY"]) for e in duties(feed(casey, **filters)).values()}

    both = {"Release captain: Web captains", "Release captain: Payments captains"}
    assert summaries() == both
    assert summaries(team="payments") == {"Release captain: Payments captains"}
    assert summaries(train=train.pk) == {"Release captain: Web captains"}
    assert summaries(train=no_rotation.pk) == set()


# --- the secret URL and the API ----------------------------------------------------------------


def test_the_secret_url_and_the_api_serve_the_owners_duties(client, frozen, casey, rotation):
    mine = {turn_uid(t) for t in RotationTurn.objects.filter(captain=casey)}
    token = calendar_feed_reset(actor=casey)
    response = client.get(f"/calendar/feed/{token.key}.ics")
    assert response.status_code == 200 and set(duties(response.content)) == mine

    issued = api_token_issue(actor=casey, user=casey, name="cal", scopes=["calendar"])
    response = client.get("/api/v1/calendar.ics", headers={"Authorization": f"Bearer {issued.raw}"})
    assert response.status_code == 200 and set(duties(response.content)) == mine


def test_the_api_documents_the_duty_events(client):
    schema = client.get("/api/v1/openapi.json").json()
    description = schema["paths"]["/api/v1/calendar.ics"]["get"]["description"]
    assert "turn-<id>@<host>" in description and "captain" in description
