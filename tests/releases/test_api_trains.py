"""The trains API: list, create, read, update, cut now, change items, and the OpenAPI document."""

import itertools
import re
from datetime import date, datetime

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.services import api_token_issue
from releases.models import ChangeItem, Release, Train
from releases.services.changes import change_item_add
from releases.services.cutting import train_cut_now
from releases.services.trains import departure_skip, train_set_paused
from releases.timetable import zone
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ChangeItemFactory, TrainFactory

pytestmark = pytest.mark.django_db

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


_token_names = itertools.count()


def bearer(user, *scopes) -> dict:
    name = f"CI {next(_token_names)}"
    issued = api_token_issue(actor=user, user=user, name=name, scopes=list(scopes))
    return {"Authorization": f"Bearer {issued.raw}"}


@pytest.fixture
def team():
    return TeamFactory(slug="checkout", name="Checkout")


@pytest.fixture
def manager(team):
    return MembershipFactory(user=UserFactory(username="mia"), team=team, role=Role.MANAGER).user


@pytest.fixture
def engineer(team):
    return MembershipFactory(user=UserFactory(username="eric"), team=team).user


@pytest.fixture
def train(team):
    return TrainFactory(team=team, name="Checkout web", slug="checkout-web")


@pytest.fixture
def foreign_train():
    other = TeamFactory(slug="payments", name="Payments")
    MembershipFactory(team=other, role=Role.MANAGER)
    return TrainFactory(team=other, name="Payments API", slug="payments-api")


def post(client, url, data, headers):
    return client.post(url, data, content_type="application/json", headers=headers)


def patch(client, url, data, headers):
    return client.patch(url, data, content_type="application/json", headers=headers)


def expected_departures(train, count=5):
    return train.timetable.next_after(timezone.now(), count=count)


# --- list and detail ------------------------------------------------------------------------


def test_list_shows_only_my_teams_trains_with_iso_departures_in_the_trains_timezone(
    client, engineer, train, foreign_train
):
    new_york = TrainFactory(
        team=train.team, name="Mobile", slug="mobile", timezone="America/New_York"
    )
    response = client.get("/api/v1/trains", headers=bearer(engineer, "read"))
    assert response.status_code == 200
    body = response.json()
    assert [t["slug"] for t in body] == ["checkout-web", "mobile"]
    berlin = body[0]
    assert berlin["team"] == "checkout"
    assert berlin["rrule"] == "FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;BYMINUTE=0"
    assert berlin["timezone"] == "Europe/Berlin"
    assert berlin["starts_on"] == "2026-01-01"
    assert berlin["is_paused"] is False
    for key in ("freeze_lead_hours", "release_lead_hours", "version_scheme", "initial_version",
                "empty_departure", "colour", "description"):  # fmt: skip
        assert key in berlin
    for out, model, local_hour in ((berlin, train, 14), (body[1], new_york, 14)):
        departures = out["next_departures"]
        assert len(departures) == 5
        tz = zone(model.timezone)
        for raw, slot in zip(departures, expected_departures(model), strict=True):
            assert ISO_WITH_OFFSET.match(raw), raw
            parsed = datetime.fromisoformat(raw)
            assert parsed == slot
            # Written in the train's own timezone: its wall clock and its offset at that moment.
            assert parsed.utcoffset() == slot.astimezone(tz).utcoffset()
            assert (parsed.hour, parsed.minute) == (local_hour, 0)
    assert re.search(r"T14:00:00\+0[12]:00$", berlin["next_departures"][0])
    assert re.search(r"T14:00:00-0[45]:00$", body[1]["next_departures"][0])


def test_list_filters_by_team(client, engineer, train, foreign_train):
    headers = bearer(engineer, "read")
    mine = client.get("/api/v1/trains?team=checkout", headers=headers).json()
    assert [t["id"] for t in mine] == [train.pk]
    assert client.get("/api/v1/trains?team=payments", headers=headers).json() == []


