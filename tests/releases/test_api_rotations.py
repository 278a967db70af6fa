"""The captain rotations API: rotations with who is captain now and next, and who captains a
train's departure. Data is set up with the real services at the real time (the endpoints read
the clock), so rotations start a month ago and have a turn running now."""

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from accounts.services import api_token_issue, api_token_revoke
from releases.models import RotationTurn, TurnLength, TurnSource
from releases.selectors import next_departures
from releases.services import rotation_duty as duty_services
from releases.services import rotations as rotation_services
from releases.services.trains import departure_postpone, train_set_paused
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import TrainFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

_token_names = itertools.count()


def bearer(user, *scopes) -> dict:
    issued = api_token_issue(
        actor=user, user=user, name=f"Bot {next(_token_names)}", scopes=list(scopes)
    )
    return {"Authorization": f"Bearer {issued.raw}"}


def person(team, username, first, last, role=Role.ENGINEER):
    user = UserFactory(username=username, first_name=first, last_name=last)
    MembershipFactory(user=user, team=team, role=role)
    return user


def make_rotation(team, manager, members, trains=(), **overrides):
    fields = {
        "name": "Web captains",
        "timezone": "America/New_York",
        "turn_length": TurnLength.WEEKS,
        "weeks": 1,
        "handoff_weekday": 0,
        "handoff_time": "10:00",
        "starts_on": timezone.localdate() - timedelta(days=30),
        "member_ids": [member.pk for member in members],
        "train_ids": [t.pk for t in trains],
        **overrides,
    }
    return rotation_services.rotation_create(actor=manager, team=team, **fields)


def turns_ahead(rotation):
    """The rotation's turns that end after now, first first (week-based rotations)."""
    return list(
        RotationTurn.objects.filter(rotation=rotation, ends_at__gt=timezone.now())
        .select_related("captain")
        .order_by("starts_at")
    )


def iso(moment, tz) -> str:
    return moment.astimezone(tz).isoformat()


def someone(user) -> dict:
    return {"username": user.username, "name": user.get_full_name()}


@pytest.fixture
def team():
    return TeamFactory(slug="checkout", name="Checkout")


@pytest.fixture
def manager(team):
    return person(team, "mia", "Mia", "Ross", role=Role.MANAGER)


@pytest.fixture
def ana(team):
    return person(team, "ana", "Ana", "Lima")


@pytest.fixture
def bob(team):
    return person(team, "bob", "Bob", "Stone")


@pytest.fixture
def train(team):
    """Tuesdays at 14:00 Berlin time."""
    return TrainFactory(team=team, name="Checkout web", slug="checkout-web")


@pytest.fixture
def rotation(team, manager, ana, bob, train):
    """Weekly, handing off on Mondays at 10:00 New York time, captaining the Berlin train."""
    return make_rotation(team, manager, [ana, bob], [train])


@pytest.fixture
def mobile(team):
    return TrainFactory(team=team, name="Mobile", slug="mobile", timezone="America/New_York")


@pytest.fixture
def per_departure(team, manager, ana, bob, mobile):
    return make_rotation(
        team,
        manager,
        [bob, ana],
        [mobile],
        name="Mobile captains",
        timezone="Europe/Berlin",
        turn_length=TurnLength.PER_DEPARTURE,
    )


@pytest.fixture
def foreign():
    """Another team with its own train and rotation."""
    other = TeamFactory(slug="payments", name="Payments")
    boss = person(other, "olly", "Olly", "Other", role=Role.MANAGER)
    train = TrainFactory(team=other, name="Payments API", slug="payments-api")
    return make_rotation(other, boss, [boss], [train], name="Payments captains")


# --- list and detail --------------------------------------------------------------------------


