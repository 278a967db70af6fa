"""The notification engine: every reminder reaches each recipient over each channel exactly once.

`notify()` claims one `Delivery` row per (kind, subject, occurrence, recipient, channel) with a
plain INSERT; the unique constraint on that key makes a second tick, a second beat, two workers or
a retried task lose the race with an IntegrityError, so only the claimer goes on to send. In-app
notifications are written in the claim's own transaction. Email and webhooks are sent by
`deliver_task`, enqueued on commit; `delivery_attempt()` does the sending.

Retries live in the database, not the broker: a failed send is scheduled again with backoff
(1, 5, 15, 60 minutes) and marked failed after the fifth attempt. `deliveries_dispatch_due()`,
run by every reminder tick, enqueues what is due again, including pending deliveries whose task
was lost with a killed worker or a broker that was down. Each delivery is its own row and its own
task, so a dead SMTP server or a webhook answering 500 never holds up the other channels.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.models import Team, User
from releases import channels
from releases.models import Channel, Delivery, DeliveryStatus, Notification
from releases.selectors_notifications import channels_for, has_email
from releases.timetable import zone

logger = logging.getLogger(__name__)

# Wait before attempt 2, 3, 4 and 5; the fifth failure is final.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=60),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# While one worker sends, the row is leased to it: longer than any send may take (the Celery hard
# time limit ends a stuck task sooner), so nobody else starts the same delivery meanwhile.
SEND_LEASE = timedelta(minutes=5)
# A pending delivery whose task never ran (killed worker, broker down) is sent again after this.
LOST_AFTER = timedelta(minutes=5)
# Deliveries enqueued again per tick; the rest wait for the next tick.
DISPATCH_LIMIT = 500
# A re-sent task that waited longer than a tick is superseded by the next tick's.
DISPATCH_EXPIRES = 55


@dataclass(frozen=True)
class Audience:
    """Who a text is written for: a person (in their timezone) or a team's webhook (user None)."""

    user: User | None
    timezone: str

    def when(self, moment: datetime) -> str:
        """ "Tue 3 Mar 14:00 CET" in the audience's timezone."""
        local = moment.astimezone(zone(self.timezone))
        return f"{local:%a} {local.day} {local:%b %H:%M %Z}"

    def day(self, moment: datetime) -> str:
        local = moment.astimezone(zone(self.timezone))
        return f"{local:%a} {local.day} {local:%b}"

    def is_user(self, user: User | None) -> bool:
        return user is not None and self.user is not None and self.user.pk == user.pk

    def name(self, user: User) -> str:
        """ "you" for the reader, the person's name for everyone else."""
        return "you" if self.is_user(user) else user.display_name


# A title or body: the same for everyone, or written for each audience (times in its timezone).
Text = str | Callable[[Audience], str]


def user_timezone(user: User) -> str:
    return user.timezone or settings.TIME_ZONE


def _render(text: Text, audience: Audience) -> str:
    return text(audience) if callable(text) else text


def notify(
    *,
    kind: str,
    subject: str,
    occurrence: str,
    users: Iterable[User] = (),
    team: Team | None = None,
    title: Text,
    body: Text = "",
    url: str = "",
    now: datetime,
) -> list[Delivery]:
    """Claim and start the deliveries of one reminder; returns the ones this call claimed.

    Each person gets it over the channels they chose for `kind` (email only with an address),
    and each of `team`'s active webhooks that wants `kind` gets it too. `url` is a path on this
    site. Deliveries claimed before (by this or any other process) are left alone.
    """
    shared = {
        "kind": kind,
        "subject": subject[:100],
        "occurrence": occurrence[:100],
        "team": team,
        "url": url[:500],
        "created_at": now,
    }

    def written_for(audience: Audience) -> dict:
        # A title is one line: it becomes an email subject.
        title_text = " ".join(_render(title, audience).split())[:200]
        return {**shared, "title": title_text, "body": _render(body, audience)}

    people = {user.pk: user for user in users if user is not None and user.is_active}
    claimed: list[Delivery] = []
    # A stable order: two senders claiming the same keys never wait on each other in a cycle.
    for user in sorted(people.values(), key=lambda u: u.pk):
        fields = written_for(Audience(user, user_timezone(user)))
        for channel in channels_for(user, kind):
            if channel == Channel.EMAIL and not has_email(user):
                continue
            claimed += _claim(
                Delivery(**fields, recipient=user, recipient_key=f"user:{user.pk}", channel=channel)
            )
    if team is not None:
        fields = written_for(Audience(None, team.timezone))
        for webhook in team.webhooks.filter(is_active=True).order_by("pk"):
            if webhook.wants(kind):
                claimed += _claim(
                    Delivery(
                        **fields,
                        webhook=webhook,
                        recipient_key=f"webhook:{webhook.pk}",
                        channel=Channel.WEBHOOK,
                    )
                )
    return claimed


