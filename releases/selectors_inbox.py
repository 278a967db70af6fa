"""Reads for the notification pages: a person's inbox, and the webhooks and delivery log of the
teams they manage. Everything is scoped to the viewer; outsiders see nothing of other teams."""

from django.db.models import Max, QuerySet

from accounts.models import Team, User
from releases.models import Delivery, Notification, TeamWebhook
from releases.permissions import MANAGING_ROLES


def unread_count(user: User) -> int:
    """What the bell shows: one COUNT on the partial index of unread notifications."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for_user(user: User) -> QuerySet[Notification]:
    """A person's own notifications, newest first."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def notification_for_user(user: User, pk: int) -> Notification:
    """One of the viewer's own notifications; anyone else's raises Notification.DoesNotExist."""
    return Notification.objects.get(recipient=user, pk=pk)


def newest_notification_id(user: User) -> int | None:
    """The newest notification the viewer can have seen: "Mark all read" stops there."""
    return Notification.objects.filter(recipient=user).aggregate(newest=Max("pk"))["newest"]


def teams_managed_by(user: User) -> QuerySet[Team]:
    # One filter() call: the role and the user must be on the same membership.
    return Team.objects.filter(
        memberships__user=user, memberships__role__in=MANAGING_ROLES
    ).order_by("name")


def webhooks_for_manager(user: User) -> QuerySet[TeamWebhook]:
    """The webhooks of the teams the viewer manages, by team then name."""
    return (
        TeamWebhook.objects.filter(team__in=teams_managed_by(user))
        .select_related("team")
        .order_by("team__name", "name")
    )


def webhook_for_member(user: User, pk: int) -> TeamWebhook:
    """A webhook of one of the viewer's teams, whatever their role there (the services then
    refuse engineers with a 403); other teams' webhooks raise TeamWebhook.DoesNotExist (404)."""
    return TeamWebhook.objects.select_related("team").get(pk=pk, team__memberships__user=user)


def deliveries_for_manager(
    user: User,
    team: Team | None = None,
    status: str | None = None,
    channel: str | None = None,
) -> QuerySet[Delivery]:
    """The delivery log of the teams the viewer manages, newest first, optionally filtered.

    A team the viewer does not manage gives nothing rather than an error: the page validates
    its filters against teams_managed_by() first.
    """
    deliveries = Delivery.objects.filter(team__in=teams_managed_by(user))
    if team is not None:
        deliveries = deliveries.filter(team=team)
    if status:
        deliveries = deliveries.filter(status=status)
    if channel:
        deliveries = deliveries.filter(channel=channel)
    return deliveries.select_related("team", "recipient", "webhook").order_by("-created_at", "-id")
