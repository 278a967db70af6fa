"""API tokens: issued once, stored hashed, scoped, revocable, expiring."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import api_token_authenticate, api_token_issue, api_token_revoke
from core.models import AuditEntry
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def issue(user, scopes=("read",), **kwargs):
    kwargs.setdefault("name", "CI")
    return api_token_issue(actor=user, user=user, scopes=list(scopes), **kwargs)


def test_only_a_hash_is_stored_and_the_prefix_identifies_the_token():
    user = UserFactory()
    issued = issue(user)
    stored = ApiToken.objects.get()
    assert issued.raw.startswith(stored.prefix + "_")
    assert issued.raw not in (stored.token_hash, stored.prefix)
    assert len(stored.token_hash) == 64
    assert AuditEntry.objects.filter(action="api_token.issued", actor=user).count() == 1


def test_a_valid_token_authenticates_and_records_its_use():
    user = UserFactory()
    issued = issue(user)
    token = api_token_authenticate(raw=issued.raw)
    assert token is not None and token.user == user
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),  # right prefix, wrong secret
        lambda raw: "smk_00000000_" + raw.split("_", 2)[2],  # unknown prefix
        lambda raw: "",
        lambda raw: "not-a-token",
    ],
)
def test_a_wrong_token_does_not_authenticate(mangle):
    issued = issue(UserFactory())
    assert api_token_authenticate(raw=mangle(issued.raw)) is None


def test_revoked_and_expired_tokens_do_not_authenticate():
    user = UserFactory()
    revoked = issue(user, name="old")
    api_token_revoke(actor=user, token=revoked.token)
    assert api_token_authenticate(raw=revoked.raw) is None

    expiring = issue(user, name="short", expires_at=timezone.now() + timedelta(days=1))
    later = timezone.now() + timedelta(days=2)
    assert api_token_authenticate(raw=expiring.raw, now=later) is None


def test_tokens_of_deactivated_users_do_not_authenticate():
    user = UserFactory()
    issued = issue(user)
    user.is_active = False
    user.save()
    assert api_token_authenticate(raw=issued.raw) is None


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"name": "  "}, "name"),
        ({"scopes": ["root"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"expires_at": timezone.now() - timedelta(days=1)}, "expires_at"),
    ],
)
def test_bad_token_requests_are_refused_and_write_nothing(kwargs, field):
    user = UserFactory()
    params = {"name": "CI", "scopes": ["read"], **kwargs}
    with pytest.raises(ValidationError) as error:
        api_token_issue(actor=user, user=user, **params)
    assert field in error.value.message_dict
    assert not ApiToken.objects.exists()
    assert not AuditEntry.objects.exists()


def test_active_token_names_are_unique_per_user_but_revoked_names_can_be_reused():
    user = UserFactory()
    first = issue(user, name="CI")
    with pytest.raises(ValidationError):
        issue(user, name="CI")
    api_token_revoke(actor=user, token=first.token)
    issue(user, name="CI")
    issue(UserFactory(), name="CI")
    assert ApiToken.objects.filter(name="CI").count() == 3


def test_nobody_revokes_someone_elses_token():
    owner, other = UserFactory(), UserFactory()
    issued = issue(owner)
    with pytest.raises(PermissionError):
        api_token_revoke(actor=other, token=issued.token)
    assert ApiToken.objects.get().revoked_at is None


# --- the profile page -------------------------------------------------------------------------


def test_profile_page_creates_a_token_and_shows_it_once(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/accounts/profile/tokens/",
        {"name": "CI deploys", "scopes": ["read", "deployments"], "lifetime": "90"},
    )
    assert response.status_code == 200
    raw = response.context["issued_token"]
    assert raw in response.content.decode()
    token = ApiToken.objects.get()
    assert token.scopes == ["read", "deployments"]
    assert token.expires_at > timezone.now() + timedelta(days=89)
    assert raw not in client.get("/accounts/profile/").content.decode()


def test_profile_token_form_answers_htmx_with_the_tokens_fragment(client):
    client.force_login(UserFactory())
    response = client.post(
        "/accounts/profile/tokens/",
        {"name": "script", "scopes": ["read"], "lifetime": ""},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card" id="api-tokens"')
    assert "<html" not in html
    assert ApiToken.objects.get().expires_at is None


def test_profile_token_form_refuses_bad_input(client):
    client.force_login(UserFactory())
    response = client.post("/accounts/profile/tokens/", {"name": "", "scopes": []})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    assert not ApiToken.objects.exists()


def test_revoking_from_the_profile_page(client):
    user = UserFactory()
    issued = issue(user)
    client.force_login(user)
    response = client.post(f"/accounts/profile/tokens/{issued.token.pk}/revoke/", follow=True)
    assert "is revoked" in response.content.decode()
    assert ApiToken.objects.get().revoked_at is not None


def test_revoking_someone_elses_token_from_the_page_is_404(client):
    issued = issue(UserFactory())
    client.force_login(UserFactory())
    response = client.post(f"/accounts/profile/tokens/{issued.token.pk}/revoke/")
    assert response.status_code == 404
    assert ApiToken.objects.get().revoked_at is None


# --- the shell command ------------------------------------------------------------------------


def test_issue_api_token_prints_a_working_token(capsys):
    UserFactory(username="ci-bot")
    call_command("issue_api_token", "ci-bot", "--name", "pipeline", "--scope", "deployments")
    raw = capsys.readouterr().out.strip()
    token = api_token_authenticate(raw=raw)
    assert token.name == "pipeline"
    assert token.scopes == ["deployments"]


def test_issue_api_token_explains_an_unknown_user():
    with pytest.raises(CommandError, match="No user named “ghost”"):
        call_command("issue_api_token", "ghost")
    assert not ApiToken.objects.exists()
