"""Two beats or workers at once on PostgreSQL: every reminder is claimed, shown and sent once."""

import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, connections

from releases import channels
from releases.models import Delivery, Notification, Rotation, RotationTurn, TeamWebhook
from releases.reminders import send_due_reminders
from releases.services.notifications import delivery_attempt, notify
from releases.tasks import deliver_task
from tests.accounts.factories import MembershipFactory, TeamFactory
from tests.conftest import require
from tests.releases.factories import TrainFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.enqueue]

CUT = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)
SENDERS = 4


def run_at_once(work, count: int = SENDERS) -> tuple[list, list]:
    """Run `work()` in `count` threads released together; their results and errors."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # surfaced by the caller
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results, errors


def test_concurrent_ticks_claim_each_delivery_and_notification_once(monkeypatch):
    require(connection.vendor == "postgresql", "row-level concurrency needs PostgreSQL")
    team = TeamFactory(slug="race")
    managers = [MembershipFactory(team=team, role="manager").user for _ in range(3)]
    TeamWebhook.objects.create(team=team, name="#releases", url="https://hooks.example/x")
    # Due at the same tick: the 24 h reminder, the freeze (24 h) and a turn nobody can take.
    TrainFactory(team=team, reminder_hours=[24], freeze_lead_hours=24)
    rotation = Rotation.objects.create(
        team=team, name="Race", timezone="Europe/Berlin", starts_on=date(2026, 1, 5)
    )
    RotationTurn.objects.create(
        rotation=rotation,
        starts_at=CUT + timedelta(days=3),
        ends_at=CUT + timedelta(days=10),
        source="nobody",
    )
    enqueued = []
    monkeypatch.setattr(
        deliver_task, "apply_async", lambda args=(), kwargs=None, **kw: enqueued.append(args[0])
    )

    results, errors = run_at_once(lambda: send_due_reminders(CUT - timedelta(hours=24)))

    assert errors == []
    kinds = ("departure_coming", "freeze_starts", "no_eligible_captain")
    per_kind = len(managers) * 2 + 1  # in-app and email for each manager, and the webhook
    for kind in kinds:
        # Each sender reports only what it claimed; together they claimed each delivery once.
        assert sum(result[kind] for result in results) == per_kind
        assert Delivery.objects.filter(kind=kind).count() == per_kind
        assert all(result["errors"] == 0 for result in results)
    shown = Counter(Notification.objects.values_list("recipient_id", "kind"))
    assert shown == Counter({(m.pk, kind): 1 for m in managers for kind in kinds})
    # Only the claimer enqueues: each email and webhook delivery went to the broker once.
    to_send = Delivery.objects.exclude(channel="in_app")
    assert sorted(enqueued) == sorted(to_send.values_list("pk", flat=True))
    assert to_send.count() == len(kinds) * (len(managers) + 1)


def test_concurrent_workers_send_one_delivery_once(monkeypatch):
    require(connection.vendor == "postgresql", "row-level concurrency needs PostgreSQL")
    user = MembershipFactory(team=TeamFactory(slug="race-send")).user
    monkeypatch.setattr("releases.services.notifications._enqueue", lambda *a, **kw: None)
    claimed = notify(
        kind="swap_opened",
        subject="swap:1",
        occurrence="opened",
        users=[user],
        title="Cole offers their turn on Mon 9 Mar: dentist",
        now=CUT,
    )
    [email] = [delivery for delivery in claimed if delivery.channel == "email"]
    sends, finished = [], []

    def slow_send(delivery, *, now):
        # The winner holds its send open until every other worker has given up on the row.
        sends.append(delivery.pk)
        deadline = time.monotonic() + 10
        while len(finished) < SENDERS - 1 and time.monotonic() < deadline:
            time.sleep(0.01)

    def attempt():
        status = delivery_attempt(email.pk, now=CUT).status
        finished.append(status)
        return status

    monkeypatch.setattr(channels, "send", slow_send)
    results, errors = run_at_once(attempt)

    assert errors == []
    assert sends == [email.pk]
    assert sorted(results) == ["pending"] * (SENDERS - 1) + ["sent"]
    email.refresh_from_db()
    assert (email.status, email.attempts, email.sent_at) == ("sent", 1, CUT)