def test_list_says_who_is_captain_now_and_next_in_the_rotations_timezone(
    client, ana, bob, train, rotation, foreign
):
    response = client.get("/api/v1/rotations", headers=bearer(ana, "read"))

    assert response.status_code == 200
    [body] = response.json()  # the other team's rotation is not listed
    turns = turns_ahead(rotation)
    current, upcoming = turns[0], turns[1:9]
    assert current.starts_at <= timezone.now() < current.ends_at
    assert {key: body[key] for key in list(body)[:9]} == {
        "id": rotation.pk,
        "name": "Web captains",
        "team": "checkout",
        "timezone": "America/New_York",
        "turn_length": "weeks",
        "weeks": 1,
        "handoff_weekday": "monday",
        "handoff_time": "10:00:00",
        "trains": [{"id": train.pk, "slug": "checkout-web"}],
    }
    assert body["members"] == [someone(ana), someone(bob)]
    assert body["captain_now"] == someone(current.captain)
    assert body["current_turn"] == {
        "starts_at": iso(current.starts_at, NEW_YORK),
        "ends_at": iso(current.ends_at, NEW_YORK),
        "captain": someone(current.captain),
        "source": "rotation",
        "reason": "",
        "train": None,
        "slot": None,
    }
    assert [t["starts_at"] for t in body["next_turns"]] == [
        iso(t.starts_at, NEW_YORK) for t in upcoming
    ]
    assert [t["captain"] for t in body["next_turns"]] == [someone(t.captain) for t in upcoming]
    # Handoffs are 10:00 wall-clock time in New York, whatever the offset that week.
    assert {t["starts_at"][11:19] for t in body["next_turns"]} == {"10:00:00"}
    # The captains alternate: Ana, Bob, Ana, …
    names = [body["current_turn"]["captain"]["username"]] + [
        t["captain"]["username"] for t in body["next_turns"]
    ]
    assert {names[0], names[1]} == {"ana", "bob"} and names[2] == names[0]


def test_list_filters_by_team(client, manager, rotation, per_departure, foreign):
    other = TeamFactory(slug="platform", name="Platform")
    MembershipFactory(user=manager, team=other, role=Role.MANAGER)
    platform = make_rotation(other, manager, [manager], name="Platform captains")
    headers = bearer(manager, "read")

    def names(query):
        response = client.get(f"/api/v1/rotations{query}", headers=headers)
        assert response.status_code == 200
        return [item["name"] for item in response.json()]

    assert names("") == ["Mobile captains", "Web captains", "Platform captains"]
    assert names("?team=checkout") == ["Mobile captains", "Web captains"]
    assert names(f"?team={platform.team.slug}") == ["Platform captains"]
    assert names("?team=payments") == []  # not one of mine: nothing, not a hint it exists
    assert names("?team=nope") == []


def test_a_per_departure_rotation_names_the_next_departures_captain_and_train(
    client, ana, bob, mobile, per_departure
):
    response = client.get(f"/api/v1/rotations/{per_departure.pk}", headers=bearer(ana, "read"))

    assert response.status_code == 200
    body = response.json()
    assert body["turn_length"] == "per_departure"
    assert (body["weeks"], body["handoff_weekday"], body["handoff_time"]) == (None, None, None)
    now = timezone.now()
    turns = list(
        RotationTurn.objects.filter(rotation=per_departure, slot__gt=now)
        .select_related("captain")
        .order_by("slot")[:9]
    )
    [departure] = next_departures(mobile, count=1, now=now)
    assert turns[0].slot == departure.slot
    assert body["captain_now"] == someone(turns[0].captain)
    assert body["current_turn"]["train"] == "mobile"
    # Mobile leaves at 14:00 New York time; the rotation's times are Berlin's.
    assert body["current_turn"]["slot"] == iso(departure.slot, BERLIN)
    assert body["current_turn"]["ends_at"] == iso(departure.slot, BERLIN)
    assert [t["slot"] for t in body["next_turns"]] == [iso(t.slot, BERLIN) for t in turns[1:]]
    assert len(body["next_turns"]) == 8


def test_list_and_detail_agree_for_every_kind_of_rotation_and_turn(
    client, manager, ana, bob, rotation, per_departure
):
    # Ana away for the second turn ahead (Bob steps in), and nobody left for a later one.
    turns = turns_ahead(rotation)
    duty_services.unavailability_add(
        actor=ana, user=ana, starts_at=turns[2].starts_at, ends_at=turns[3].ends_at, reason="Hol"
    )
    duty_services.unavailability_add(
        actor=bob, user=bob, starts_at=turns[5].starts_at, ends_at=turns[5].ends_at
    )
    duty_services.unavailability_add(
        actor=ana, user=ana, starts_at=turns[5].starts_at, ends_at=turns[5].ends_at
    )
    # Two trains leaving together: their turns come in the order of the trains' names.
    twins = [
        TrainFactory(team=rotation.team, name=name, slug=name.lower(), rrule="FREQ=DAILY;BYHOUR=9")
        for name in ("Zulu", "Alpha")
    ]
    make_rotation(
        rotation.team, manager, [ana, bob], twins, name="Daily", turn_length="per_departure"
    )
    headers = bearer(manager, "read")

    listed = client.get("/api/v1/rotations", headers=headers).json()
    detailed = [
        client.get(f"/api/v1/rotations/{item['id']}", headers=headers).json() for item in listed
    ]

    assert listed == detailed
    daily = next(item for item in listed if item["name"] == "Daily")
    daily_turns = [daily["current_turn"], *daily["next_turns"]]
    assert [turn["train"] for turn in daily_turns[:4]] == ["alpha", "zulu"] * 2
    assert daily_turns[0]["slot"] == daily_turns[1]["slot"]
    web = next(item for item in listed if item["id"] == rotation.pk)
    sources = [turn["source"] for turn in web["next_turns"]]
    assert TurnSource.SKIP in sources
    nobody = web["next_turns"][4]
    assert (nobody["source"], nobody["captain"]) == ("nobody", None)
    assert nobody["reason"].startswith("Nobody eligible")


