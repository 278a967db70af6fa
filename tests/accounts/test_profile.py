import pytest

from core.models import AuditEntry
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def _profile(**overrides):
    data = {
        "first_name": "Casey",
        "last_name": "Carter",
        "email": "casey@example.com",
        "timezone": "America/New_York",
        "notification_email": "",
    }
    return {**data, **overrides}


def test_profile_saves_timezone_and_notification_email(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/accounts/profile/", _profile(notification_email="pager@example.com"), follow=True
    )
    assert "Your profile is saved." in response.content.decode()
    user.refresh_from_db()
    assert user.timezone == "America/New_York"
    assert user.email_for_notifications == "pager@example.com"
    assert AuditEntry.objects.filter(action="user.profile_updated", actor=user).exists()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("timezone", "Mars/Olympus_Mons", "Select a valid choice"),
        ("email", "not-an-email", "Enter a valid email address"),
        ("notification_email", "also@not@valid", "Enter a valid email address"),
    ],
)
def test_bad_profile_input_is_refused_and_nothing_is_written(client, field, value, message):
    user = UserFactory(timezone="Europe/Berlin", email="before@example.com")
    client.force_login(user)
    response = client.post("/accounts/profile/", _profile(**{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    user.refresh_from_db()
    assert (user.timezone, user.email) == ("Europe/Berlin", "before@example.com")
    assert not AuditEntry.objects.exists()


def test_pages_show_times_in_the_viewers_timezone(client):
    from datetime import UTC, datetime

    from accounts.services import api_token_issue

    user = UserFactory(timezone="Asia/Tokyo")
    api_token_issue(
        actor=user, user=user, name="CI", scopes=["read"],
        expires_at=datetime(2099, 1, 1, 0, 0, tzinfo=UTC),
    )  # fmt: skip
    client.force_login(user)
    html = client.get("/accounts/profile/").content.decode()
    assert "Thu 1 Jan 2099, 09:00 JST" in html
