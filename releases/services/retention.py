"""Keeping the inbox and the delivery log to a useful length."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from releases.models import Delivery, DeliveryStatus, Notification


@transaction.atomic
def notifications_prune(now: datetime, *, keep_days: int | None = None) -> dict[str, int]:
    """Delete read notifications and finished (sent or failed) deliveries older than the
    retention. Unread notifications and deliveries still pending or retrying always stay: a
    delivery row is also the exactly-once key, and a reminder is never due again that long after
    its occurrence."""
    keep_days = settings.NOTIFICATION_RETENTION_DAYS if keep_days is None else keep_days
    cutoff = now - timedelta(days=keep_days)
    notifications, _ = Notification.objects.filter(
        read_at__isnull=False, created_at__lt=cutoff
    ).delete()
    deliveries, _ = Delivery.objects.filter(
        status__in=[DeliveryStatus.SENT, DeliveryStatus.FAILED], created_at__lt=cutoff
    ).delete()
    return {"notifications": notifications, "deliveries": deliveries}
