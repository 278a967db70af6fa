"""Bearer-token authentication and JSON errors at /api/v1/."""

import pytest

from accounts.services import api_token_issue, api_token_revoke
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    user = UserFactory(username="erin", timezone="Europe/Berlin")
    MembershipFactory(user=user, team=TeamFactory(slug="checkout", name="Checkout"))
    return user


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def token(user, *scopes, name="CI"):
    return api_token_issue(actor=user, user=user, name=name, scopes=list(scopes))


def test_a_valid_token_reads_me(client, user):
    issued = token(user, "read")
    response = client.get("/api/v1/me", headers=bearer(issued.raw))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "erin"
    assert body["teams"] == [{"team": "checkout", "team_name": "Checkout", "role": "engineer"}]
    assert body["token_scopes"] == ["read"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer smk_deadbeef_nope", "Basic abc"])
def test_missing_or_invalid_tokens_get_401_json(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "Missing, invalid, expired or revoked API token."}


def test_a_revoked_token_gets_401(client, user):
    issued = token(user, "read")
    api_token_revoke(actor=user, token=issued.token)
    assert client.get("/api/v1/me", headers=bearer(issued.raw)).status_code == 401


def test_a_token_without_the_scope_gets_403(client, user):
    issued = token(user, "calendar")
    response = client.get("/api/v1/me", headers=bearer(issued.raw))
    assert response.status_code == 403
    assert "lacks the “read” scope" in response.json()["detail"]


def test_a_session_login_does_not_open_the_api(client, user):
    client.force_login(user)
    assert client.get("/api/v1/me").status_code == 401


def test_write_scope_updates_the_profile(client, user):
    issued = token(user, "read", "write")
    response = client.patch(
        "/api/v1/me",
        {"timezone": "Asia/Tokyo"},
        content_type="application/json",
        headers=bearer(issued.raw),
    )
    assert response.status_code == 200, response.json()
    assert response.json()["timezone"] == "Asia/Tokyo"
    user.refresh_from_db()
    assert user.timezone == "Asia/Tokyo"


def test_read_scope_cannot_write(client, user):
    issued = token(user, "read")
    response = client.patch(
        "/api/v1/me", {"timezone": "Asia/Tokyo"}, content_type="application/json",
        headers=bearer(issued.raw),
    )  # fmt: skip
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"email": "nope"}, "email"),
        ({"first_name": 7}, "first_name"),
    ],
)
def test_invalid_fields_get_400_with_field_messages_and_nothing_is_written(
    client, user, payload, field
):
    issued = token(user, "write", "read")
    response = client.patch(
        "/api/v1/me", payload, content_type="application/json", headers=bearer(issued.raw)
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The request has invalid fields."
    assert body["errors"][field]
    user.refresh_from_db()
    assert (user.timezone, user.email) == ("Europe/Berlin", "erin@example.com")


def test_malformed_json_gets_400(client, user):
    issued = token(user, "write")
    response = client.patch(
        "/api/v1/me", "{not json", content_type="application/json", headers=bearer(issued.raw)
    )
    assert response.status_code == 400
    assert "detail" in response.json()


def test_openapi_document_describes_bearer_auth(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/me" in doc["paths"]
    schemes = doc["components"]["securitySchemes"]
    assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())


def test_browsable_docs_are_served_from_our_own_static_files(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "https://" not in html  # no CDN
