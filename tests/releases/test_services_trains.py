from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from releases.models import BlackoutPeriod, DepartureException, Train
from releases.selectors import next_departures
from releases.services.trains import (
    TrainFields,
    blackout_create,
    departure_postpone,
    departure_restore,
    departure_skip,
    train_create,
    train_set_paused,
    train_update,
)
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import TrainFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
SLOT = datetime(2026, 1, 6, 13, 0, tzinfo=UTC)


def fields(**overrides):
    values = {
        "name": "Checkout",
        "rrule": "FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;BYMINUTE=0",
        "starts_on": date(2026, 1, 1),
        "timezone": "Europe/Berlin",
    }
    return TrainFields(**{**values, **overrides})


@pytest.fixture
def manager():
    return MembershipFactory(team=TeamFactory(slug="checkout"), role="manager").user


def test_a_manager_creates_a_train_that_starts_cutting_from_now(manager):
    train = train_create(actor=manager, team=manager.teams.get(), fields=fields(), now=NOW)
    assert (train.slug, train.handled_through) == ("checkout", NOW)
    assert [d.slot for d in next_departures(train, count=2, now=NOW)] == [
        SLOT,
        SLOT + timedelta(days=7),
    ]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=TU;UNTIL=20251201T000000Z"}, "rrule"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_trains_are_refused_and_nothing_is_written(manager, overrides, field):
    with pytest.raises(ValidationError) as error:
        train_create(actor=manager, team=manager.teams.get(), fields=fields(**overrides), now=NOW)
    assert field in error.value.message_dict
    assert not Train.objects.exists()


def test_a_second_train_with_the_same_name_or_slug_is_refused_on_that_field(manager):
    team = manager.teams.get()
    first = train_create(actor=manager, team=team, fields=fields(), now=NOW)
    with pytest.raises(ValidationError) as error:
        train_create(actor=manager, team=team, fields=fields(name="CHECKOUT"), now=NOW)
    assert error.value.message_dict["name"] == ["The team already has a train called CHECKOUT."]
    with pytest.raises(ValidationError) as error:
        train_create(actor=manager, team=team, fields=fields(name="Web", slug="checkout"), now=NOW)
    assert list(error.value.message_dict) == ["slug"]
    assert list(Train.objects.all()) == [first]
    # Saving a train under its own name is not a clash.
    train_update(actor=manager, train=first, fields=fields(description="Weekly"), now=NOW)


def test_engineers_and_outsiders_cannot_create_trains(manager):
    team = manager.teams.get()
    engineer = MembershipFactory(team=team, role="engineer").user
    for user in (engineer, UserFactory()):
        with pytest.raises(PermissionDenied):
            train_create(actor=user, team=team, fields=fields(), now=NOW)
    assert not Train.objects.exists()


def test_changing_the_timetable_does_not_catch_up_its_past(manager):
    train = train_create(actor=manager, team=manager.teams.get(), fields=fields(), now=NOW)
    later = NOW + timedelta(days=30)
    train = train_update(
        actor=manager, train=train, fields=fields(rrule="FREQ=DAILY;BYHOUR=9"), now=later
    )
    assert train.handled_through == later


def test_resuming_a_paused_train_does_not_cut_what_fell_while_paused(manager):
    train = TrainFactory(team=manager.teams.get())
    train_set_paused(actor=manager, train=train, paused=True, now=NOW)
    resumed_at = NOW + timedelta(days=20)
    train = train_set_paused(actor=manager, train=train, paused=False, now=resumed_at)
    assert train.handled_through == resumed_at


def test_skip_postpone_restore(manager):
    train = TrainFactory(team=manager.teams.get())
    departure_skip(actor=manager, train=train, slot=SLOT, reason="Offsite", now=NOW)
    assert [d.slot for d in next_departures(train, count=1, now=NOW)] == [SLOT + timedelta(days=7)]
    departure_postpone(actor=manager, train=train, slot=SLOT, hours=4, now=NOW)
    [first] = next_departures(train, count=1, now=NOW)
    assert (first.slot, first.departs_at, first.state) == (
        SLOT,
        SLOT + timedelta(hours=4),
        "postponed",
    )
    departure_restore(actor=manager, train=train, slot=SLOT)
    assert not DepartureException.objects.exists()


@pytest.mark.parametrize(
    "slot, hours, message",
    [
        (SLOT, 24 * 7, "cannot reach the next departure"),
        (SLOT, 0, "at least one hour"),
        (SLOT + timedelta(hours=1), 2, "no departure at that time"),
        (datetime(2025, 12, 30, 13, tzinfo=UTC), 2, "in the past"),
    ],
)
def test_bad_postponements_are_refused(manager, slot, hours, message):
    train = TrainFactory(team=manager.teams.get())
    with pytest.raises(ValidationError, match=message):
        departure_postpone(actor=manager, train=train, slot=slot, hours=hours, now=NOW)
    assert not DepartureException.objects.exists()


def test_blackouts_team_and_organisation_wide(manager):
    team = manager.teams.get()
    blackout_create(
        actor=manager, team=team, starts_on=date(2026, 1, 5), ends_on=date(2026, 1, 7), reason="x"
    )
    with pytest.raises(PermissionDenied, match="administrator"):
        blackout_create(
            actor=manager, team=None, starts_on=date(2026, 12, 20), ends_on=date(2027, 1, 2),
            reason="Holidays",
        )  # fmt: skip
    blackout_create(
        actor=UserFactory(is_staff=True), team=None, starts_on=date(2026, 12, 20),
        ends_on=date(2027, 1, 2), reason="Holidays",
    )  # fmt: skip
    with pytest.raises(ValidationError):
        blackout_create(
            actor=manager, team=team, starts_on=date(2026, 2, 5), ends_on=date(2026, 2, 1),
            reason="backwards",
        )  # fmt: skip
    assert BlackoutPeriod.objects.count() == 2
    train = TrainFactory(team=team)
    [first] = next_departures(train, count=1, now=NOW)
    assert first.slot == SLOT + timedelta(days=7)  # 6 January is blacked out


def test_reminder_hours_are_kept_sorted_and_bad_ones_refused(manager):
    team = manager.teams.get()
    train = train_create(
        actor=manager, team=team, fields=fields(reminder_hours=[1, 24, 24]), now=NOW
    )
    assert train.reminder_hours == [24, 1]
    for bad in ([0], [24 * 15], [1, 2, 3, 4, 5, 6]):
        with pytest.raises(ValidationError) as error:
            train_update(actor=manager, train=train, fields=fields(reminder_hours=bad), now=NOW)
        assert "reminder_hours" in error.value.message_dict
    train.refresh_from_db()
    assert train.reminder_hours == [24, 1]
