"""The iCalendar feed, parsed back with the icalendar library: events, stable UIDs shared by a
departure and its release, times across a DST change, the window, filters, the secret URL and
GET /api/v1/calendar.ics."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from icalendar import Calendar

from accounts.services import api_token_issue
from releases.departures import slot_key
from releases.ics import calendar_ics_for_user
from releases.models import CalendarFeedToken
from releases.services.calendar_feed import calendar_feed_authenticate, calendar_feed_reset
from releases.services.cutting import cut_due_trains
from releases.services.trains import departure_skip
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday; the train leaves at 14:00 Berlin
TUE_10 = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
TUE_17 = datetime(2026, 3, 17, 13, 0, tzinfo=UTC)
TUE_24 = datetime(2026, 3, 24, 13, 0, tzinfo=UTC)  # 14:00 CET
TUE_31 = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)  # 14:00 CEST: summer time since the 29th
HOST = "127.0.0.1"  # from SITE_URL
# Tuesdays from 10 March to 1 September 2026: the departures within 180 days of NOW.
DEPARTURES_IN_WINDOW = 26


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
    return TrainFactory(team=team, name="Checkout Web", slug="web", handled_through=NOW)


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def events(body: bytes) -> dict[str, object]:
    found = {}
    for event in parse(body).walk("VEVENT"):
        uid = str(event["UID"])
        assert uid not in found, f"duplicate UID {uid}"
        found[uid] = event
    return found


def departure_uid(train, slot) -> str:
    return f"departure-{train.pk}-{slot_key(slot)}@{HOST}"


def feed(user, now=NOW, **filters) -> bytes:
    return calendar_ics_for_user(user, now=now, **filters)


def test_one_event_per_release_and_departure_within_the_window(manager, train):
    kept = ReleaseFactory(
        train=train,
        version="4.11.0",
        slot=datetime(2026, 2, 10, 13, 0, tzinfo=UTC),
        cut_at=datetime(2026, 2, 10, 13, 0, tzinfo=UTC),
        status="released",
        released_at=datetime(2026, 2, 12, 10, 0, tzinfo=UTC),
        captain=manager,
    )
    ReleaseFactory(
        train=train, version="4.10.0", cut_at=NOW - timedelta(days=31), slot=None, kind="adhoc"
    )
    hotfix = ReleaseFactory(
        train=train, version="4.11.1", kind="hotfix", cut_at=NOW - timedelta(days=2), slot=None
    )
    calendar = parse(feed(manager))
    assert str(calendar["VERSION"]) == "2.0" and "Stationmaster" in str(calendar["PRODID"])
    found = events(feed(manager))
    assert len(found) == DEPARTURES_IN_WINDOW + 2

    release = found[departure_uid(train, kept.slot)]
    assert str(release["SUMMARY"]) == "Checkout Web 4.11.0 — released"
    description = str(release["DESCRIPTION"])
    assert "Status: Released" in description and "Captain: Mia Manager" in description
    assert f"http://127.0.0.1:8000/releases/{kept.pk}/" in description
    assert str(release["URL"]) == f"http://127.0.0.1:8000/releases/{kept.pk}/"
    assert str(found[f"release-{hotfix.pk}@{HOST}"]["SUMMARY"]) == (
        "Checkout Web 4.11.1 (hotfix) — cut"
    )

    departure = found[departure_uid(train, TUE_17)]
    assert str(departure["SUMMARY"]) == "Checkout Web train departs"
    assert str(departure["STATUS"]) == "CONFIRMED"
    assert f"/calendar/departures/{train.pk}/20260317T130000Z/" in str(departure["URL"])
    assert "Code freeze from: Mon 16 Mar 2026 14:00 CET" in str(departure["DESCRIPTION"])


def test_a_feed_without_trains_is_still_a_valid_calendar():
    stranger = UserFactory()
    calendar = parse(feed(stranger))
    assert list(calendar.walk("VEVENT")) == []
    assert [c.name for c in calendar.subcomponents] == ["VTIMEZONE"]


def test_the_window_is_30_days_back_and_180_days_ahead(manager, train):
    for days, version in ((29, "1.1.0"), (31, "1.2.0")):
        ReleaseFactory(
            train=train, version=version, kind="adhoc", slot=None, cut_at=NOW - timedelta(days=days)
        )
    ReleaseFactory(  # a planned release placed by its target time
        train=train, version="2.0.0", kind="adhoc", slot=None, cut_at=None, status="planned",
        target_at=NOW + timedelta(days=170),
    )  # fmt: skip
    found = events(feed(manager))
    summaries = {str(e["SUMMARY"]) for e in found.values()}
    assert "Checkout Web 1.1.0 (ad hoc) — cut" in summaries
    assert "Checkout Web 1.2.0 (ad hoc) — cut" not in summaries
    assert "Checkout Web 2.0.0 (ad hoc) — planned" in summaries
    starts = sorted(e.decoded("DTSTART") for e in found.values())
    assert starts[0] >= NOW - timedelta(days=30)
    assert NOW + timedelta(days=170) < starts[-1] < NOW + timedelta(days=180)
    assert departure_uid(train, datetime(2026, 9, 1, 12, 0, tzinfo=UTC)) in found  # +175 days
    assert departure_uid(train, datetime(2026, 9, 8, 12, 0, tzinfo=UTC)) not in found  # +182


def test_times_carry_the_train_timezone_across_a_dst_change(manager, train):
    body = feed(manager)
    found = events(body)
    before, after = found[departure_uid(train, TUE_24)], found[departure_uid(train, TUE_31)]
    for event in (before, after):
        start = event.decoded("DTSTART")
        assert (start.hour, start.minute, str(start.tzinfo)) == (14, 0, "Europe/Berlin")
        assert event.decoded("DTEND") - start == timedelta(minutes=30)
    assert before.decoded("DTSTART").astimezone(UTC) == TUE_24
    assert after.decoded("DTSTART").astimezone(UTC) == TUE_31
    text = body.decode()
    assert "DTSTART;TZID=Europe/Berlin:20260331T140000" in text
    assert "BEGIN:VTIMEZONE" in text and "TZID:Europe/Berlin" in text


def test_uids_are_stable_and_a_departure_keeps_its_uid_when_it_is_cut(manager, train):
    first, again = events(feed(manager)), events(feed(manager, now=NOW + timedelta(minutes=5)))
    assert first.keys() == again.keys()
    uid = departure_uid(train, TUE_10)
    assert str(first[uid]["SUMMARY"]) == "Checkout Web train departs"

    report = cut_due_trains(now=TUE_10 + timedelta(seconds=30))
    [release] = report.cut
    after = events(feed(manager, now=TUE_10 + timedelta(hours=1)))
    assert str(after[uid]["SUMMARY"]) == f"Checkout Web {release.version} — cut"
    assert str(after[uid]["URL"]).endswith(f"/releases/{release.pk}/")
    assert after[uid]["SEQUENCE"] > first[uid]["SEQUENCE"]
    assert after[uid].decoded("DTSTART").astimezone(UTC) == release.cut_at
    assert departure_uid(train, TUE_17) in after
    assert [k for k in after if k.startswith("release-")] == []


def test_skipped_departures_stay_as_cancelled_events(manager, train):
    departure_skip(actor=manager, train=train, slot=TUE_17, reason="Offsite", now=NOW)
    event = events(feed(manager))[departure_uid(train, TUE_17)]
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["SUMMARY"]) == "Checkout Web departure skipped"
    assert "Status: Skipped — Offsite" in str(event["DESCRIPTION"])


def test_filters_by_team_and_train_and_refuses_foreign_ones(manager, train):
    api = TrainFactory(team=train.team, name="Checkout API", slug="api", handled_through=NOW)
    mobile_team = MembershipFactory(user=manager, team=TeamFactory(slug="mobile")).team
    TrainFactory(team=mobile_team, name="Mobile", slug="app", handled_through=NOW)
    foreign = TrainFactory(team=TeamFactory(slug="secret"), name="Secret", handled_through=NOW)

    def names(**filters):
        return {
            str(e["SUMMARY"]).split(" train")[0] for e in events(feed(manager, **filters)).values()
        }

    assert names() == {"Checkout Web", "Checkout API", "Mobile"}
    assert names(team="checkout") == {"Checkout Web", "Checkout API"}
    assert names(train=api.pk) == {"Checkout API"}
    assert str(parse(feed(manager, train=api.pk))["X-WR-CALNAME"]).startswith("Checkout API")
    with pytest.raises(ValidationError) as error:
        feed(manager, team="secret")
    assert "team" in error.value.message_dict
    with pytest.raises(ValidationError):
        feed(manager, train=foreign.pk)


# --- the secret URL ----------------------------------------------------------------------------


def test_the_secret_url_serves_the_feed_without_a_login(client, frozen, manager, train):
    token = calendar_feed_reset(actor=manager)
    response = client.get(f"/calendar/feed/{token.key}.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"]
    assert len(events(response.content)) == DEPARTURES_IN_WINDOW
    token.refresh_from_db()
    assert token.last_used_at == NOW

    train_only = client.get(f"/calendar/feed/{token.key}.ics?train={train.pk}")
    assert train_only.status_code == 200
    assert client.get(f"/calendar/feed/{token.key}.ics?team=secret").status_code == 400
    assert client.get(f"/calendar/feed/{token.key}.ics?train=abc").status_code == 400
    assert client.get("/calendar/feed/not-a-key.ics").status_code == 404


def test_last_use_is_recorded_at_most_once_an_hour(manager):
    token = calendar_feed_reset(actor=manager)
    assert calendar_feed_authenticate(key=token.key, now=NOW).last_used_at == NOW
    calendar_feed_authenticate(key=token.key, now=NOW + timedelta(minutes=59))
    token.refresh_from_db()
    assert token.last_used_at == NOW
    calendar_feed_authenticate(key=token.key, now=NOW + timedelta(minutes=61))
    token.refresh_from_db()
    assert token.last_used_at == NOW + timedelta(minutes=61)


def test_a_reset_makes_the_old_url_404(client, frozen, manager, train):
    old = calendar_feed_reset(actor=manager).key
    assert client.get(f"/calendar/feed/{old}.ics").status_code == 200
    client.force_login(manager)
    client.post("/calendar/feed/reset/")
    new = CalendarFeedToken.objects.get(user=manager)
    assert new.key != old and new.last_used_at is None
    client.logout()
    assert client.get(f"/calendar/feed/{old}.ics").status_code == 404
    assert client.get(f"/calendar/feed/{new.key}.ics").status_code == 200


def test_a_deactivated_user_feed_is_gone(client, manager, train):
    token = calendar_feed_reset(actor=manager)
    manager.is_active = False
    manager.save()
    assert client.get(f"/calendar/feed/{token.key}.ics").status_code == 404


# --- the API -----------------------------------------------------------------------------------


def bearer(user, *scopes) -> dict:
    issued = api_token_issue(actor=user, user=user, name="-".join(scopes), scopes=list(scopes))
    return {"Authorization": f"Bearer {issued.raw}"}


@pytest.mark.parametrize("scope", ["calendar", "read"])
def test_the_api_serves_the_feed_to_a_calendar_or_read_token(client, frozen, manager, train, scope):
    response = client.get("/api/v1/calendar.ics", headers=bearer(manager, scope))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert len(events(response.content)) == DEPARTURES_IN_WINDOW


def test_the_api_refuses_missing_tokens_and_missing_scopes(client, frozen, manager, train):
    assert client.get("/api/v1/calendar.ics").status_code == 401
    response = client.get("/api/v1/calendar.ics", headers=bearer(manager, "deployments"))
    assert response.status_code == 403
    assert "calendar" in response.json()["detail"]
    client.force_login(manager)  # a browser session is not a token
    assert client.get("/api/v1/calendar.ics").status_code == 401


def test_the_api_filters_and_reports_bad_filters_as_400(client, frozen, manager, train):
    headers = bearer(manager, "calendar")
    response = client.get(f"/api/v1/calendar.ics?team=checkout&train={train.pk}", headers=headers)
    assert response.status_code == 200
    response = client.get("/api/v1/calendar.ics?team=secret", headers=headers)
    assert response.status_code == 400 and "team" in response.json()["errors"]
    response = client.get("/api/v1/calendar.ics?train=abc", headers=headers)
    assert response.status_code == 400 and "train" in response.json()["errors"]


def test_the_api_documents_the_feed(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/calendar.ics"]["get"]
    assert "text/calendar" in operation["responses"]["200"]["content"]
    assert "UID" in operation["description"] or "UIDs" in operation["description"]
    assert {p["name"] for p in operation["parameters"]} == {"team", "train"}
