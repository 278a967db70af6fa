"""Deliveries over real channels: an SMTP server and an HTTP receiver on loopback, failures and
retries when they are down, and a delivery through a real Celery worker."""

import email
import hashlib
import hmac
import json
import os
import socket
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.db import connection

from releases import channels
from releases.channels import sign, verify_signature
from releases.models import Delivery, DeliveryStatus, Notification, TeamWebhook, WebhookFormat
from releases.services.notifications import delivery_attempt, notify
from releases.tasks import deliver_task
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.celery_worker import running_worker
from tests.conftest import require
from tests.http_receiver import Receiver

pytestmark = [pytest.mark.django_db, pytest.mark.enqueue]

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
SITE = "https://releases.example.com"
PATH = "/calendar/departures/1/20260303T130000Z/"
TITLE = "Checkout web departs in 60 min: Tue 3 Mar 14:00 CET"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def team():
    return TeamFactory(slug="checkout", name="Checkout")


@pytest.fixture
def manager(team):
    user = UserFactory(username="mia", email="mia@example.com")
    MembershipFactory(team=team, user=user, role="manager")
    return user


def remind(*, users=(), team=None) -> dict[str, Delivery]:
    """Claim one departure reminder; its deliveries by channel (webhooks by name)."""
    claimed = notify(
        kind="departure_coming", subject="departure:1:20260303T130000Z", occurrence="1h",
        users=users, team=team, title=TITLE, body="The train is cut at Tue 3 Mar 14:00 CET.",
        url=PATH, now=NOW,
    )  # fmt: skip
    return {d.webhook.name if d.webhook else d.channel: d for d in claimed}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- a real SMTP server -------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler keeping what arrives."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self):
        return [email.message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


@contextmanager
def smtp_server(port: int):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_port(settings) -> int:
    """A free loopback port the mailer points at; nothing listens until a test starts a server."""
    port = free_port()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    return port


def test_an_email_reaches_a_real_smtp_server_with_its_subject_and_link(manager, smtp_port):
    delivery = remind(users=[manager])["email"]
    with smtp_server(smtp_port) as inbox:
        delivery = delivery_attempt(delivery.pk, now=NOW)
        assert delivery_attempt(delivery.pk, now=NOW + timedelta(minutes=1)).status == "sent"
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("sent", 1, NOW)
    assert len(inbox.envelopes) == 1
    assert inbox.envelopes[0].rcpt_tos == ["mia@example.com"]
    message = inbox.messages[0]
    assert message["Subject"] == TITLE
    text = message.get_content()
    assert "The train is cut at Tue 3 Mar 14:00 CET." in text
    assert f"{SITE}{PATH}" in text
    assert f"how: {SITE}/notifications/settings/" in text  # where to change what arrives


def test_smtp_down_is_retried_with_backoff_and_fails_after_the_fifth_attempt(manager, smtp_port):
    delivery = remind(users=[manager])["email"]
    delivery = delivery_attempt(delivery.pk, now=NOW)
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    assert delivery.last_error == "SMTP: Connection refused"
    assert delivery.next_attempt_at == NOW + timedelta(minutes=1)
    # Not due yet: a duplicate task or an early tick changes nothing.
    assert delivery_attempt(delivery.pk, now=NOW + timedelta(seconds=30)).attempts == 1

    at = NOW
    for attempt, wait in [(2, 1), (3, 5), (4, 15)]:
        at += timedelta(minutes=wait)
        delivery = delivery_attempt(delivery.pk, now=at)
        assert (delivery.status, delivery.attempts) == ("retrying", attempt)
    assert delivery.next_attempt_at == at + timedelta(minutes=60)
    delivery = delivery_attempt(delivery.pk, now=at + timedelta(minutes=60))
    assert (delivery.status, delivery.attempts) == ("failed", 5)
    assert delivery.next_attempt_at is None
    assert delivery.last_error == "SMTP: Connection refused"

    with smtp_server(smtp_port) as inbox:
        assert delivery_attempt(delivery.pk, now=at + timedelta(days=1)).status == "failed"
    assert inbox.envelopes == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 5)


