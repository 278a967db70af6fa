"""Reads for trains and releases, scoped to the viewer's teams."""

from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from releases.departures import Departure, project
from releases.models import (
    BlackoutPeriod,
    ChangeItem,
    DepartureException,
    Deployment,
    Release,
    ReleaseEvent,
    Train,
)

HORIZON = timedelta(days=3 * 366)


def trains_for_user(user: User) -> QuerySet[Train]:
    return Train.objects.filter(team__memberships__user=user).select_related("team")


def releases_for_user(user: User) -> QuerySet[Release]:
    return Release.objects.filter(train__team__memberships__user=user).select_related(
        "train", "train__team", "captain"
    )


def blackouts_for_teams(team_ids, *, since) -> list[BlackoutPeriod]:
    return list(
        BlackoutPeriod.objects.filter(Q(team__isnull=True) | Q(team_id__in=list(team_ids)))
        .filter(ends_on__gte=since)
        .select_related("team")
    )


def next_departures(
    train: Train,
    *,
    count: int = 5,
    now: datetime | None = None,
    exceptions=None,
    blackouts=None,
) -> list[Departure]:
    """The next `count` departures that really leave, with exceptions and blackouts applied."""
    now = now or timezone.now()
    if exceptions is None:
        exceptions = list(train.exceptions.filter(slot__gte=now - timedelta(days=32)))
    if blackouts is None:
        blackouts = blackouts_for_teams([train.team_id], since=now.date() - timedelta(days=1))
    found: list[Departure] = []
    window_start = now
    while len(found) < count and window_start - now < HORIZON:
        window_end = window_start + timedelta(days=92)
        projected = project(
            train, window_start, window_end, exceptions=exceptions, blackouts=blackouts
        )
        found += [departure for departure in projected if departure.departs]
        window_start = window_end
    return found[:count]


def train_detail(user: User, team_slug: str, train_slug: str) -> Train:
    """The train with what its page shows, or DoesNotExist for outsiders (a 404, not a 403)."""
    return (
        trains_for_user(user)
        .prefetch_related(
            Prefetch(
                "exceptions",
                queryset=DepartureException.objects.filter(
                    slot__gte=timezone.now() - timedelta(days=32)
                ),
            )
        )
        .get(team__slug=team_slug, slug=train_slug)
    )


def waiting_changes(train: Train) -> QuerySet[ChangeItem]:
    return train.changes.filter(release__isnull=True).select_related("author")


def release_detail(user: User, pk: int) -> Release:
    return (
        releases_for_user(user)
        .prefetch_related(
            Prefetch("events", queryset=ReleaseEvent.objects.select_related("actor")),
            Prefetch("changes", queryset=ChangeItem.objects.select_related("author")),
            Prefetch("deployments", queryset=Deployment.objects.select_related("reported_by")),
        )
        .annotate(change_count=Count("changes"))
        .get(pk=pk)
    )


def releases_in_flight_for_user(user: User) -> QuerySet[Release]:
    from releases.models.releases import IN_FLIGHT

    return releases_for_user(user).filter(status__in=IN_FLIGHT).order_by("target_at")


def upcoming_departures_for_user(user: User, *, limit: int = 6, now: datetime | None = None):
    """The next departures across the viewer's trains, soonest first (three queries in all)."""
    now = now or timezone.now()
    trains = list(
        trains_for_user(user)
        .filter(is_paused=False)
        .prefetch_related(
            Prefetch(
                "exceptions",
                queryset=DepartureException.objects.filter(slot__gte=now - timedelta(days=32)),
                to_attr="recent_exceptions",
            )
        )
    )
    blackouts = blackouts_for_teams({t.team_id for t in trains}, since=now.date())
    departures = []
    for train in trains:
        departures += next_departures(
            train, count=2, now=now, exceptions=train.recent_exceptions, blackouts=blackouts
        )
    return sorted(departures, key=lambda d: d.departs_at)[:limit]
