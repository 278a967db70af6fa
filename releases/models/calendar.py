import secrets

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


def _new_feed_key() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeedToken(TimeStampedModel):
    """The secret in a person's calendar subscription URL. Read-only; reset to revoke."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    # Kept readable on purpose: calendar apps need the same URL again, and it only reads.
    key = models.CharField(max_length=64, unique=True, default=_new_feed_key)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"