def test_an_email_is_sent_once_the_smtp_server_is_back(manager, smtp_port):
    delivery = remind(users=[manager])["email"]
    assert delivery_attempt(delivery.pk, now=NOW).status == "retrying"
    with smtp_server(smtp_port) as inbox:
        delivery = delivery_attempt(delivery.pk, now=NOW + timedelta(minutes=1))
        delivery_attempt(delivery.pk, now=NOW + timedelta(minutes=2))
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    assert len(inbox.envelopes) == 1
    delivery.refresh_from_db()
    assert delivery.sent_at == NOW + timedelta(minutes=1)


def test_an_address_removed_after_the_claim_fails_at_once(manager, mailoutbox):
    delivery = remind(users=[manager])["email"]
    manager.email = ""
    manager.save()
    delivery = delivery_attempt(delivery.pk, now=NOW)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == "Email: the recipient has no email address"
    assert mailoutbox == []


# --- a real HTTP receiver -----------------------------------------------------------------------


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def hook(team, url, name="#releases", payload_format=WebhookFormat.SLACK, **fields):
    return TeamWebhook.objects.create(
        team=team, name=name, url=url, payload_format=payload_format, **fields
    )


def test_a_slack_webhook_receives_the_text_with_a_link(team, receiver):
    hook(team, receiver.url)
    delivery = delivery_attempt(remind(team=team)["#releases"].pk, now=NOW)
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    [(path, headers, body)] = receiver.requests
    assert path == "/hooks/stationmaster"
    assert headers["Content-Type"] == "application/json"
    assert "X-Stationmaster-Signature" not in headers
    assert json.loads(body) == {
        "text": f"*{TITLE}*\nThe train is cut at Tue 3 Mar 14:00 CET.\n"
        f"<{SITE}{PATH}|Open in Stationmaster>"
    }


def test_a_json_webhook_is_signed_and_the_receiver_can_verify_it(team, receiver):
    webhook = hook(team, receiver.url, payload_format=WebhookFormat.JSON)
    delivery = delivery_attempt(remind(team=team)["#releases"].pk, now=NOW)
    assert delivery.status == "sent"
    [(_, headers, body)] = receiver.requests
    timestamp = headers["X-Stationmaster-Timestamp"]
    signature = headers["X-Stationmaster-Signature"]
    assert timestamp == str(int(NOW.timestamp()))
    assert verify_signature(webhook.secret, timestamp, body, signature)
    assert not verify_signature(webhook.secret, timestamp, body.replace(b"60", b"90"), signature)
    assert not verify_signature(webhook.secret, int(timestamp) + 1, body, signature)
    assert not verify_signature("another secret", timestamp, body, signature)
    assert not verify_signature(webhook.secret, timestamp, body, None)
    assert json.loads(body) == {
        "kind": "departure_coming",
        "title": TITLE,
        "body": "The train is cut at Tue 3 Mar 14:00 CET.",
        "url": f"{SITE}{PATH}",
        "team": "checkout",
        "subject": "departure:1:20260303T130000Z",
        "occurrence": "1h",
        "sent_at": NOW.isoformat(),
    }


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(b"s3cret", b"1772539200.{}", hashlib.sha256).hexdigest()
    assert sign("s3cret", 1772539200, b"{}") == f"sha256={expected}"


@pytest.mark.parametrize(
    "receiver_kwargs, error",
    [
        ({"status": 500}, "Webhook: HTTP 500"),
        ({"status": 404}, "Webhook: HTTP 404"),
        ({"status": 302, "headers": {"Location": "http://127.0.0.1:9/"}}, "Webhook: HTTP 302"),
        ({"hang": True}, "Webhook: timed out after 0.5 s"),
    ],
)
def test_a_failing_webhook_is_retried(team, settings, receiver_kwargs, error):
    settings.WEBHOOK_TIMEOUT = 0.5
    with Receiver(**receiver_kwargs) as failing:
        hook(team, failing.url)
        delivery = delivery_attempt(remind(team=team)["#releases"].pk, now=NOW)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("retrying", 1, error)
    assert delivery.next_attempt_at == NOW + timedelta(minutes=1)
    assert len(failing.requests) == 1  # a redirect is not followed