def test_another_teams_rotation_or_an_unknown_one_is_404(client, ana, rotation, foreign):
    headers = bearer(ana, "read")
    for rotation_id in (foreign.pk, foreign.pk + rotation.pk + 100):
        response = client.get(f"/api/v1/rotations/{rotation_id}", headers=headers)
        assert response.status_code == 404
        assert response.json() == {"detail": f"No rotation with id {rotation_id} in your teams."}
    assert client.get("/api/v1/rotations/abc", headers=headers).status_code == 400


def test_a_rotation_whose_first_turn_is_still_to_come_has_no_captain_now(
    client, team, manager, ana
):
    later = make_rotation(
        team, manager, [ana], name="Later", starts_on=timezone.localdate() + timedelta(days=10)
    )

    body = client.get(f"/api/v1/rotations/{later.pk}", headers=bearer(ana, "read")).json()

    assert (body["captain_now"], body["current_turn"]) == (None, None)
    first = turns_ahead(later)[0]
    assert body["next_turns"][0]["starts_at"] == iso(first.starts_at, NEW_YORK)
    assert len(body["next_turns"]) == 8
    assert client.get("/api/v1/rotations", headers=bearer(ana, "read")).json() == [body]


def test_a_per_departure_rotation_names_its_first_captain_before_the_first_turn_starts(
    client, team, manager, ana
):
    # Per-departure turns start a week before the first departure; that is three weeks away.
    train = TrainFactory(team=team, slug="new", starts_on=timezone.localdate() + timedelta(21))
    first = make_rotation(team, manager, [ana], [train], turn_length="per_departure")
    turn = RotationTurn.objects.filter(rotation=first).order_by("slot").first()
    assert turn.starts_at > timezone.now()
    headers = bearer(ana, "read")

    body = client.get(f"/api/v1/rotations/{first.pk}", headers=headers).json()

    assert body["captain_now"] == someone(ana)
    assert body["current_turn"]["slot"] == iso(turn.slot, NEW_YORK)
    assert client.get("/api/v1/rotations", headers=headers).json() == [body]


# --- authentication and scope -----------------------------------------------------------------

