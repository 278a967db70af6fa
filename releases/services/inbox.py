"""A person's own notifications: marking them read, and choosing what arrives over which channel.

Marking read writes no audit entry: it is a private act on one's own inbox and happens often.
Changing one's notification settings is recorded, like a profile change.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.services import audit_record
from releases.models import PERSONAL_CHANNELS, Notification, NotificationKind

CHANNEL_NAMES = ", ".join(str(channel.label) for channel in PERSONAL_CHANNELS)


@transaction.atomic
def notification_mark_read(
    *, actor: User, notification: Notification, now: datetime | None = None
) -> Notification:
    """Mark one of the actor's notifications read; marking a read one again changes nothing."""
    if notification.recipient_id != actor.pk:
        raise PermissionDenied("You can only mark your own notifications read.")
    now = now or timezone.now()
    # Conditional: two tabs marking the same notification keep the first time it was read.
    marked = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=now
    )
    if marked:
        notification.read_at = now
    elif notification.read_at is None:  # another tab was first: show its time
        notification.refresh_from_db(fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(
    *, actor: User, now: datetime | None = None, up_to_id: int | None = None
) -> int:
    """Mark the actor's unread notifications read; how many were marked.

    `up_to_id` is the newest notification the page showed, so one that arrived after the page
    was drawn stays unread.
    """
    unread = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if up_to_id is not None:
        unread = unread.filter(pk__lte=up_to_id)
    return unread.update(read_at=now or timezone.now())


@transaction.atomic
def notification_settings_update(*, actor: User, settings: dict[str, list[str]]) -> dict:
    """Choose the personal channels (in the app, email) for each kind in `settings`.

    Kinds not named keep what they had. Only the kinds that differ from the default (every
    personal channel) are stored, so a kind added later reaches everyone until they opt out.
    Unknown kinds or channels are refused and nothing is written.
    """
    errors = []
    chosen: dict[str, list[str]] = {}
    for kind, channels in settings.items():
        if kind not in NotificationKind.values:
            errors.append(f"There is no notification kind “{kind}”.")
            continue
        unknown = [channel for channel in channels if channel not in PERSONAL_CHANNELS]
        for channel in unknown:
            errors.append(
                f"“{channel}” is not a channel you can choose for "
                f"{NotificationKind(kind).label}; choose from: {CHANNEL_NAMES}."
            )
        chosen[kind] = [channel for channel in PERSONAL_CHANNELS if channel in channels]
    if errors:
        raise ValidationError(errors)

    # Lock the row: two tabs saving at once each apply their changes to the latest settings.
    user = User.objects.select_for_update().only("notification_settings").get(pk=actor.pk)
    stored = dict(user.notification_settings or {})
    for kind, channels in chosen.items():
        if channels == list(PERSONAL_CHANNELS):
            stored.pop(kind, None)
        else:
            stored[kind] = [str(channel) for channel in channels]
    user.notification_settings = stored
    user.save(update_fields=["notification_settings"])
    actor.notification_settings = stored
    audit_record(
        actor=actor,
        action="user.notification_settings_updated",
        target=actor,
        data={"settings": stored},
    )
    return stored
