from celery import shared_task
from django.utils import timezone

from releases.services.cutting import cut_due_trains


@shared_task
def cut_due_trains_task() -> str:
    """Beat runs this every minute; what is due is decided from the database."""
    return str(cut_due_trains())


@shared_task
def send_due_reminders_task() -> str:
    """Beat runs this every minute: reminders due now, expired swaps, deliveries due again."""
    from releases.reminders import send_due_reminders

    return str(send_due_reminders(timezone.now()))


@shared_task
def deliver_task(delivery_id: int) -> str:
    """Send one delivery. Idempotent: a sent, failed, leased or not-yet-due one is left alone,
    and a failure is scheduled again in the database rather than retried by the broker."""
    from releases.services.notifications import delivery_attempt

    delivery = delivery_attempt(delivery_id, now=timezone.now())
    return delivery.status if delivery is not None else "gone"


@shared_task
def plan_rotations_task() -> str:
    """Beat runs this hourly: every rotation's turns are planned ahead to its horizon."""
    from releases.services.rotations import rotations_plan_all

    return str(rotations_plan_all(timezone.now()))


@shared_task
def prune_notifications_task() -> str:
    """Beat runs this daily: old read notifications and finished deliveries are deleted."""
    from releases.services.retention import notifications_prune

    return str(notifications_prune(timezone.now()))
