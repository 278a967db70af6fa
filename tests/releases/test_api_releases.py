"""The releases API: the filtered, paginated list, the detail with its timeline, and transitions."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role
from accounts.services import api_token_issue
from releases.models import Release, ReleaseEvent, ReleaseStatus
from releases.services.changes import change_item_add, deployment_record
from releases.services.cutting import train_cut_now
from releases.services.lifecycle import release_assign_captain, release_transition
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ChangeItemFactory, ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db

_token_names = itertools.count()


def bearer(user, *scopes) -> dict:
    name = f"CI {next(_token_names)}"
    issued = api_token_issue(actor=user, user=user, name=name, scopes=list(scopes))
    return {"Authorization": f"Bearer {issued.raw}"}


def post(client, url, data, headers):
    return client.post(url, data, content_type="application/json", headers=headers)


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
def foreign_release():
    other = TeamFactory(slug="payments", name="Payments")
    return ReleaseFactory(train=TrainFactory(team=other, slug="payments-api"), version="9.0.0")


def at(day: int, hour: int = 13) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)


# --- list -----------------------------------------------------------------------------------


@pytest.fixture
def catalogue(team, train, foreign_release):
    """Two trains of ours (one in New York), and one release of another team."""
    mobile = TrainFactory(team=team, name="Mobile", slug="mobile", timezone="America/New_York")
    return {
        "web-cut": ReleaseFactory(train=train, version="1.1.0", cut_at=at(3)),
        "web-released": ReleaseFactory(
            train=train, version="1.0.0", status=ReleaseStatus.RELEASED, cut_at=at(1)
        ),
        "web-planned": ReleaseFactory(
            train=train, version="1.2.0", status=ReleaseStatus.PLANNED, cut_at=None
        ),
        "mobile-stabilizing": ReleaseFactory(
            train=mobile, version="2.0.0", status=ReleaseStatus.STABILIZING, cut_at=at(2)
        ),
    }


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


def test_list_shows_my_releases_newest_first_with_times_in_the_trains_timezone(
    client, engineer, catalogue
):
    response = client.get("/api/v1/releases", headers=bearer(engineer, "read"))
    assert response.status_code == 200
    body = response.json()
    # Not yet cut first, then by cut time, newest first; the other team's release is absent.
    assert ids(response) == [
        catalogue[key].pk
        for key in ("web-planned", "web-cut", "mobile-stabilizing", "web-released")
    ]
    assert (body["count"], body["limit"], body["offset"]) == (4, 50, 0)
    web = body["items"][1]
    assert web["train"] == {
        "id": catalogue["web-cut"].train_id,
        "slug": "checkout-web",
        "name": "Checkout web",
        "team": "checkout",
        "timezone": "Europe/Berlin",
    }
    assert (web["version"], web["status"], web["kind"]) == ("1.1.0", "cut", "scheduled")
    assert web["cut_at"] == "2026-03-03T14:00:00+01:00"
    assert web["target_at"] == "2026-03-05T14:00:00+01:00"
    assert body["items"][2]["cut_at"] == "2026-03-02T08:00:00-05:00"
    assert web["change_count"] == 0


@pytest.mark.parametrize(
    "query, expected",
    [
        ("train=checkout-web", ["web-planned", "web-cut", "web-released"]),
        ("train=mobile&status=stabilizing", ["mobile-stabilizing"]),
        ("status=cut", ["web-cut"]),
        ("status=cut&status=stabilizing", ["web-cut", "mobile-stabilizing"]),
        ("status=cut,released", ["web-cut", "web-released"]),
        ("team=checkout&status=planned", ["web-planned"]),
        ("team=payments", []),
        ("train=payments-api", []),
        ("train=no-such-train", []),
    ],
)
def test_list_filters(client, engineer, catalogue, query, expected):
    response = client.get(f"/api/v1/releases?{query}", headers=bearer(engineer, "read"))
    assert response.status_code == 200, response.json()
    assert ids(response) == [catalogue[key].pk for key in expected]
    assert response.json()["count"] == len(expected)


def test_list_filters_by_train_id(client, engineer, catalogue, foreign_release):
    headers = bearer(engineer, "read")
    mobile = catalogue["mobile-stabilizing"]
    response = client.get(f"/api/v1/releases?train={mobile.train_id}", headers=headers)
    assert ids(response) == [mobile.pk]
    foreign = client.get(f"/api/v1/releases?train={foreign_release.train_id}", headers=headers)
    assert foreign.json() == {"count": 0, "limit": 50, "offset": 0, "items": []}


def test_list_paginates_with_limit_and_offset(client, engineer, train):
    releases = [
        ReleaseFactory(train=train, version=f"1.{n}.0", cut_at=at(1) + timedelta(days=n))
        for n in range(7)
    ]
    newest_first = [r.pk for r in reversed(releases)]
    headers = bearer(engineer, "read")
    page = client.get("/api/v1/releases?limit=3&offset=3", headers=headers)
    assert page.status_code == 200
    assert (page.json()["count"], page.json()["limit"], page.json()["offset"]) == (7, 3, 3)
    assert ids(page) == newest_first[3:6]
    assert ids(client.get("/api/v1/releases?limit=3&offset=6", headers=headers)) == newest_first[6:]
    assert ids(client.get("/api/v1/releases?offset=70", headers=headers)) == []


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("status=shipped", "status", "Unknown status shipped"),
        ("status=cut,nope", "status", "Unknown status nope"),
        ("limit=201", "limit", "less than or equal to 200"),
        ("limit=0", "limit", "greater than or equal to 1"),
        ("offset=-1", "offset", "greater than or equal to 0"),
        ("limit=many", "limit", "valid integer"),
    ],
)
def test_bad_list_parameters_are_400_with_the_parameter_named(
    client, engineer, catalogue, query, field, message
):
    response = client.get(f"/api/v1/releases?{query}", headers=bearer(engineer, "read"))
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The request has invalid fields."
    assert list(body["errors"]) == [field]
    assert message in body["errors"][field][0]


def test_reading_releases_needs_the_read_scope(client, engineer, catalogue):
    response = client.get("/api/v1/releases", headers=bearer(engineer, "write", "deployments"))
    assert response.status_code == 403
    release = catalogue["web-cut"]
    assert client.get(f"/api/v1/releases/{release.pk}").status_code == 401


def test_listing_releases_takes_a_fixed_number_of_queries(
    client, manager, team, train, django_assert_max_num_queries
):
    captains = [MembershipFactory(team=team).user for _ in range(3)]
    for n in range(60):
        release = ReleaseFactory(train=train, version=f"2.{n}.0", cut_at=at(1) + timedelta(hours=n))
        ChangeItemFactory(train=train, release=release)
        release_assign_captain(actor=manager, release=release, captain=captains[n % 3])
    headers = bearer(manager, "read")
    # token lookup, last-used stamp, count, page (with trains, teams and captains joined)
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/releases?limit=200", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 60 and len(body["items"]) == 60
    assert {item["captain"] for item in body["items"]} == {c.username for c in captains}
    assert {item["change_count"] for item in body["items"]} == {1}


# --- detail ---------------------------------------------------------------------------------


@pytest.fixture
def busy_release(manager, engineer, train):
    """A release with changes, a timeline and deployments, made through the services."""
    change_item_add(actor=engineer, train=train, title="Ready", is_ready=True, external_id="PR-1")
    change_item_add(actor=engineer, train=train, title="Also ready", is_ready=True)
    release = train_cut_now(actor=manager, train=train, note="Hotfix window")
    release_transition(actor=engineer, release=release, to_status="stabilizing", note="QA")
    deployment_record(
        actor=engineer, release=release, environment="staging", status="succeeded",
        started_at=at(4, 9), finished_at=at(4, 10), external_id="run-1",
    )  # fmt: skip
    return release


def test_detail_has_events_changes_and_deployments(client, engineer, busy_release):
    response = client.get(f"/api/v1/releases/{busy_release.pk}", headers=bearer(engineer, "read"))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["version"], body["status"]) == (
        busy_release.pk,
        "1.0.0",
        "stabilizing",
    )
    assert body["next_statuses"] == ["approved", "cancelled"]
    assert body["change_count"] == 2
    events = [(e["kind"], e["actor"], e["from"], e["to"], e["note"]) for e in body["events"]]
    assert events == [
        ("cut", "mia", None, "cut", "Hotfix window"),
        ("transition", "eric", "cut", "stabilizing", "QA"),
        ("deployment", "eric", None, None, "staging: succeeded"),
    ]
    assert all(e["created_at"].endswith("+01:00") for e in body["events"])
    assert [c["title"] for c in body["changes"]] == ["Ready", "Also ready"]
    assert body["changes"][0]["external_id"] == "PR-1"
    assert body["changes"][0]["release"] == busy_release.pk
    [deployment] = body["deployments"]
    assert deployment["environment"] == "staging"
    assert deployment["status"] == "succeeded"
    assert deployment["reported_by"] == "eric"
    assert deployment["started_at"] == "2026-03-04T10:00:00+01:00"
    assert deployment["finished_at"] == "2026-03-04T11:00:00+01:00"


def test_detail_takes_a_fixed_number_of_queries(
    client, manager, engineer, busy_release, django_assert_max_num_queries
):
    for n in range(20):
        deployment_record(
            actor=engineer, release=busy_release, environment=f"region-{n}", status="started"
        )
    headers = bearer(engineer, "read")
    # token, last-used stamp, release, events + actors, changes + authors, deployments + reporters
    with django_assert_max_num_queries(6):
        response = client.get(f"/api/v1/releases/{busy_release.pk}", headers=headers)
    assert len(response.json()["deployments"]) == 21


def test_another_teams_release_is_404(client, engineer, foreign_release):
    response = client.get(
        f"/api/v1/releases/{foreign_release.pk}", headers=bearer(engineer, "read")
    )
    assert response.status_code == 404
    assert response.json() == {"detail": f"No release with id {foreign_release.pk} in your teams."}


# --- transitions ----------------------------------------------------------------------------


@pytest.fixture
def release(train):
    return ReleaseFactory(train=train, version="1.4.0", status=ReleaseStatus.CUT)


def transition(client, release, headers, **payload):
    return post(client, f"/api/v1/releases/{release.pk}/transitions", payload, headers)


def test_a_member_moves_a_release_forward(client, engineer, release):
    response = transition(client, release, bearer(engineer, "write"), to="stabilizing", note="QA")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "stabilizing"
    assert body["next_statuses"] == ["approved", "cancelled"]
    assert body["events"][-1] | {"created_at": None} == {
        "kind": "transition",
        "actor": "eric",
        "from": "cut",
        "to": "stabilizing",
        "note": "QA",
        "created_at": None,
    }
    release.refresh_from_db()
    assert release.status == "stabilizing"


def test_a_manager_releases_and_released_at_is_set(client, manager, release):
    headers = bearer(manager, "write")
    for status in ("stabilizing", "approved", "deploying", "released"):
        response = transition(client, release, headers, to=status)
        assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "released"
    assert body["released_at"].endswith(("+01:00", "+02:00"))
    assert [e["to"] for e in body["events"]] == ["stabilizing", "approved", "deploying", "released"]


def test_an_illegal_transition_is_400_and_writes_nothing(client, manager, release):
    response = transition(client, release, bearer(manager, "write"), to="released")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request has invalid fields.",
        "errors": {
            "to": ["A cut release cannot move to released. Allowed next: stabilizing, cancelled."]
        },
    }
    release.refresh_from_db()
    assert release.status == "cut"
    assert not ReleaseEvent.objects.exists()


@pytest.mark.parametrize("payload", [{"to": "shipped"}, {"to": ""}, {"note": "no target"}])
def test_an_unknown_or_missing_status_is_400(client, manager, release, payload):
    response = post(
        client, f"/api/v1/releases/{release.pk}/transitions", payload, bearer(manager, "write")
    )
    assert response.status_code == 400
    assert response.json()["errors"]["to"]
    release.refresh_from_db()
    assert release.status == "cut"
    assert not ReleaseEvent.objects.exists()


def test_cancelling_needs_a_note(client, manager, release):
    response = transition(client, release, bearer(manager, "write"), to="cancelled", note=" ")
    assert response.status_code == 400
    assert response.json()["errors"] == {"note": ["Say why the release is cancelled."]}
    assert Release.objects.get().status == "cut"


def test_an_engineer_cannot_approve_unless_captain(client, engineer, manager, release):
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.STABILIZING)
    headers = bearer(engineer, "write")
    response = transition(client, release, headers, to="approved")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only the release captain or a manager can move a release to approved."
    }
    assert Release.objects.get().status == "stabilizing"
    assert not ReleaseEvent.objects.filter(kind="transition").exists()

    release_assign_captain(actor=manager, release=release, captain=engineer)
    assert transition(client, release, headers, to="approved").status_code == 200


def test_transition_refusals_by_scope_and_team(client, engineer, release, foreign_release):
    response = transition(client, release, bearer(engineer, "read"), to="stabilizing")
    assert response.status_code == 403
    response = transition(client, foreign_release, bearer(engineer, "write"), to="stabilizing")
    assert response.status_code == 404
    assert set(Release.objects.values_list("status", flat=True)) == {"cut"}
    assert not ReleaseEvent.objects.exists()


def test_malformed_json_is_400(client, engineer, release):
    response = client.post(
        f"/api/v1/releases/{release.pk}/transitions",
        "{to: stabilizing",
        content_type="application/json",
        headers=bearer(engineer, "write"),
    )
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not ReleaseEvent.objects.exists()
