"""Reads about notifications: what a person wants to receive, and over which channels."""

from accounts.models import User
from releases.models import PERSONAL_CHANNELS, Channel


def channels_for(user: User, kind: str) -> list[str]:
    """The personal channels (in-app, email) `user` receives `kind` over.

    `user.notification_settings` holds only the kinds a person changed: {kind: [channel, ...]}.
    Everything else goes in-app and by email.
    """
    chosen = (user.notification_settings or {}).get(kind)
    if chosen is None:
        return list(PERSONAL_CHANNELS)
    return [channel for channel in PERSONAL_CHANNELS if channel in chosen]


def has_email(user: User) -> bool:
    return bool(user.email_for_notifications)


__all__ = ["Channel", "channels_for", "has_email"]
