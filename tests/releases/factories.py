from datetime import UTC, date, datetime

import factory

from releases.models import ChangeItem, Release, ReleaseKind, ReleaseStatus, Train
from tests.accounts.factories import TeamFactory, UserFactory


class TrainFactory(factory.django.DjangoModelFactory):
    """Weekly on Tuesdays at 14:00 Berlin time, handled up to 2026-01-01."""

    class Meta:
        model = Train

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Train {n}")
    slug = factory.Sequence(lambda n: f"train-{n}")
    rrule = "FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;BYMINUTE=0"
    starts_on = date(2026, 1, 1)
    timezone = "Europe/Berlin"
    handled_through = datetime(2026, 1, 1, tzinfo=UTC)


class ReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Release

    train = factory.SubFactory(TrainFactory)
    kind = ReleaseKind.SCHEDULED
    version = factory.Sequence(lambda n: f"1.{n}.0")
    status = ReleaseStatus.CUT
    cut_at = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)
    target_at = datetime(2026, 3, 5, 13, 0, tzinfo=UTC)


class ChangeItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChangeItem

    train = factory.SubFactory(TrainFactory)
    title = factory.Sequence(lambda n: f"Change {n}")
    author = factory.SubFactory(UserFactory)
    is_ready = True