def test_next_departures_honour_a_skip(client, manager, train):
    first, second = expected_departures(train, count=2)
    departure_skip(actor=manager, train=train, slot=first, reason="Team offsite")
    response = client.get(f"/api/v1/trains/{train.pk}", headers=bearer(manager, "read"))
    assert response.status_code == 200
    departures = [datetime.fromisoformat(d) for d in response.json()["next_departures"]]
    assert first not in departures
    assert departures[0] == second
    assert len(departures) == 5


def test_a_paused_train_has_no_next_departures(client, manager, train):
    train_set_paused(actor=manager, train=train, paused=True)
    body = client.get(f"/api/v1/trains/{train.pk}", headers=bearer(manager, "read")).json()
    assert body["is_paused"] is True
    assert body["next_departures"] == []


def test_another_teams_train_is_404(client, engineer, foreign_train):
    response = client.get(f"/api/v1/trains/{foreign_train.pk}", headers=bearer(engineer, "read"))
    assert response.status_code == 404
    assert response.json() == {"detail": f"No train with id {foreign_train.pk} in your teams."}
    assert client.get("/api/v1/trains/999999", headers=bearer(engineer, "read")).status_code == 404


def test_reading_trains_needs_the_read_scope(client, engineer, train):
    response = client.get("/api/v1/trains", headers=bearer(engineer, "deployments"))
    assert response.status_code == 403
    assert "“read” scope" in response.json()["detail"]
    assert client.get("/api/v1/trains").status_code == 401


def test_listing_trains_takes_a_fixed_number_of_queries(
    client, manager, team, django_assert_max_num_queries
):
    headers = bearer(manager, "read")
    trains = [TrainFactory(team=team) for _ in range(25)]
    for train in trains[:10]:
        departure_skip(actor=manager, train=train, slot=expected_departures(train, 1)[0])
    # token lookup, last-used stamp, trains, exceptions, blackouts
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/trains", headers=headers)
    assert response.status_code == 200
    assert len(response.json()) == 25


# --- create ---------------------------------------------------------------------------------

NEW_TRAIN = {
    "team": "checkout",
    "name": "Checkout web",
    "rrule": "FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;BYMINUTE=0",
    "timezone": "Europe/Berlin",
    "starts_on": "2026-01-01",
}


def test_a_manager_creates_a_train(client, manager):
    payload = {**NEW_TRAIN, "release_lead_hours": 24, "version_scheme": "calver"}
    response = post(client, "/api/v1/trains", payload, bearer(manager, "write"))
    assert response.status_code == 201, response.json()
    body = response.json()
    train = Train.objects.get()
    assert body["id"] == train.pk
    assert (body["slug"], body["team"]) == ("checkout-web", "checkout")
    assert (train.release_lead_hours, train.version_scheme) == (24, "calver")
    assert (body["freeze_lead_hours"], body["colour"], body["empty_departure"]) == (
        24,
        "blue",
        "depart_empty",
    )
    assert train.created_by == manager
    assert [datetime.fromisoformat(d) for d in body["next_departures"]] == expected_departures(
        train
    )


def test_an_engineer_cannot_create_a_train(client, engineer):
    response = post(client, "/api/v1/trains", NEW_TRAIN, bearer(engineer, "write"))
    assert response.status_code == 403
    assert response.json() == {"detail": "Only a manager of this team can create trains."}
    assert not Train.objects.exists()


def test_creating_needs_the_write_scope(client, manager):
    response = post(client, "/api/v1/trains", NEW_TRAIN, bearer(manager, "read"))
    assert response.status_code == 403
    assert not Train.objects.exists()


