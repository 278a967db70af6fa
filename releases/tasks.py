from celery import shared_task

from releases.services.cutting import cut_due_trains


@shared_task
def cut_due_trains_task() -> str:
    """Beat runs this every minute; what is due is decided from the database."""
    return str(cut_due_trains())
