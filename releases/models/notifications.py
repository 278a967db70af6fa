"""Reminders and notifications: what is sent, to whom, over which channel, exactly once."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Team
from core.models import TimeStampedModel


class NotificationKind(models.TextChoices):
    DEPARTURE_COMING = "departure_coming", "Departure coming"
    FREEZE_STARTS = "freeze_starts", "Code freeze starts"
    CAPTAIN_HANDOFF = "captain_handoff", "Captain handoff"
    CHECKLIST_OPEN = "checklist_open", "Required checklist items still open"
    SWAP_OPENED = "swap_opened", "Swap request opened"
    SWAP_TAKEN = "swap_taken", "Swap request taken"
    NO_ELIGIBLE_CAPTAIN = "no_eligible_captain", "No eligible captain"
    # Later issues add: hotfix awaiting approval, monitoring window ended, follow-up fix due,
    # retrospective action overdue, rollout step waiting.


class Channel(models.TextChoices):
    IN_APP = "in_app", "In the app"
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Team webhook"


# What a person receives when they have not said otherwise.
PERSONAL_CHANNELS = (Channel.IN_APP, Channel.EMAIL)


class Notification(models.Model):
    """An in-app notification: the bell counts the unread ones."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_time"),
        ]

    def __str__(self) -> str:
        return self.title


def _new_webhook_secret() -> str:
    return secrets.token_hex(32)


class WebhookFormat(models.TextChoices):
    SLACK = "slack", 'Slack-compatible ({"text": …})'
    JSON = "json", "JSON, signed with HMAC-SHA256"


class TeamWebhook(TimeStampedModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    payload_format = models.CharField(
        max_length=16, choices=WebhookFormat.choices, default=WebhookFormat.SLACK
    )
    secret = models.CharField(max_length=64, default=_new_webhook_secret)
    # Kinds this webhook receives; empty means every kind.
    kinds = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["team__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="webhook_unique_team_name"),
        ]

    def __str__(self) -> str:
        return f"{self.team}: {self.name}"

    def wants(self, kind: str) -> bool:
        return self.is_active and (not self.kinds or kind in self.kinds)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    RETRYING = "retrying", "Retrying"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One reminder to one recipient over one channel: its exactly-once key and its log line.

    The unique key (kind, subject, occurrence, recipient, channel) is claimed by an INSERT before
    anything is sent, so two beats, two workers or a retried task never send it twice.
    """

    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    subject = models.CharField(max_length=100)  # "release:12", "turn:5", "swap:3"…
    occurrence = models.CharField(max_length=100)  # "24h", "1h", a turn's start…
    recipient_key = models.CharField(max_length=64)  # "user:5" or "webhook:3"
    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    webhook = models.ForeignKey(
        TeamWebhook, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject", "occurrence", "recipient_key", "channel"],
                name="delivery_exactly_once",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["team", "-created_at"], name="delivery_team_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient_key} ({self.channel})"