@pytest.mark.parametrize("slug", ["payments", "nope"])
def test_creating_in_another_or_unknown_team_is_404(client, manager, foreign_train, slug):
    count = Train.objects.count()
    response = post(client, "/api/v1/trains", {**NEW_TRAIN, "team": slug}, bearer(manager, "write"))
    assert response.status_code == 404
    assert response.json() == {"detail": f"No team “{slug}” among your teams."}
    assert Train.objects.count() == count


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"rrule": "FREQ=SOMETIMES"}, "rrule", "not a valid RFC 5545 RRULE"),
        ({"rrule": ""}, "rrule", "Enter a timetable rule"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "not a known IANA timezone"),
        (
            {"rrule": "FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;UNTIL=20260301T000000Z"},
            "rrule",
            "no future departure",
        ),
        ({"starts_on": "next tuesday"}, "starts_on", "valid date"),
        ({"colour": "beige"}, "colour", "Input should be"),
        ({"version_scheme": "roman"}, "version_scheme", "Input should be"),
        ({"freeze_lead_hours": -1}, "freeze_lead_hours", "greater than or equal to 0"),
        ({"name": "   "}, "name", "cannot be blank"),
        ({"slug": "not a slug!"}, "slug", "slug"),
        ({"rule": "FREQ=DAILY"}, "rule", "Extra inputs are not permitted"),
    ],
)
def test_invalid_trains_are_400_with_field_messages_and_nothing_is_written(
    client, manager, change, field, message
):
    response = post(client, "/api/v1/trains", {**NEW_TRAIN, **change}, bearer(manager, "write"))
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["detail"] == "The request has invalid fields."
    assert message in " ".join(body["errors"][field]), body
    assert not Train.objects.exists()


def test_a_missing_field_is_named(client, manager):
    payload = {k: v for k, v in NEW_TRAIN.items() if k != "rrule"}
    response = post(client, "/api/v1/trains", payload, bearer(manager, "write"))
    assert response.status_code == 400
    assert response.json()["errors"] == {"rrule": ["Field required"]}


def test_a_duplicate_train_name_is_400(client, manager, train):
    response = post(client, "/api/v1/trains", NEW_TRAIN, bearer(manager, "write"))
    assert response.status_code == 400
    assert response.json()["errors"]
    assert Train.objects.count() == 1


# --- update ---------------------------------------------------------------------------------


def test_patch_changes_only_what_is_sent(client, manager, train):
    response = patch(
        client,
        f"/api/v1/trains/{train.pk}",
        {"rrule": "FREQ=WEEKLY;BYDAY=WE;BYHOUR=10;BYMINUTE=30", "release_lead_hours": 12},
        bearer(manager, "write"),
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    train.refresh_from_db()
    assert (train.rrule, train.release_lead_hours) == (
        "FREQ=WEEKLY;BYDAY=WE;BYHOUR=10;BYMINUTE=30",
        12,
    )
    assert (train.name, train.slug, train.timezone, train.starts_on) == (
        "Checkout web",
        "checkout-web",
        "Europe/Berlin",
        date(2026, 1, 1),
    )
    for raw in body["next_departures"]:
        local = datetime.fromisoformat(raw)
        assert (local.strftime("%a"), local.hour, local.minute) == ("Wed", 10, 30)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"timezone": "Nowhere/Special"}, "timezone"),
        ({"rrule": "FREQ=DAILY;COUNT=1"}, "rrule"),
        ({"name": None}, "name"),
        ({"team": "payments"}, "team"),
        ({"starts_on": "2026-13-45"}, "starts_on"),
    ],
)
def test_invalid_updates_are_400_and_change_nothing(client, manager, train, change, field):
    before = Train.objects.values().get(pk=train.pk)
    response = patch(client, f"/api/v1/trains/{train.pk}", change, bearer(manager, "write"))
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][field]
    assert Train.objects.values().get(pk=train.pk) == before


def test_an_engineer_cannot_update_and_outsiders_get_404(client, engineer, train, foreign_train):
    headers = bearer(engineer, "write")
    response = patch(client, f"/api/v1/trains/{train.pk}", {"name": "Mine now"}, headers)
    assert response.status_code == 403
    assert response.json() == {"detail": "Only a manager of this team can change trains."}
    response = patch(client, f"/api/v1/trains/{foreign_train.pk}", {"name": "Mine now"}, headers)
    assert response.status_code == 404
    assert set(Train.objects.values_list("name", flat=True)) == {"Checkout web", "Payments API"}


def test_updating_needs_the_write_scope(client, manager, train):
    response = patch(client, f"/api/v1/trains/{train.pk}", {"name": "X"}, bearer(manager, "read"))
    assert response.status_code == 403
    train.refresh_from_db()
    assert train.name == "Checkout web"


# --- cut now --------------------------------------------------------------------------------