ENDPOINTS = ["/api/v1/rotations", "/api/v1/rotations/{id}", "/api/v1/captain?train=checkout-web"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_reading_rotations_needs_a_token_with_the_read_scope(client, ana, rotation, path):
    url = path.format(id=rotation.pk)

    missing = client.get(url)
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == "Bearer"
    assert missing.json()["detail"] == "Missing, invalid, expired or revoked API token."

    unscoped = client.get(url, headers=bearer(ana, "write", "deployments", "calendar"))
    assert unscoped.status_code == 403
    assert "lacks the “read” scope" in unscoped.json()["detail"]

    headers = bearer(ana, "read")
    assert client.get(url, headers=headers).status_code == 200
    token = ana.api_tokens.order_by("-pk").first()
    api_token_revoke(actor=ana, token=token)
    assert client.get(url, headers=headers).status_code == 401


# --- who captains a departure ---------------------------------------------------------------


def at_turn(rotation, index: int) -> tuple[RotationTurn, datetime]:
    """A turn ahead and the moment an hour after it starts (a Monday in New York)."""
    turn = turns_ahead(rotation)[index]
    return turn, turn.starts_at + timedelta(hours=1)


def tuesday_after(moment: datetime) -> datetime:
    """The Berlin train's first departure (Tuesday 14:00 Berlin) after a Monday `moment`."""
    day = moment.astimezone(BERLIN).date() + timedelta(days=1)
    return datetime.combine(day, time(14), tzinfo=BERLIN)


def test_captain_of_the_departure_after_a_moment(client, ana, bob, train, rotation):
    turn, moment = at_turn(rotation, 2)
    slot = tuesday_after(moment)
    url = f"/api/v1/captain?train=checkout-web&at={moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"

    response = client.get(url, headers=bearer(bob, "read"))

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "train": {
            "id": train.pk,
            "slug": "checkout-web",
            "name": "Checkout web",
            "team": "checkout",
            "timezone": "Europe/Berlin",
        },
        "at": iso(moment, BERLIN),
        "departure": {
            "slot": slot.isoformat(),
            "departs_at": slot.isoformat(),
            "postponed": False,
        },
        "rotation": {"id": rotation.pk, "name": "Web captains", "timezone": "America/New_York"},
        "captain": someone(turn.captain),
        "reason": None,
        "turn": {
            "starts_at": iso(turn.starts_at, NEW_YORK),
            "ends_at": iso(turn.ends_at, NEW_YORK),
            "captain": someone(turn.captain),
            "source": "rotation",
            "reason": "",
            "train": None,
            "slot": None,
        },
    }


def test_the_train_is_named_by_id_too_and_at_takes_any_offset(client, ana, train, rotation):
    turn, moment = at_turn(rotation, 1)
    headers = bearer(ana, "read")
    by_slug = client.get(
        "/api/v1/captain", {"train": "checkout-web", "at": moment.isoformat()}, headers=headers
    ).json()
    in_tokyo = moment.astimezone(ZoneInfo("Asia/Tokyo")).isoformat()

    by_id = client.get(
        "/api/v1/captain", {"train": str(train.pk), "at": in_tokyo}, headers=headers
    ).json()
    # A "+09:00" pasted into a URL unencoded arrives as " 09:00": read as meant.
    unencoded = client.get(
        f"/api/v1/captain?train={train.pk}&at={in_tokyo}", headers=headers
    ).json()

    assert by_id == by_slug == unencoded
    assert by_id["captain"] == someone(turn.captain)


def test_a_departure_exactly_at_the_moment_is_the_one_asked_about(client, ana, train, rotation):
    _, moment = at_turn(rotation, 1)
    slot = tuesday_after(moment)
    headers = bearer(ana, "read")

    exactly = client.get(
        "/api/v1/captain", {"train": "checkout-web", "at": slot.isoformat()}, headers=headers
    ).json()
    after = client.get(
        "/api/v1/captain",
        {"train": "checkout-web", "at": (slot + timedelta(seconds=1)).isoformat()},
        headers=headers,
    ).json()

    assert exactly["departure"]["slot"] == slot.isoformat()
    assert after["departure"]["slot"] == (slot + timedelta(weeks=1)).isoformat()


def test_without_at_it_is_the_next_departure_from_now(client, ana, train, rotation):
    response = client.get("/api/v1/captain?train=checkout-web", headers=bearer(ana, "read"))

    body = response.json()
    [departure] = next_departures(train, count=1, now=timezone.now())
    assert body["departure"]["slot"] == iso(departure.slot, BERLIN)
    covering = RotationTurn.objects.get(
        rotation=rotation, starts_at__lte=departure.slot, ends_at__gt=departure.slot
    )
    assert body["captain"] == someone(covering.captain)
    assert abs(datetime.fromisoformat(body["at"]) - timezone.now()) < timedelta(minutes=1)


def test_a_postponed_departure_keeps_its_slots_captain(client, manager, ana, train, rotation):
    turn, moment = at_turn(rotation, 2)
    slot = tuesday_after(moment)
    departure_postpone(actor=manager, train=train, slot=slot, hours=3, reason="Load test")

    body = client.get(
        "/api/v1/captain", {"train": "checkout-web", "at": moment.isoformat()},
        headers=bearer(ana, "read"),
    ).json()  # fmt: skip

    assert body["departure"] == {
        "slot": slot.isoformat(),
        "departs_at": (slot + timedelta(hours=3)).isoformat(),
        "postponed": True,
    }
    assert body["captain"] == someone(turn.captain)


