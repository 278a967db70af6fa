import smtplib
import socket
import urllib.error

from celery import Task, shared_task

from core.services import heartbeat_record


class OutboundTask(Task):
    """Base for tasks that talk to the outside world (SMTP, webhooks): retried with backoff.

    Use it with `@shared_task(base=OutboundTask)`. The task must be idempotent: its effect is
    keyed in the database, so a retry or a second delivery never repeats it.
    """

    autoretry_for = (
        ConnectionError,
        TimeoutError,
        socket.timeout,
        smtplib.SMTPException,
        urllib.error.URLError,
    )
    retry_backoff = 5
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 6


@shared_task(ignore_result=False)
def ping() -> str:
    """A round trip through the broker: used by tests and by operators to see a worker answer."""
    return "pong"


@shared_task(bind=True)
def record_heartbeat(self) -> None:
    heartbeat_record(name="scheduler", hostname=self.request.hostname or "")