def test_a_manager_cuts_now_with_the_ready_changes(client, manager, engineer, train):
    ready = change_item_add(actor=engineer, train=train, title="Ready one", is_ready=True)
    waiting = change_item_add(actor=engineer, train=train, title="Not yet")
    # No body at all, as `curl -X POST` sends it.
    url = f"/api/v1/trains/{train.pk}/cut-now"
    response = client.generic("POST", url, headers=bearer(manager, "write"))
    assert response.status_code == 201, response.json()
    body = response.json()
    release = Release.objects.get()
    assert body["id"] == release.pk
    assert (body["kind"], body["status"], body["version"]) == ("adhoc", "cut", "1.0.0")
    assert body["train"]["slug"] == "checkout-web"
    assert [c["id"] for c in body["changes"]] == [ready.pk]
    assert body["change_count"] == 1
    assert body["events"][0]["kind"] == "cut"
    assert body["events"][0]["actor"] == "mia"
    assert body["events"][0]["to"] == "cut"
    assert ISO_WITH_OFFSET.match(body["cut_at"])
    waiting.refresh_from_db()
    assert waiting.release is None


def test_cut_now_takes_an_optional_note(client, manager, train):
    url = f"/api/v1/trains/{train.pk}/cut-now"
    response = post(client, url, {"note": "Payment fix"}, bearer(manager, "write"))
    assert response.status_code == 201
    assert response.json()["events"][0]["note"] == "Payment fix"


def test_cut_now_refusals_write_nothing(client, manager, engineer, train, foreign_train):
    url = f"/api/v1/trains/{train.pk}/cut-now"
    response = client.generic("POST", url, headers=bearer(engineer, "write"))
    assert response.status_code == 403
    assert response.json() == {"detail": "Only a manager of this team can cut an ad-hoc release."}
    assert post(client, url, {}, bearer(manager, "read")).status_code == 403
    foreign = f"/api/v1/trains/{foreign_train.pk}/cut-now"
    assert post(client, foreign, {}, bearer(manager, "write")).status_code == 404
    assert not Release.objects.exists()


# --- change items ---------------------------------------------------------------------------

CHANGE = {
    "title": "Faster checkout button",
    "link": "https://git.example.com/shop/pulls/812",
    "ready": True,
    "external_id": "PR-812",
    "author": "Dana",
}


def test_ci_adds_a_change_and_a_resend_updates_it(client, engineer, train):
    headers = bearer(engineer, "write")
    url = f"/api/v1/trains/{train.pk}/changes"
    response = post(client, url, CHANGE, headers)
    assert response.status_code == 201, response.json()
    first = response.json()
    assert {k: first[k] for k in CHANGE} == CHANGE
    assert (first["train"], first["release"], first["added_by"]) == (train.pk, None, "eric")
    assert ISO_WITH_OFFSET.match(first["created_at"])

    again = post(client, url, {**CHANGE, "title": "Faster checkout button (v2)"}, headers)
    assert again.status_code == 200, again.json()
    assert again.json()["id"] == first["id"]
    assert ChangeItem.objects.get().title == "Faster checkout button (v2)"


def test_changes_without_an_external_id_are_separate(client, engineer, train):
    url = f"/api/v1/trains/{train.pk}/changes"
    headers = bearer(engineer, "write")
    for _ in range(2):
        response = post(client, url, {"title": "Copy tweak"}, headers)
        assert response.status_code == 201
        assert response.json()["ready"] is False
    assert ChangeItem.objects.count() == 2


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"title": ""}, "title"),
        ({"title": "X", "link": "not a url"}, "link"),
        ({"title": "X", "ready": "perhaps"}, "ready"),
        ({"link": "https://example.com"}, "title"),
    ],
)
def test_invalid_changes_are_400_and_nothing_is_written(client, engineer, train, payload, field):
    url = f"/api/v1/trains/{train.pk}/changes"
    response = post(client, url, payload, bearer(engineer, "write"))
    assert response.status_code == 400
    assert response.json()["errors"][field]
    assert not ChangeItem.objects.exists()


