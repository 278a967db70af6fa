"""The benchmark's data: the demo organisation with benchmark volumes, and what the scenarios open.

The viewer is the demo `manager` (manager of Checkout, the demo's biggest team, and Platform): a
realistic user with rotations, a release in flight, notifications and deliveries to look at.
`seed_demo --scale large` puts its volumes (40 teams of 25, two years of weekly releases) into
teams no demo user belongs to, so the bench also makes the viewer manager of the busiest of them:
then the calendar, the train list, the feed and the API carry two years of history too.
"""

import io
from dataclasses import dataclass

from django.core.management import call_command
from django.db import transaction
from django.db.models import Count

from accounts.demo import seed_accounts_at_scale
from accounts.models import Role, Team, User
from accounts.services import api_token_issue, membership_set
from releases.demo import seed_releases_at_scale
from releases.models import (
    ChangeItem,
    ChecklistItem,
    Delivery,
    Release,
    ReleaseEvent,
    Rotation,
    Train,
)
from releases.selectors import releases_for_user, trains_for_user
from releases.services.calendar_feed import calendar_feed_reset

VIEWER = "manager"

# The harness's own test: a year of weekly releases makes a scale team the busiest, as at large.
TINY = {
    "accounts": {"teams": 2, "users_per_team": 3},
    "releases": {"trains_per_team": 1, "weeks": 52},
}
SCALES = ("large", "tiny")


def seed(scale: str = "large") -> None:
    """The demo organisation and the volumes of `scale`, through the project's own seed code."""
    if scale == "large":
        # `--scale large` loads the demo organisation first, in the same transaction.
        call_command("seed_demo", scale="large", stdout=io.StringIO())
        return
    if scale != "tiny":
        raise ValueError(f"Unknown scale {scale!r}; choose from {', '.join(SCALES)}.")
    call_command("seed_demo", stdout=io.StringIO())
    with transaction.atomic():
        seed_accounts_at_scale(**TINY["accounts"])
        seed_releases_at_scale(**TINY["releases"])


@dataclass(frozen=True)
class Subjects:
    """Who looks, and at what: chosen from the data, so any seed size works."""

    viewer: User
    team: Team  # the team with the most releases; the viewer manages it
    train: Train  # the viewer's train with the longest history
    release: Release  # the viewer's release with the longest checklist, then the most changes
    rotation: Rotation  # the viewer's rotation with the most members
    feed_key: str  # the viewer's personal calendar feed URL key
    api_token: str  # a `read` token of the viewer's, for the JSON API


def prepare_subjects() -> Subjects:
    viewer = User.objects.get(username=VIEWER)
    by_history = Team.objects.annotate(history=Count("trains__releases"))
    team = by_history.order_by("-history", "slug").first()
    membership_set(actor=None, team=team, user=viewer, role=Role.MANAGER)
    train = (
        trains_for_user(viewer)
        .annotate(history=Count("releases"))
        .order_by("-history", "pk")
        .first()
    )
    release = (
        releases_for_user(viewer)
        .annotate(
            n_items=Count("checklist_items", distinct=True),
            n_changes=Count("changes", distinct=True),
        )
        .order_by("-n_items", "-n_changes", "-pk")
        .first()
    )
    rotation = (
        Rotation.objects.filter(team__memberships__user=viewer)
        .annotate(size=Count("members"))
        .order_by("-size", "pk")
        .first()
    )
    if train is None or release is None or rotation is None:
        raise LookupError(f"The seed gave {VIEWER} no train, release or rotation to look at.")
    token = api_token_issue(
        actor=viewer,
        user=viewer,
        name=f"Benchmark {viewer.api_tokens.count() + 1}",
        scopes=["read"],
    )
    return Subjects(
        viewer=viewer,
        team=team,
        train=train,
        release=release,
        rotation=rotation,
        feed_key=calendar_feed_reset(actor=viewer).key,
        api_token=token.raw,
    )


def row_counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "teams": Team.objects.count(),
        "trains": Train.objects.count(),
        "releases": Release.objects.count(),
        "release events": ReleaseEvent.objects.count(),
        "checklist items": ChecklistItem.objects.count(),
        "changes": ChangeItem.objects.count(),
        "deliveries": Delivery.objects.count(),
    }


def describe(subjects: Subjects) -> str:
    s = subjects
    teams = ", ".join(s.viewer.memberships.values_list("team__name", flat=True).order_by("team"))
    return (
        f"Viewer: {s.viewer.username} (member of {teams}); busiest team {s.team.name}\n"
        f"Train: {s.train.team.name} / {s.train.name} ({s.train.releases.count()} releases); "
        f"release {s.release.pk} ({s.release.checklist_items.count()} checklist items, "
        f"{s.release.changes.count()} changes); rotation {s.rotation.name} "
        f"({s.rotation.members.count()} members)"
    )
