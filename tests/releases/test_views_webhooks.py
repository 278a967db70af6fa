"""Team webhooks and the delivery log, end to end through the views (and their services)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEntry
from releases.channels import verify_signature
from releases.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    NotificationKind,
    TeamWebhook,
    WebhookFormat,
)
from releases.services.webhooks import (
    webhook_create,
    webhook_delete,
    webhook_rotate_secret,
    webhook_update,
)
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.http_receiver import Receiver

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def team():
    return TeamFactory(name="Checkout team", slug="checkout")


@pytest.fixture
def manager(team):
    user = UserFactory(username="morgan", first_name="Morgan", last_name="Lee")
    MembershipFactory(user=user, team=team, role="manager")
    return user


@pytest.fixture
def engineer(team):
    user = UserFactory(username="erin", first_name="Erin", last_name="Diaz")
    MembershipFactory(user=user, team=team, role="engineer")
    return user


@pytest.fixture
def other_team():
    return TeamFactory(name="Payments team", slug="payments")


@pytest.fixture
def outsider(other_team):
    user = UserFactory(username="olly")
    MembershipFactory(user=user, team=other_team, role="manager")
    return user


@pytest.fixture
def hook(team, manager):
    return webhook_create(
        actor=manager, team=team, name="#releases", url="https://hooks.slack.com/services/T0/B0"
    )


@pytest.fixture
def foreign_hook(other_team, outsider):
    return webhook_create(
        actor=outsider, team=other_team, name="#payments", url="https://chat.example.com/p"
    )


def url(name, *args):
    return reverse(f"releases:{name}", args=args)


def form_data(**overrides):
    data = {
        "name": "Release bot",
        "url": "https://bots.example.com/stationmaster",
        "payload_format": WebhookFormat.JSON,
        "kinds": [NotificationKind.DEPARTURE_COMING, NotificationKind.CAPTAIN_HANDOFF],
        "is_active": "on",
        **overrides,
    }
    return {key: value for key, value in data.items() if value is not None}


def world():
    """Everything these pages could write, to prove a refusal wrote nothing."""
    return (
        list(TeamWebhook.objects.order_by("id").values()),
        AuditEntry.objects.filter(action__startswith="webhook.").count(),
    )


def delivery(team, n=0, **fields):
    recipient = fields.pop("recipient", None)
    webhook = fields.pop("webhook", None)
    key = f"webhook:{webhook.pk}" if webhook else f"user:{recipient.pk}"
    return Delivery.objects.create(
        kind=fields.pop("kind", NotificationKind.DEPARTURE_COMING),
        subject=f"release:{n}",
        occurrence=fields.pop("occurrence", "24h"),
        recipient_key=key,
        channel=fields.pop("channel", Channel.WEBHOOK if webhook else Channel.EMAIL),
        recipient=recipient,
        webhook=webhook,
        team=team,
        title=fields.pop("title", f"Checkout 1.{n}.0 departs in 24 h"),
        created_at=fields.pop("created_at", NOW - timedelta(minutes=n)),
        **fields,
    )


# --- the webhook list ----------------------------------------------------------------------------


def test_list_shows_the_managers_teams_webhooks(client, manager, hook, foreign_hook):
    webhook_create(
        actor=manager,
        team=hook.team,
        name="Pager bridge",
        url="https://pager.example.com/in",
        payload_format=WebhookFormat.JSON,
        kinds=[NotificationKind.NO_ELIGIBLE_CAPTAIN],
        is_active=False,
    )
    client.force_login(manager)

    response = client.get(url("webhook_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Checkout team" in html and "#releases" in html and "Pager bridge" in html
    assert "#payments" not in html and "Payments team" not in html
    assert "All kinds" in html and "No eligible captain" in html
    assert "Slack-compatible" in html and "JSON, signed" in html
    assert ">Active</span>" in html and ">Paused</span>" in html  # words, not colour alone
    assert url("webhook_detail", hook.pk) in html
    assert 'hx-confirm="Delete the webhook “#releases” of Checkout team?' in html
    assert f'action="{url("webhook_delete", hook.pk)}"' in html  # the no-JS confirmation page


def test_list_empty_state_offers_the_first_webhook(client, manager):
    client.force_login(manager)
    html = client.get(url("webhook_list")).content.decode()
    assert "No webhooks yet" in html
    assert f'href="{url("webhook_create")}"' in html


def test_engineers_get_403_with_a_clear_message(client, engineer, hook):
    client.force_login(engineer)
    for response in (
        client.get(url("webhook_list")),
        client.get(url("webhook_create")),
        client.post(url("webhook_create"), form_data(team=hook.team_id)),
        client.get(url("webhook_detail", hook.pk)),
        client.post(url("webhook_detail", hook.pk), form_data()),
        client.get(url("webhook_delete", hook.pk)),
        client.post(url("webhook_delete", hook.pk)),
        client.get(url("webhook_rotate", hook.pk)),
        client.post(url("webhook_rotate", hook.pk)),
    ):
        assert response.status_code == 403
        assert "Only a manager" in response.content.decode()
    assert world() == (list(TeamWebhook.objects.order_by("id").values()), 1)
    assert TeamWebhook.objects.get().secret == hook.secret


def test_engineers_refused_under_htmx_reload_to_see_why(client, engineer, hook):
    client.force_login(engineer)
    for name in ("webhook_delete", "webhook_rotate"):
        response = client.post(url(name, hook.pk), **HTMX)
        assert response.status_code == 403
        assert response["HX-Refresh"] == "true"
    assert TeamWebhook.objects.get().secret == hook.secret


def test_managing_one_team_gives_nothing_in_a_team_one_is_engineer_of(
    client, engineer, hook, other_team, foreign_hook
):
    MembershipFactory(user=engineer, team=other_team, role="manager")
    client.force_login(engineer)

    listed = client.get(url("webhook_list")).content.decode()
    assert "#payments" in listed and "#releases" not in listed
    response = client.get(url("webhook_detail", hook.pk))
    assert response.status_code == 403
    assert "Only a manager of this team can manage its webhooks." in response.content.decode()
    assert client.post(url("webhook_rotate", hook.pk)).status_code == 403
    assert TeamWebhook.objects.get(pk=hook.pk).secret == hook.secret


def test_other_teams_webhooks_are_404(client, manager, foreign_hook):
    client.force_login(manager)
    before = world()
    for name in ("webhook_detail", "webhook_delete", "webhook_rotate"):
        assert client.get(url(name, foreign_hook.pk)).status_code == 404
        assert client.post(url(name, foreign_hook.pk), form_data()).status_code == 404
    assert world() == before


# --- adding and editing --------------------------------------------------------------------------


def test_create_a_webhook_then_see_its_secret(client, manager, team):
    client.force_login(manager)
    page = client.get(url("webhook_create") + "?team=checkout").content.decode()
    assert 'name="payload_format" value="json"' in page and 'name="kinds"' in page

    response = client.post(url("webhook_create"), form_data(team=team.pk), follow=True)

    hook = TeamWebhook.objects.get()
    assert response.redirect_chain == [(url("webhook_detail", hook.pk), 302)]
    assert (hook.team, hook.name, hook.url) == (
        team,
        "Release bot",
        "https://bots.example.com/stationmaster",
    )
    assert hook.payload_format == WebhookFormat.JSON
    assert hook.kinds == ["departure_coming", "captain_handoff"]
    assert hook.is_active and hook.created_by == manager
    assert len(hook.secret) == 64
    html = response.content.decode()
    assert "Added the webhook “Release bot” for Checkout team." in html
    assert f'id="wh-secret-value" class="mono" type="text" value="{hook.secret}" readonly' in html
    assert 'data-copy-target="#wh-secret-value"' in html
    assert "X-Stationmaster-Signature: sha256=&lt;hex&gt;" in html
    assert "&lt;X-Stationmaster-Timestamp&gt;.&lt;raw body&gt;" in html
    entry = AuditEntry.objects.get(action="webhook.created")
    assert entry.actor == manager and hook.secret not in str(entry.data)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"url": "ftp://files.example.com/drop"}, "The URL must start with https://"),
        ({"url": "not a url at all"}, "Enter a valid URL"),
        ({"name": ""}, "This field is required"),
        ({"kinds": ["made_up"]}, "Select a valid choice. made_up is not one of"),
        ({"payload_format": "xml"}, "Select a valid choice. xml is not one of"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_written(
    client, manager, team, hook, overrides, message
):
    client.force_login(manager)
    before = world()

    created = client.post(url("webhook_create"), form_data(team=team.pk, **overrides))
    edited = client.post(url("webhook_detail", hook.pk), form_data(**overrides))

    for response in (created, edited):
        assert response.status_code == 422
        html = response.content.decode()
        assert message in html
        assert "Please fix" in html
    assert world() == before


def test_names_are_unique_within_a_team_whatever_the_case(client, manager, team, hook):
    second = webhook_create(actor=manager, team=team, name="Bot", url="https://bot.example.com")
    client.force_login(manager)
    before = world()

    created = client.post(url("webhook_create"), form_data(team=team.pk, name="#RELEASES"))
    edited = client.post(url("webhook_detail", second.pk), form_data(name="#Releases"))

    assert created.status_code == edited.status_code == 422
    assert "The team already has a webhook called “#RELEASES”." in created.content.decode()
    assert "The team already has a webhook called “#Releases”." in edited.content.decode()
    assert world() == before


def test_cannot_add_a_webhook_to_a_team_one_does_not_manage(client, manager, other_team):
    client.force_login(manager)
    response = client.post(url("webhook_create"), form_data(team=other_team.pk))
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not TeamWebhook.objects.exists()


def test_edit_a_webhook(client, manager, hook):
    client.force_login(manager)
    page = client.get(url("webhook_detail", hook.pk)).content.decode()
    assert 'value="#releases"' in page and 'name="team"' not in page

    response = client.post(
        url("webhook_detail", hook.pk),
        form_data(
            name="#release-train",
            url="http://intranet.example.com/hook",
            payload_format=WebhookFormat.SLACK,
            kinds=[],
            is_active=None,
        ),
    )

    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.name, hook.url, hook.payload_format, hook.kinds, hook.is_active) == (
        "#release-train",
        "http://intranet.example.com/hook",
        WebhookFormat.SLACK,
        [],
        False,
    )
    assert AuditEntry.objects.filter(action="webhook.updated", actor=manager).exists()


# --- deleting and rotating -----------------------------------------------------------------------


def test_delete_asks_naming_the_webhook_then_deletes_it(client, manager, hook):
    delivery(hook.team, webhook=hook)
    client.force_login(manager)

    page = client.get(url("webhook_delete", hook.pk))
    assert page.status_code == 200
    assert "Delete the webhook “#releases”?" in page.content.decode()
    assert TeamWebhook.objects.exists()

    response = client.post(url("webhook_delete", hook.pk), follow=True)

    assert response.redirect_chain == [(url("webhook_list"), 302)]
    assert "Deleted the webhook “#releases” of Checkout team." in response.content.decode()
    assert not TeamWebhook.objects.exists() and not Delivery.objects.exists()
    assert AuditEntry.objects.filter(action="webhook.deleted", actor=manager).exists()


def test_delete_with_htmx_redirects_the_page(client, manager, hook):
    client.force_login(manager)
    response = client.post(url("webhook_delete", hook.pk), **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == url("webhook_list")
    assert not TeamWebhook.objects.exists()


def test_rotate_the_secret_with_htmx(client, manager, hook):
    old = hook.secret
    client.force_login(manager)

    response = client.post(url("webhook_rotate", hook.pk), **HTMX)

    assert response.status_code == 200
    hook.refresh_from_db()
    assert hook.secret != old and len(hook.secret) == 64
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card wh-secret" id="secret"')
    assert f'value="{hook.secret}"' in html and old not in html
    assert "The old one no longer signs deliveries" in html
    entry = AuditEntry.objects.get(action="webhook.secret_rotated")
    assert entry.actor == manager and hook.secret not in str(entry.data)


def test_rotate_without_javascript_confirms_then_redirects(client, manager, hook):
    old = hook.secret
    client.force_login(manager)

    page = client.get(url("webhook_rotate", hook.pk)).content.decode()
    assert "Make a new secret for “#releases”?" in page
    assert TeamWebhook.objects.get().secret == old

    response = client.post(url("webhook_rotate", hook.pk))
    assert response.status_code == 302
    assert response["Location"] == url("webhook_detail", hook.pk) + "#secret"
    assert TeamWebhook.objects.get().secret != old


def test_services_refuse_engineers_and_other_teams(engineer, outsider, hook):
    before = world()
    calls = [
        lambda actor: webhook_create(
            actor=actor, team=hook.team, name="Sneaky", url="https://evil.example.com"
        ),
        lambda actor: webhook_update(
            actor=actor,
            webhook=hook,
            name="Renamed",
            url=hook.url,
            payload_format=hook.payload_format,
            kinds=[],
            is_active=True,
        ),
        lambda actor: webhook_rotate_secret(actor=actor, webhook=hook),
        lambda actor: webhook_delete(actor=actor, webhook=hook),
    ]
    for actor in (engineer, outsider):
        for call in calls:
            with pytest.raises(PermissionDenied):
                call(actor)
    assert world() == before


def test_a_refused_update_leaves_the_object_as_saved(manager, hook):
    with pytest.raises(ValidationError):
        webhook_update(
            actor=manager,
            webhook=hook,
            name="Renamed",
            url="ftp://nope.example.com",
            payload_format=WebhookFormat.JSON,
            kinds=["departure_coming"],
            is_active=False,
        )
    assert (hook.name, hook.url, hook.is_active) == (
        "#releases",
        "https://hooks.slack.com/services/T0/B0",
        True,
    )


# --- the delivery log ----------------------------------------------------------------------------


def test_log_shows_the_managers_teams_deliveries(
    client, manager, engineer, hook, other_team, foreign_hook
):
    delivery(
        hook.team,
        1,
        webhook=hook,
        status=DeliveryStatus.FAILED,
        attempts=5,
        last_error="Webhook: HTTP 500",
    )
    delivery(
        hook.team,
        2,
        recipient=engineer,
        status=DeliveryStatus.RETRYING,
        attempts=2,
        last_error="SMTP: Connection refused",
        next_attempt_at=NOW + timedelta(minutes=4),
    )
    delivery(hook.team, 3, recipient=engineer, status=DeliveryStatus.SENT, attempts=1)
    delivery(other_team, 4, webhook=foreign_hook, title="Payments departs")
    client.force_login(manager)

    response = client.get(url("delivery_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Payments departs" not in html
    assert html.count('<tr id="delivery-') == 3
    assert ">Webhook</span> #releases" in html and "Erin Diaz" in html
    for text in ("Failed", "Retrying", "Sent"):
        assert f'">{text}</span>' in html  # the status in words
    assert "badge--delivery-failed" in html
    assert "Webhook: HTTP 500" in html and "SMTP: Connection refused" in html
    assert (NOW + timedelta(minutes=4)).isoformat() in html  # next attempt
    assert "Team webhook" in html and "Email" in html


def test_log_filters_with_htmx_swap_the_table_and_push_the_url(client, manager, engineer, hook):
    delivery(hook.team, 1, webhook=hook, status=DeliveryStatus.FAILED, last_error="Timed out")
    delivery(hook.team, 2, recipient=engineer, status=DeliveryStatus.SENT)
    client.force_login(manager)

    response = client.get(
        url("delivery_list"), {"status": "failed", "team": "checkout", "channel": ""}, **HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="delivery-log"')
    assert "<html" not in html
    assert html.count('<tr id="delivery-') == 1 and "Timed out" in html
    assert response["HX-Push-Url"] == url("delivery_list") + "?team=checkout&status=failed"
    assert '<option value="failed" selected>' in html
    assert "HX-Request" in response["Vary"]


def test_log_filters_work_without_javascript(client, manager, engineer, hook):
    delivery(hook.team, 1, webhook=hook)
    delivery(hook.team, 2, recipient=engineer)
    client.force_login(manager)

    response = client.get(url("delivery_list"), {"channel": "email"})

    html = response.content.decode()
    assert "<html" in html and 'hx-get="/notifications/deliveries/"' in html
    assert html.count('<tr id="delivery-') == 1 and "Erin Diaz" in html
    assert "Show everything" in html


def test_log_bad_filters_are_explained_and_ignored(client, manager, hook, other_team):
    delivery(hook.team, 1, webhook=hook)
    client.force_login(manager)

    response = client.get(url("delivery_list"), {"team": "payments", "status": "lost"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "These filters were ignored" in html
    assert "You do not manage a team “payments”." in html
    assert html.count('<tr id="delivery-') == 1


def test_log_pages_by_fifty(client, manager, hook):
    for n in range(55):
        delivery(hook.team, n, webhook=hook)
    client.force_login(manager)

    first = client.get(url("delivery_list"), {"status": "pending"}).content.decode()
    second = client.get(url("delivery_list"), {"status": "pending", "page": 2}).content.decode()

    assert first.count('<tr id="delivery-') == 50
    assert "Page 1 of 2" in first
    assert 'href="/notifications/deliveries/?status=pending&amp;page=2"' in first
    assert second.count('<tr id="delivery-') == 5


def test_log_is_for_managers_only(client, engineer, hook):
    delivery(hook.team, 1, webhook=hook)
    client.force_login(engineer)
    response = client.get(url("delivery_list"))
    assert response.status_code == 403
    assert "Only a manager of a team can see its delivery log." in response.content.decode()


def test_log_queries_do_not_grow_with_rows(client, manager, engineer, hook):
    client.force_login(manager)
    delivery(hook.team, 0, webhook=hook)
    client.get(url("delivery_list"))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("delivery_list")).status_code == 200
        return len(queries)

    before = count()
    second = webhook_create(actor=manager, team=hook.team, name="Second", url="https://b.example")
    for n in range(1, 40):
        if n % 2:
            delivery(hook.team, n, webhook=second if n % 3 else hook)
        else:
            delivery(hook.team, n, recipient=UserFactory(), status=DeliveryStatus.FAILED)
    assert count() == before
    assert before <= 5  # session, user, managed teams, COUNT, one page of rows


# --- sending a test --------------------------------------------------------------------------


def test_a_manager_sends_a_test_that_reaches_a_real_receiver(client, manager, team):
    with Receiver() as receiver:
        webhook = webhook_create(
            actor=manager, team=team, name="#ops", url=receiver.url, payload_format="json"
        )
        client.force_login(manager)
        response = client.post(reverse("releases:webhook_test", args=[webhook.pk]), follow=True)
    assert response.redirect_chain[-1][0].endswith("#test")
    assert "The test reached “#ops”" in response.content.decode()
    [(_, headers, body)] = receiver.requests
    assert verify_signature(
        webhook.secret, headers["X-Stationmaster-Timestamp"], body,
        headers["X-Stationmaster-Signature"],
    )  # fmt: skip
    assert b"Test from Stationmaster" in body
    assert not Delivery.objects.exists()  # a test is not a reminder
    assert AuditEntry.objects.filter(action="webhook.tested").exists()


def test_a_failing_test_says_what_went_wrong(client, manager, team):
    with Receiver(status=500) as receiver:
        webhook = webhook_create(actor=manager, team=team, name="#ops", url=receiver.url)
        client.force_login(manager)
        response = client.post(reverse("releases:webhook_test", args=[webhook.pk]), follow=True)
    assert "The test to “#ops” failed: Webhook: HTTP 500" in response.content.decode()
    assert AuditEntry.objects.filter(action="webhook.test_failed").exists()


def test_engineers_and_outsiders_cannot_send_tests(client, manager, engineer, team, other_team):
    with Receiver() as receiver:
        webhook = webhook_create(actor=manager, team=team, name="#ops", url=receiver.url)
        client.force_login(engineer)
        assert client.post(reverse("releases:webhook_test", args=[webhook.pk])).status_code == 403
        client.force_login(MembershipFactory(team=other_team, role="manager").user)
        assert client.post(reverse("releases:webhook_test", args=[webhook.pk])).status_code == 404
        assert client.get(reverse("releases:webhook_test", args=[webhook.pk])).status_code == 405
    assert receiver.requests == []