def _claim(delivery: Delivery) -> list[Delivery]:
    """Insert the delivery; [] when its key was claimed before (by an earlier tick, another beat
    or another worker). In-app ones are shown in the same transaction; the rest are enqueued."""
    now = delivery.created_at
    in_app = delivery.channel == Channel.IN_APP
    if in_app:
        delivery.status, delivery.sent_at, delivery.attempts = DeliveryStatus.SENT, now, 1
    try:
        with transaction.atomic():
            delivery.save(force_insert=True)
            if in_app:
                Notification.objects.create(
                    recipient=delivery.recipient,
                    kind=delivery.kind,
                    title=delivery.title,
                    body=delivery.body,
                    url=delivery.url,
                    created_at=now,
                )
            else:
                pk = delivery.pk
                transaction.on_commit(lambda: _enqueue(pk))
    except IntegrityError:
        return []
    return [delivery]


def _enqueue(delivery_id: int, **options) -> None:
    from releases.tasks import deliver_task  # late: the task module loads the engine too

    try:
        if options:
            deliver_task.apply_async(args=[delivery_id], **options)
        else:
            deliver_task.delay(delivery_id)
    except Exception:
        # The broker is down: the delivery stays pending and a later tick sends it.
        logger.warning(
            "Could not enqueue delivery %s; a later tick will", delivery_id, exc_info=True
        )


def _is_due(delivery: Delivery, now: datetime) -> bool:
    if delivery.status not in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING):
        return False
    return delivery.next_attempt_at is None or delivery.next_attempt_at <= now


def delivery_attempt(delivery_id: int, *, now: datetime) -> Delivery | None:
    """Send one delivery if it is due, and record the outcome. Safe to call any number of times.

    The row is locked only while the attempt is claimed (a lease in `next_attempt_at`); the send
    itself runs outside any transaction, so a slow SMTP server never holds a database lock.
    Returns the delivery as it now stands (None if it no longer exists).
    """
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "webhook", "team")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            # Another worker is claiming it right now, or it went with its recipient.
            return Delivery.objects.filter(pk=delivery_id).first()
        if not _is_due(delivery, now):
            return delivery  # sent, failed for good, leased to another worker or not yet due
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now + SEND_LEASE)
    try:
        channels.send(delivery, now=now)
    except channels.DeliveryError as exc:
        error, permanent = str(exc), exc.permanent
    except Exception as exc:
        logger.exception("Delivery %s failed unexpectedly", delivery.pk)
        error, permanent = f"{type(exc).__name__}: {exc}"[: channels.ERROR_LIMIT], False
    else:
        return _record(
            delivery,
            status=DeliveryStatus.SENT,
            attempts=delivery.attempts + 1,
            next_attempt_at=None,
            last_error="",
            sent_at=now,
        )
    attempts = delivery.attempts + 1
    final = permanent or attempts >= MAX_ATTEMPTS
    logger.info("Delivery %s attempt %s failed: %s", delivery.pk, attempts, error)
    return _record(
        delivery,
        status=DeliveryStatus.FAILED if final else DeliveryStatus.RETRYING,
        attempts=attempts,
        next_attempt_at=None if final else now + BACKOFF[attempts - 1],
        last_error=error,
    )


def _record(delivery: Delivery, **fields) -> Delivery:
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)
    return delivery


def deliveries_dispatch_due(now: datetime, *, limit: int = DISPATCH_LIMIT) -> int:
    """Enqueue the deliveries due again: retries whose time has come, expired leases, and
    pending ones whose first task was lost. Returns how many were enqueued."""
    due = Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING], next_attempt_at__lte=now)
    lost = Q(
        status=DeliveryStatus.PENDING,
        next_attempt_at__isnull=True,
        created_at__lte=now - LOST_AFTER,
    )
    ids = list(
        Delivery.objects.filter(due | lost)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        _enqueue(pk, expires=DISPATCH_EXPIRES)
    return len(ids)


__all__ = [
    "BACKOFF",
    "MAX_ATTEMPTS",
    "Audience",
    "deliveries_dispatch_due",
    "delivery_attempt",
    "notify",
    "user_timezone",
]
