"""Old read notifications and finished deliveries are pruned; nothing still useful is."""

from datetime import UTC, datetime, timedelta

import pytest

from releases.models import Delivery, Notification
from releases.services.retention import notifications_prune
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=91)
RECENT = NOW - timedelta(days=89)


def notification(user, created_at, read):
    return Notification.objects.create(
        recipient=user, kind="swap_opened", title="Swap", created_at=created_at,
        read_at=created_at if read else None,
    )  # fmt: skip


def delivery(user, created_at, status, n):
    return Delivery.objects.create(
        kind="departure_coming", subject=f"release:{n}", occurrence="24h",
        recipient_key=f"user:{user.pk}", channel="email", recipient=user, title="Departure",
        status=status, created_at=created_at,
    )  # fmt: skip


def test_old_read_notifications_and_finished_deliveries_go_and_the_rest_stays():
    user = UserFactory()
    gone = [notification(user, OLD, read=True)]
    kept = [notification(user, OLD, read=False), notification(user, RECENT, read=True)]
    gone_deliveries = [delivery(user, OLD, "sent", 1), delivery(user, OLD, "failed", 2)]
    kept_deliveries = [
        delivery(user, OLD, "retrying", 3),
        delivery(user, OLD, "pending", 4),
        delivery(user, RECENT, "sent", 5),
    ]

    assert notifications_prune(NOW, keep_days=90) == {"notifications": 1, "deliveries": 2}

    assert set(Notification.objects.values_list("pk", flat=True)) == {n.pk for n in kept}
    assert set(Delivery.objects.values_list("pk", flat=True)) == {d.pk for d in kept_deliveries}
    assert not Notification.objects.filter(pk__in=[n.pk for n in gone]).exists()
    assert not Delivery.objects.filter(pk__in=[d.pk for d in gone_deliveries]).exists()


def test_the_retention_comes_from_the_settings(settings):
    settings.NOTIFICATION_RETENTION_DAYS = 100
    user = UserFactory()
    notification(user, OLD, read=True)
    assert notifications_prune(NOW) == {"notifications": 0, "deliveries": 0}


def test_beat_prunes_once_a_day():
    from config.celery import app
    from releases.tasks import prune_notifications_task

    entry = app.conf.beat_schedule["prune-notifications"]
    assert entry["task"] == "releases.tasks.prune_notifications_task"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {17})
    assert prune_notifications_task.apply().get() == "{'notifications': 0, 'deliveries': 0}"
