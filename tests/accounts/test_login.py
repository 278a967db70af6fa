import re

import pytest
from django.core import mail

from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_pages_send_anonymous_visitors_to_the_login_page(client):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/profile/"


def test_login_with_good_credentials_reaches_the_dashboard(client):
    user = UserFactory(username="casey", first_name="Casey")
    response = client.post(
        "/accounts/login/", {"username": "casey", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert response.context["user"] == user
    assert "Hello, Casey" in response.content.decode()


def test_login_returns_to_the_page_asked_for(client):
    UserFactory(username="casey")
    response = client.post(
        "/accounts/login/",
        {"username": "casey", "password": PASSWORD, "next": "/accounts/profile/"},
    )
    assert response["Location"] == "/accounts/profile/"


@pytest.mark.parametrize(
    "username, password", [("casey", "wrong password"), ("nobody", PASSWORD), ("", "")]
)
def test_bad_credentials_are_refused_with_a_message(client, username, password):
    UserFactory(username="casey")
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "That did not work" in response.content.decode()


def test_inactive_users_cannot_log_in(client):
    UserFactory(username="casey", is_active=False)
    client.post("/accounts/login/", {"username": "casey", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_and_ends_the_session(client):
    client.force_login(UserFactory())
    assert client.get("/accounts/logout/").status_code == 405  # no logout by a stray link
    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "You are logged out." in response.content.decode()
    assert client.get("/").status_code == 302


def test_password_reset_by_email(client):
    UserFactory(username="casey", email="casey@example.com")
    response = client.post("/accounts/password_reset/", {"email": "casey@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["casey@example.com"]
    assert message.subject == "Reset your Stationmaster password"
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    new = "a-brand-new-passphrase-42"
    done = client.post(set_url, {"new_password1": new, "new_password2": new}, follow=True)
    assert "Your password is set" in done.content.decode()
    assert client.login(username="casey", password=new)


def test_password_reset_does_not_reveal_unknown_addresses(client):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []
