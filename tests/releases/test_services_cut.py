"""Cutting: on time, whatever is ready, exactly once, in the train's timezone."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from releases.models import (
    BlackoutPeriod,
    ChangeItem,
    DepartureException,
    DepartureLog,
    Release,
    ReleaseEvent,
)
from releases.services.cutting import cut_due_trains, train_cut_now
from tests.accounts.factories import MembershipFactory
from tests.conftest import require
from tests.releases.factories import ChangeItemFactory, TrainFactory

pytestmark = pytest.mark.django_db

# TrainFactory: Tuesdays 14:00 Europe/Berlin, handled through 2026-01-01.
FIRST_SLOT = datetime(2026, 1, 6, 13, 0, tzinfo=UTC)  # 14:00 CET


def test_nothing_departs_before_its_time():
    TrainFactory()
    report = cut_due_trains(FIRST_SLOT - timedelta(seconds=1))
    assert report.cut == [] and not Release.objects.exists()


def test_the_train_leaves_on_time_with_what_is_ready():
    train = TrainFactory(release_lead_hours=48)
    ready = ChangeItemFactory(train=train, is_ready=True, title="Faster checkout")
    unready = ChangeItemFactory(train=train, is_ready=False, title="Half-done refactor")

    report = cut_due_trains(FIRST_SLOT + timedelta(seconds=20))

    [release] = report.cut
    assert (release.slot, release.status, release.kind) == (FIRST_SLOT, "cut", "scheduled")
    assert release.version == "1.0.0"
    assert release.target_at == FIRST_SLOT + timedelta(hours=48)
    ready.refresh_from_db()
    unready.refresh_from_db()
    assert ready.release == release
    assert unready.release is None and unready.carried_over == 1
    event = ReleaseEvent.objects.get(release=release)
    assert event.kind == "cut"
    assert event.data == {"boarded": 1, "left_behind": ["Half-done refactor"]}
    assert DepartureLog.objects.get(train=train).outcome == "cut"


def test_unready_changes_ride_the_next_train():
    train = TrainFactory()
    item = ChangeItemFactory(train=train, is_ready=False)
    cut_due_trains(FIRST_SLOT)
    ChangeItem.objects.filter(pk=item.pk).update(is_ready=True)
    [second] = cut_due_trains(FIRST_SLOT + timedelta(days=7)).cut
    item.refresh_from_db()
    assert item.release == second and item.carried_over == 1
    assert second.version == "1.1.0"


def test_cutting_twice_at_the_same_time_cuts_once():
    TrainFactory()
    cut_due_trains(FIRST_SLOT)
    report = cut_due_trains(FIRST_SLOT)
    assert report.cut == []
    assert Release.objects.count() == 1
    assert DepartureLog.objects.count() == 1


@pytest.mark.parametrize(
    "slot_utc",
    [
        datetime(2026, 3, 24, 13, 0, tzinfo=UTC),  # 14:00 CET, before the change on 29 March
        datetime(2026, 3, 31, 12, 0, tzinfo=UTC),  # 14:00 CEST, after it
        datetime(2026, 10, 27, 13, 0, tzinfo=UTC),  # 14:00 CET again, after 25 October
    ],
)
def test_slots_are_cut_at_local_time_on_both_sides_of_dst(slot_utc):
    train = TrainFactory(handled_through=slot_utc - timedelta(days=1))
    assert cut_due_trains(slot_utc - timedelta(minutes=1)).cut == []
    [release] = cut_due_trains(slot_utc).cut
    assert release.slot == slot_utc
    assert release.train == train


def test_after_downtime_only_the_latest_missed_slot_is_cut():
    train = TrainFactory()
    now = datetime(2026, 1, 21, 9, 0, tzinfo=UTC)  # slots on 6, 13 and 20 January passed
    report = cut_due_trains(now)
    [release] = report.cut
    assert release.slot == datetime(2026, 1, 20, 13, 0, tzinfo=UTC)
    outcomes = dict(DepartureLog.objects.filter(train=train).values_list("slot", "outcome"))
    assert outcomes == {
        datetime(2026, 1, 6, 13, 0, tzinfo=UTC): "missed",
        datetime(2026, 1, 13, 13, 0, tzinfo=UTC): "missed",
        datetime(2026, 1, 20, 13, 0, tzinfo=UTC): "cut",
    }
    assert cut_due_trains(now + timedelta(hours=1)).cut == []  # recovery happens once


def test_a_skipped_departure_does_not_leave_and_the_cadence_holds():
    train = TrainFactory()
    DepartureException.objects.create(train=train, slot=FIRST_SLOT, kind="skip", reason="Offsite")
    assert cut_due_trains(FIRST_SLOT).cut == []
    assert DepartureLog.objects.get().outcome == "skipped"
    [release] = cut_due_trains(FIRST_SLOT + timedelta(days=7)).cut
    assert release.slot == FIRST_SLOT + timedelta(days=7)


def test_a_postponed_departure_leaves_later_under_its_own_slot():
    train = TrainFactory()
    DepartureException.objects.create(
        train=train, slot=FIRST_SLOT, kind="postpone", postpone_hours=3
    )
    assert cut_due_trains(FIRST_SLOT + timedelta(hours=2, minutes=59)).cut == []
    [release] = cut_due_trains(FIRST_SLOT + timedelta(hours=3)).cut
    assert release.slot == FIRST_SLOT
    assert release.target_at == FIRST_SLOT + timedelta(hours=3 + 48)
    [next_one] = cut_due_trains(FIRST_SLOT + timedelta(days=7)).cut
    assert next_one.slot == FIRST_SLOT + timedelta(days=7)


@pytest.mark.parametrize("team_wide", [True, False])
def test_nothing_departs_during_a_blackout(team_wide):
    train = TrainFactory()
    BlackoutPeriod.objects.create(
        team=train.team if team_wide else None,
        starts_on=date(2026, 1, 5),
        ends_on=date(2026, 1, 6),
        reason="Holiday freeze",
    )
    assert cut_due_trains(FIRST_SLOT).cut == []
    log = DepartureLog.objects.get()
    assert (log.outcome, log.note) == ("blackout", "Holiday freeze")


def test_another_teams_blackout_does_not_stop_the_train():
    train = TrainFactory()
    other = TrainFactory()
    BlackoutPeriod.objects.create(
        team=other.team, starts_on=date(2026, 1, 6), ends_on=date(2026, 1, 6), reason="x"
    )
    assert [r.train for r in cut_due_trains(FIRST_SLOT).cut] == [train]


def test_empty_departures_follow_the_trains_policy():
    departs = TrainFactory(empty_departure="depart_empty")
    skips = TrainFactory(empty_departure="skip")
    [release] = cut_due_trains(FIRST_SLOT).cut
    assert release.train == departs
    assert "Departed empty" in release.events.get().note
    assert DepartureLog.objects.get(train=skips).outcome == "skipped_empty"


def test_paused_trains_do_not_depart():
    TrainFactory(is_paused=True)
    assert cut_due_trains(FIRST_SLOT).cut == []
    assert not DepartureLog.objects.exists()


def test_calver_versions_count_within_the_month():
    train = TrainFactory(version_scheme="calver")
    first = cut_due_trains(FIRST_SLOT).cut[0]
    second = cut_due_trains(FIRST_SLOT + timedelta(days=7)).cut[0]
    assert (first.version, second.version) == ("2026.01.1", "2026.01.2")
    assert train.releases.count() == 2


def test_managers_cut_now_and_engineers_are_refused():
    train = TrainFactory()
    manager = MembershipFactory(team=train.team, role="manager").user
    engineer = MembershipFactory(team=train.team, role="engineer").user
    ChangeItemFactory(train=train, is_ready=True)
    release = train_cut_now(actor=manager, train=train, note="Security fix", now=FIRST_SLOT)
    assert (release.kind, release.slot, release.version) == ("adhoc", None, "1.0.0")
    assert release.changes.count() == 1
    with pytest.raises(PermissionDenied):
        train_cut_now(actor=engineer, train=train)
    assert Release.objects.count() == 1


def test_the_management_command_runs_the_same_code(capsys):
    train = TrainFactory(handled_through=datetime.now(UTC) - timedelta(days=8))
    call_command("cut_due_trains")
    assert train.releases.count() == 1
    assert "1 cut" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_concurrent_cutters_cut_each_departure_exactly_once():
    require(connection.vendor == "postgresql", "row locks need PostgreSQL (set DATABASE_URL)")
    trains = [TrainFactory() for _ in range(5)]
    for train in trains:
        ChangeItemFactory(train=train, is_ready=True)
    now = FIRST_SLOT + timedelta(seconds=5)
    barrier = threading.Barrier(8)
    errors = []

    def cutter():
        try:
            barrier.wait()
            cut_due_trains(now)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cutter) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Release.objects.count() == len(trains)
    assert DepartureLog.objects.count() == len(trains)
    assert ChangeItem.objects.filter(release__isnull=True).count() == 0


def test_an_idle_minute_costs_the_same_queries_however_many_trains():
    TrainFactory()
    cut_due_trains(FIRST_SLOT + timedelta(minutes=1))  # the first departure is handled

    def queries_for_an_idle_tick():
        with CaptureQueriesContext(connection) as ctx:
            assert not cut_due_trains(FIRST_SLOT + timedelta(hours=2)).logged
        return len(ctx.captured_queries)

    few = queries_for_an_idle_tick()
    for _ in range(10):
        TrainFactory(handled_through=FIRST_SLOT + timedelta(minutes=1))
    assert queries_for_an_idle_tick() == few == 1