def test_a_per_departure_turn_names_its_train_and_slot(client, ana, mobile, per_departure):
    now = timezone.now()
    [_, second] = next_departures(mobile, count=2, now=now)
    turn = RotationTurn.objects.select_related("captain").get(
        rotation=per_departure, train=mobile, slot=second.slot
    )

    body = client.get(
        "/api/v1/captain",
        {"train": "mobile", "at": (second.slot - timedelta(hours=1)).isoformat()},
        headers=bearer(ana, "read"),
    ).json()

    assert body["departure"]["slot"] == iso(second.slot, NEW_YORK)
    assert body["captain"] == someone(turn.captain)
    assert body["turn"]["train"] == "mobile"
    assert body["turn"]["slot"] == iso(second.slot, BERLIN)  # the rotation's timezone


def test_nobody_eligible_is_said_so(client, ana, bob, train, rotation):
    turn, moment = at_turn(rotation, 3)
    for member in (ana, bob):
        duty_services.unavailability_add(
            actor=member, user=member, starts_at=turn.starts_at, ends_at=turn.ends_at
        )

    body = client.get(
        "/api/v1/captain", {"train": "checkout-web", "at": moment.isoformat()},
        headers=bearer(ana, "read"),
    ).json()  # fmt: skip

    assert (body["captain"], body["reason"]) == (None, "nobody eligible")
    assert body["turn"]["source"] == "nobody"
    assert body["turn"]["captain"] is None
    assert body["departure"]["slot"] == tuesday_after(moment).isoformat()


def test_a_train_without_rotation_still_gives_its_departure(client, ana, team):
    TrainFactory(team=team, name="Docs", slug="docs")
    moment = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # a Monday

    body = client.get(
        "/api/v1/captain", {"train": "docs", "at": moment.isoformat()},
        headers=bearer(ana, "read"),
    ).json()  # fmt: skip

    assert (body["captain"], body["reason"], body["rotation"], body["turn"]) == (
        None,
        "the train has no rotation",
        None,
        None,
    )
    assert body["departure"]["slot"] == "2026-06-02T14:00:00+02:00"


def test_a_paused_train_has_no_departure(client, manager, ana, train, rotation):
    train_set_paused(actor=manager, train=train, paused=True)

    body = client.get("/api/v1/captain?train=checkout-web", headers=bearer(ana, "read")).json()

    assert (body["departure"], body["captain"], body["reason"]) == (
        None,
        None,
        "the train is paused",
    )


def test_a_departure_beyond_the_planned_turns_has_no_captain_yet(client, ana, train, rotation):
    last = RotationTurn.objects.filter(rotation=rotation).order_by("-ends_at").first()

    body = client.get(
        "/api/v1/captain", {"train": "checkout-web", "at": last.ends_at.isoformat()},
        headers=bearer(ana, "read"),
    ).json()  # fmt: skip

    assert body["departure"] is not None
    assert (body["captain"], body["reason"]) == (None, "no turn is planned for this departure yet")


def test_a_timetable_that_has_ended_has_no_departure(client, ana, team):
    TrainFactory(team=team, slug="once", rrule="FREQ=WEEKLY;COUNT=1;BYDAY=TU;BYHOUR=14")

    body = client.get(
        "/api/v1/captain", {"train": "once", "at": "2027-01-01T00:00:00Z"},
        headers=bearer(ana, "read"),
    ).json()  # fmt: skip

    assert (body["departure"], body["reason"]) == (
        None,
        "the train has no departure at or after this time",
    )


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("", "train", "Field required"),
        ("train=", "train", "at least 1 character"),
        ("train=checkout-web&at=tomorrow", "at", "valid datetime"),
        ("train=checkout-web&at=2026-12-08T09:00:00", "at", "timezone"),
        ("train=checkout-web&at=2026-13-01T09:00:00Z", "at", "valid datetime"),
        ("train=checkout-web&at=9999-12-31T00:00:00Z", "at", "from 1970 to 8999"),
        ("train=checkout-web&at=0001-01-01T00:00:00Z", "at", "from 1970 to 8999"),
    ],
)
def test_bad_captain_parameters_are_400_with_the_parameter_named(
    client, ana, rotation, query, field, message
):
    response = client.get(f"/api/v1/captain?{query}", headers=bearer(ana, "read"))

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The request has invalid fields."
    assert list(body["errors"]) == [field]
    assert message in body["errors"][field][0]


