"""The secret calendar feed URL of each person: create or reset it, and recognise it."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.services import audit_record
from releases.models import CalendarFeedToken

# Calendar apps poll every few minutes; an hour is precise enough and keeps reads from writing.
LAST_USED_PRECISION = timedelta(hours=1)


def _new_key() -> str:
    return CalendarFeedToken._meta.get_field("key").get_default()


@transaction.atomic
def calendar_feed_reset(*, actor: User) -> CalendarFeedToken:
    """Give the actor a new feed URL; the old one stops working at once. Creates the first one."""
    token, created = CalendarFeedToken.objects.get_or_create(user=actor)
    if created:
        audit_record(actor=actor, action="calendar_feed.created", target=token)
        return token
    token = CalendarFeedToken.objects.select_for_update().get(pk=token.pk)
    token.key = _new_key()
    token.last_used_at = None
    token.full_clean()
    token.save(update_fields=["key", "last_used_at", "updated_at"])
    audit_record(actor=actor, action="calendar_feed.reset", target=token)
    return token


def calendar_feed_authenticate(
    *, key: str, now: datetime | None = None
) -> CalendarFeedToken | None:
    """The feed token with this key (of an active user), or None. Records its use hourly."""
    now = now or timezone.now()
    token = CalendarFeedToken.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        CalendarFeedToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
