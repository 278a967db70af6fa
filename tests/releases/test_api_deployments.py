"""POST /api/v1/deployments: CI records that a release went to an environment."""

import itertools

import pytest

from accounts.models import Role
from accounts.services import api_token_issue
from releases.models import Deployment, ReleaseEvent
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/deployments"
_token_names = itertools.count()


def bearer(user, *scopes) -> dict:
    name = f"CI {next(_token_names)}"
    issued = api_token_issue(actor=user, user=user, name=name, scopes=list(scopes))
    return {"Authorization": f"Bearer {issued.raw}"}


def post(client, data, headers):
    return client.post(URL, data, content_type="application/json", headers=headers)


@pytest.fixture
def team():
    return TeamFactory(slug="checkout", name="Checkout")


@pytest.fixture
def ci(team):
    return MembershipFactory(user=UserFactory(username="ci-bot"), team=team).user


@pytest.fixture
def headers(ci):
    return bearer(ci, "deployments")


@pytest.fixture
def release(team):
    train = TrainFactory(team=team, name="Checkout web", slug="checkout-web")
    return ReleaseFactory(train=train, version="4.12.0")


@pytest.fixture
def foreign_release():
    other = TeamFactory(slug="payments", name="Payments")
    MembershipFactory(team=other, role=Role.MANAGER)
    train = TrainFactory(team=other, slug="payments-api")
    return ReleaseFactory(train=train, version="4.12.0")


def nothing_written():
    return not Deployment.objects.exists() and not ReleaseEvent.objects.exists()


def test_ci_records_a_deployment_by_release_id(client, headers, release):
    response = post(
        client,
        {
            "release": release.pk,
            "environment": "Production",
            "status": "succeeded",
            "started_at": "2026-12-03T09:02:00Z",
            "finished_at": "2026-12-03T10:11:00+01:00",
        },
        headers,
    )
    assert response.status_code == 201, response.json()
    deployment = Deployment.objects.get()
    assert response.json() == {
        "id": deployment.pk,
        "release": release.pk,
        "version": "4.12.0",
        "environment": "production",
        "status": "succeeded",
        # In the train's timezone (Europe/Berlin), with its offset.
        "started_at": "2026-12-03T10:02:00+01:00",
        "finished_at": "2026-12-03T10:11:00+01:00",
        "reported_by": "ci-bot",
        "external_id": "",
    }
    event = ReleaseEvent.objects.get()
    assert (event.release, event.kind, event.note) == (
        release,
        "deployment",
        "production: succeeded",
    )


@pytest.mark.parametrize("train", ["checkout-web", "id", "id-as-string"])
def test_ci_records_a_deployment_by_train_and_version(client, headers, release, train):
    train = {"id": release.train_id, "id-as-string": str(release.train_id)}.get(train, train)
    payload = {"train": train, "version": "4.12.0", "environment": "staging", "status": "started"}
    response = post(client, payload, headers)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["release"], body["status"], body["finished_at"]) == (release.pk, "started", None)
    assert Deployment.objects.get().release == release


def test_a_train_slug_shared_by_two_of_my_teams_needs_the_team(client, ci, headers, release):
    other = TeamFactory(slug="mobile", name="Mobile")
    MembershipFactory(user=ci, team=other)
    twin = ReleaseFactory(
        train=TrainFactory(team=other, name="Checkout web", slug="checkout-web"), version="4.12.0"
    )
    payload = {"train": "checkout-web", "version": "4.12.0", "environment": "production",
               "status": "succeeded"}  # fmt: skip
    response = post(client, payload, headers)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "team": ["Several of your trains match “checkout-web”; add the team's slug."]
    }
    assert nothing_written()
    response = post(client, {**payload, "team": "mobile"}, headers)
    assert response.status_code == 201
    assert response.json()["release"] == twin.pk


def test_the_same_external_id_updates_the_same_deployment(client, headers, release):
    started = {
        "release": release.pk, "environment": "production", "status": "started",
        "started_at": "2026-12-03T10:02:00+01:00", "external_id": "pipeline-8812",
    }  # fmt: skip
    first = post(client, started, headers)
    assert first.status_code == 201
    finished = {**started, "status": "succeeded", "finished_at": "2026-12-03T10:11:00+01:00"}
    del finished["started_at"]
    second = post(client, finished, headers)
    assert second.status_code == 200, second.json()
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["started_at"] == "2026-12-03T10:02:00+01:00"
    assert second.json()["finished_at"] == "2026-12-03T10:11:00+01:00"
    deployment = Deployment.objects.get()
    assert deployment.status == "succeeded"
    # The same id in another environment is another deployment.
    staging = post(client, {**started, "environment": "staging"}, headers)
    assert staging.status_code == 201
    assert Deployment.objects.count() == 2