def test_another_teams_train_or_an_unknown_one_is_404(client, ana, rotation, foreign):
    headers = bearer(ana, "read")
    payments = foreign.trains.get()
    for train in ("payments-api", str(payments.pk), "no-such-train"):
        response = client.get(f"/api/v1/captain?train={train}", headers=headers)
        assert response.status_code == 404
        assert response.json() == {"detail": f"No train “{train}” in your teams."}


def test_a_slug_of_two_of_my_teams_needs_the_team(client, manager, ana, train, rotation):
    other = TeamFactory(slug="platform", name="Platform")
    MembershipFactory(user=ana, team=other)
    TrainFactory(team=other, slug="checkout-web", timezone="Asia/Tokyo")
    headers = bearer(ana, "read")

    ambiguous = client.get("/api/v1/captain?train=checkout-web", headers=headers)
    chosen = client.get("/api/v1/captain?train=checkout-web&team=platform", headers=headers)
    ours = client.get("/api/v1/captain?train=checkout-web&team=checkout", headers=headers)

    assert ambiguous.status_code == 400
    assert ambiguous.json()["errors"] == {
        "team": ["Several of your trains match “checkout-web”; add the team's slug."]
    }
    assert chosen.json()["train"]["timezone"] == "Asia/Tokyo"
    assert chosen.json()["reason"] == "the train has no rotation"
    assert ours.json()["rotation"]["id"] == rotation.pk


# --- cost -----------------------------------------------------------------------------------


def queries(client, url, headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.json()
    return len(captured)


def test_listing_costs_the_same_queries_however_many_rotations_and_turns(
    client, team, manager, ana, bob, rotation
):
    headers = bearer(manager, "read")
    queries(client, "/api/v1/rotations", headers)  # stamps the token's last use
    before = queries(client, "/api/v1/rotations", headers)

    extra = [person(team, f"member{n}", "Member", str(n)) for n in range(4)]
    trains = [
        TrainFactory(team=team, slug=f"daily-{n}", rrule="FREQ=DAILY;BYHOUR=9") for n in (1, 2)
    ]
    make_rotation(team, manager, [ana, *extra], trains, name="Daily", turn_length="per_departure")
    make_rotation(team, manager, [bob, *extra], name="Fortnight", weeks=2, timezone="Asia/Tokyo")
    make_rotation(team, manager, extra, name="Quarterly", weeks=12)
    after = queries(client, "/api/v1/rotations", headers)

    assert len(client.get("/api/v1/rotations", headers=headers).json()) == 4
    # token, rotations, their members, their trains, their turns
    assert after == before == 5


def test_asking_for_a_captain_costs_a_fixed_handful_of_queries(
    client, ana, train, rotation, per_departure
):
    headers = bearer(ana, "read")
    queries(client, "/api/v1/captain?train=checkout-web", headers)  # stamps the token's last use

    # token, train with its rotation, exceptions, blackouts, the turn with its captain
    assert queries(client, "/api/v1/captain?train=checkout-web", headers) == 5
    assert queries(client, "/api/v1/captain?train=mobile", headers) == 5


# --- the OpenAPI document -------------------------------------------------------------------


def test_openapi_documents_the_rotation_endpoints(client):
    doc = client.get("/api/v1/openapi.json").json()

    for path in ("/api/v1/rotations", "/api/v1/rotations/{id}", "/api/v1/captain"):
        assert set(doc["paths"][path]) == {"get"}, path
        operation = doc["paths"][path]["get"]
        assert operation["summary"] and operation["description"], path
        assert "Scope `read`" in operation["description"]
        assert operation["security"] == [{"ApiTokenAuth": []}]
        assert set(operation["responses"]) == {"200", "400", "401", "403", "404"}
    parameters = {p["name"]: p for p in doc["paths"]["/api/v1/captain"]["get"]["parameters"]}
    assert parameters["train"]["required"] is True
    assert parameters["at"]["schema"]["anyOf"][0]["format"] == "date-time"
    assert all(p["description"] and "example" in p for p in parameters.values())
    schemas = doc["components"]["schemas"]
    assert schemas["RotationOut"]["examples"] and schemas["CaptainOut"]["examples"]
    reasons = schemas["CaptainOut"]["properties"]["reason"]["anyOf"][0]["enum"]
    assert {"nobody eligible", "the train has no rotation"} <= set(reasons)
    turn = schemas["TurnOut"]["properties"]
    assert turn["starts_at"]["format"] == "date-time" and turn["starts_at"]["description"]