def test_a_webhook_nobody_listens_on_is_retried(team):
    hook(team, f"http://127.0.0.1:{free_port()}/hook")
    delivery = delivery_attempt(remind(team=team)["#releases"].pk, now=NOW)
    assert (delivery.status, delivery.last_error) == ("retrying", "Webhook: Connection refused")


def test_a_webhook_switched_off_after_the_claim_is_not_called(team, receiver):
    webhook = hook(team, receiver.url)
    delivery = remind(team=team)["#releases"]
    webhook.is_active = False
    webhook.save()
    delivery = delivery_attempt(delivery.pk, now=NOW)
    assert (delivery.status, delivery.last_error) == ("failed", "Webhook: switched off")
    assert receiver.requests == []


def test_one_failing_webhook_never_holds_up_the_other_channels(team, manager, receiver, mailoutbox):
    with Receiver(status=500) as broken:
        hook(team, broken.url, name="broken")
        hook(team, receiver.url, name="healthy", payload_format=WebhookFormat.JSON)
        deliveries = remind(users=[manager], team=team)
        # The broken webhook is attempted first; the others go out all the same.
        for name in ("broken", "email", "healthy"):
            delivery_attempt(deliveries[name].pk, now=NOW)
    assert sorted(Delivery.objects.values_list("channel", "webhook__name", "status")) == [
        ("email", None, "sent"),
        ("in_app", None, "sent"),
        ("webhook", "broken", "retrying"),
        ("webhook", "healthy", "sent"),
    ]
    assert Notification.objects.get(recipient=manager).title == TITLE
    assert [m.subject for m in mailoutbox] == [TITLE]
    assert len(receiver.requests) == 1


def test_an_unexpected_error_is_recorded_and_retried(manager, monkeypatch):
    def explode(delivery, *, now):
        raise RuntimeError("template missing")

    monkeypatch.setattr(channels, "send", explode)
    delivery = delivery_attempt(remind(users=[manager])["email"].pk, now=NOW)
    assert (delivery.status, delivery.last_error) == ("retrying", "RuntimeError: template missing")


def test_in_app_deliveries_are_sent_when_claimed(manager):
    delivery = remind(users=[manager])["in_app"]
    assert (delivery.status, delivery.sent_at, delivery.attempts) == ("sent", NOW, 1)
    assert delivery_attempt(delivery.pk, now=NOW).status == DeliveryStatus.SENT
    assert Notification.objects.filter(recipient=manager).count() == 1


# --- through a real worker ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_a_signed_webhook_through_redis(receiver, monkeypatch):
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set: no real broker to test")
    require(connection.vendor == "postgresql", "the worker shares the test database on PostgreSQL")
    assert django_settings.CELERY_BROKER_URL.startswith("redis://")
    team = TeamFactory(slug="worker-team")
    webhook = hook(team, receiver.url, payload_format=WebhookFormat.JSON)
    with monkeypatch.context() as patch:
        # The claim would enqueue on the default queue; this test sends to the worker's own.
        patch.setattr("releases.services.notifications._enqueue", lambda *a, **kw: None)
        delivery = remind(team=team)["#releases"]
    with running_worker() as queue:
        # Twice, as a retried task or a second tick would: still one POST.
        deliver_task.apply_async(args=[delivery.pk], queue=queue)
        deliver_task.apply_async(args=[delivery.pk], queue=queue)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            delivery.refresh_from_db()
            if delivery.status == DeliveryStatus.SENT:
                break
            time.sleep(0.2)
        time.sleep(1)  # let the second task finish too
    assert delivery.status == DeliveryStatus.SENT
    [(_, headers, body)] = receiver.requests
    signature = headers["X-Stationmaster-Signature"]
    assert verify_signature(webhook.secret, headers["X-Stationmaster-Timestamp"], body, signature)
    assert json.loads(body)["title"] == TITLE