def test_a_departed_change_cannot_be_resent(client, manager, train):
    headers = bearer(manager, "write")
    url = f"/api/v1/trains/{train.pk}/changes"
    assert post(client, url, CHANGE, headers).status_code == 201
    release = train_cut_now(actor=manager, train=train)
    response = post(client, url, {**CHANGE, "title": "Changed after departure"}, headers)
    assert response.status_code == 400
    assert response.json()["errors"]["external_id"] == [
        f"This change already departed with {release.version}."
    ]
    assert ChangeItem.objects.get().title == CHANGE["title"]


def test_change_refusals(client, engineer, train, foreign_train):
    url = f"/api/v1/trains/{train.pk}/changes"
    assert post(client, url, CHANGE, bearer(engineer, "read")).status_code == 403
    foreign = f"/api/v1/trains/{foreign_train.pk}/changes"
    assert post(client, foreign, CHANGE, bearer(engineer, "write")).status_code == 404
    assert not ChangeItem.objects.exists()


def test_mark_a_change_ready(client, engineer, train):
    item = ChangeItemFactory(train=train, is_ready=False)
    url = f"/api/v1/changes/{item.pk}"
    response = patch(client, url, {"ready": True}, bearer(engineer, "write"))
    assert response.status_code == 200, response.json()
    assert response.json()["ready"] is True
    item.refresh_from_db()
    assert item.is_ready is True


def test_marking_ready_refusals_change_nothing(client, manager, engineer, train, foreign_train):
    mine = ChangeItemFactory(train=train, is_ready=False)
    foreign = ChangeItemFactory(train=foreign_train, is_ready=False)
    headers = bearer(engineer, "write")
    url = f"/api/v1/changes/{mine.pk}"
    assert (
        patch(client, f"/api/v1/changes/{foreign.pk}", {"ready": True}, headers).status_code == 404
    )
    assert patch(client, url, {"ready": True}, bearer(engineer, "read")).status_code == 403
    response = patch(client, url, {}, headers)
    assert response.status_code == 400
    assert response.json()["errors"] == {"ready": ["Field required"]}
    assert not ChangeItem.objects.filter(is_ready=True).exists()

    departed = ChangeItemFactory(train=train, is_ready=True)
    train_cut_now(actor=manager, train=train)
    response = patch(client, f"/api/v1/changes/{departed.pk}", {"ready": False}, headers)
    assert response.status_code == 400
    assert "already departed" in response.json()["errors"]["__all__"][0]
    departed.refresh_from_db()
    assert departed.is_ready is True


# --- the OpenAPI document -------------------------------------------------------------------


def test_openapi_lists_every_path_with_summaries_and_security(client):
    doc = client.get("/api/v1/openapi.json").json()
    expected = {
        "/api/v1/trains": {"get", "post"},
        "/api/v1/trains/{id}": {"get", "patch"},
        "/api/v1/trains/{id}/cut-now": {"post"},
        "/api/v1/trains/{id}/changes": {"post"},
        "/api/v1/changes/{id}": {"patch"},
        "/api/v1/releases": {"get"},
        "/api/v1/releases/{id}": {"get"},
        "/api/v1/releases/{id}/transitions": {"post"},
        "/api/v1/deployments": {"post"},
    }
    for path, methods in expected.items():
        assert path in doc["paths"], path
        assert set(doc["paths"][path]) == methods, path
        for method in methods:
            operation = doc["paths"][path][method]
            assert operation["summary"] and operation["description"], (path, method)
            assert operation["security"], (path, method)
            assert "400" in operation["responses"] and "404" in operation["responses"]
    schemas = doc["components"]["schemas"]
    departures = schemas["TrainOut"]["properties"]["next_departures"]
    assert departures["items"]["format"] == "date-time"
    assert set(schemas["EventOut"]["properties"]) >= {"from", "to", "actor", "created_at"}
    assert schemas["TrainCreateIn"]["examples"]
    assert schemas["DeploymentIn"]["examples"]
    limit = next(
        p for p in doc["paths"]["/api/v1/releases"]["get"]["parameters"] if p["name"] == "limit"
    )
    assert (limit["schema"]["default"], limit["schema"]["maximum"]) == (50, 200)
