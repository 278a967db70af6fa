from datetime import UTC, date, datetime, time

import factory

from releases.models import (
    ChangeItem,
    Release,
    ReleaseKind,
    ReleaseStatus,
    Rotation,
    RotationMember,
    Train,
    TurnLength,
    Unavailability,
)
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


# --- rotations -------------------------------------------------------------------------------


class RotationFactory(factory.django.DjangoModelFactory):
    """Weekly turns handing off on Mondays at 10:00 Berlin time from 2026-01-05."""

    class Meta:
        model = Rotation

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Rotation {n}")
    timezone = "Europe/Berlin"
    turn_length = TurnLength.WEEKS
    weeks = 1
    handoff_weekday = 0
    handoff_time = time(10, 0)
    starts_on = date(2026, 1, 5)


class RotationMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RotationMember

    rotation = factory.SubFactory(RotationFactory)
    user = factory.SubFactory(UserFactory)
    position = factory.Sequence(lambda n: n + 1)


class UnavailabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unavailability

    user = factory.SubFactory(UserFactory)
    starts_at = datetime(2026, 3, 9, tzinfo=UTC)
    ends_at = datetime(2026, 3, 16, tzinfo=UTC)
    reason = "Holiday"