@pytest.mark.parametrize("scopes", [("read",), ("write",), ("read", "write", "calendar")])
def test_recording_needs_the_deployments_scope(client, ci, release, scopes):
    payload = {"release": release.pk, "environment": "production", "status": "succeeded"}
    response = post(client, payload, bearer(ci, *scopes))
    assert response.status_code == 403
    assert "“deployments” scope" in response.json()["detail"]
    assert nothing_written()


def test_a_token_is_required(client, release):
    payload = {"release": release.pk, "environment": "production", "status": "succeeded"}
    assert post(client, payload, {}).status_code == 401
    assert nothing_written()


@pytest.mark.parametrize(
    "identify, message",
    [
        ({"release": 999999}, "No release with id 999999 in your teams."),
        (
            {"train": "checkout-web", "version": "9.9.9"},
            "Train “checkout-web” has no release 9.9.9.",
        ),
        ({"train": "nope", "version": "4.12.0"}, "No train “nope” in your teams."),
        (
            {"train": "checkout-web", "team": "payments", "version": "4.12.0"},
            "No train “checkout-web” in team “payments” in your teams.",
        ),
        ({"train": "payments-api", "version": "4.12.0"}, "No train “payments-api” in your teams."),
    ],
)
def test_an_unknown_release_is_404_with_a_clear_message(
    client, headers, release, foreign_release, identify, message
):
    response = post(client, {**identify, "environment": "production", "status": "failed"}, headers)
    assert response.status_code == 404
    assert response.json() == {"detail": message}
    assert nothing_written()


def test_another_teams_release_by_id_is_404(client, headers, release, foreign_release):
    payload = {"release": foreign_release.pk, "environment": "production", "status": "failed"}
    response = post(client, payload, headers)
    assert response.status_code == 404
    assert nothing_written()


@pytest.mark.parametrize(
    "identify, field",
    [
        ({}, "release"),
        ({"release": "RELEASE", "train": "checkout-web", "version": "4.12.0"}, "release"),
        ({"train": "checkout-web"}, "version"),
        ({"version": "4.12.0"}, "train"),
        ({"train": "", "version": "4.12.0"}, "train"),
        ({"release": "RELEASE", "team": "checkout"}, "team"),
    ],
)
def test_both_or_neither_identifiers_are_400(client, headers, release, identify, field):
    identify = {k: release.pk if v == "RELEASE" else v for k, v in identify.items()}
    response = post(client, {**identify, "environment": "production", "status": "failed"}, headers)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The request has invalid fields."
    assert list(body["errors"]) == [field]
    assert nothing_written()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"started_at": "yesterday"}, "started_at"),
        ({"started_at": "2026-12-03T25:00:00+01:00"}, "started_at"),
        ({"started_at": "2026-12-03T10:02:00"}, "started_at"),  # no offset
        ({"finished_at": "2026-12-03"}, "finished_at"),
        (
            {"started_at": "2026-12-03T10:00:00+01:00", "finished_at": "2026-12-03T09:00:00+01:00"},
            "finished_at",
        ),
        ({"status": "exploded"}, "status"),
        ({"environment": "   "}, "environment"),
        ({"environment": "x" * 51}, "environment"),
        ({"external_id": "x" * 101}, "external_id"),
        ({"colour": "green"}, "colour"),
    ],
)
def test_bad_input_is_400_with_field_errors_and_writes_nothing(
    client, headers, release, change, field
):
    payload = {"release": release.pk, "environment": "production", "status": "succeeded", **change}
    response = post(client, payload, headers)
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][field]
    assert nothing_written()


def test_missing_environment_and_status_are_named(client, headers, release):
    response = post(client, {"release": release.pk}, headers)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "environment": ["Field required"],
        "status": ["Field required"],
    }
    assert nothing_written()


def test_a_member_of_the_team_is_required_even_with_the_scope(client, release):
    outsider = UserFactory(username="stranger")
    payload = {"release": release.pk, "environment": "production", "status": "succeeded"}
    response = post(client, payload, bearer(outsider, "deployments"))
    assert response.status_code == 404
    assert nothing_written()
