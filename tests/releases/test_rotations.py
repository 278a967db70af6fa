"""Rotation schedules: turn boundaries (weeks, departures, DST), who holds a turn, planning."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from releases.demo import DEMO_TRAINS
from releases.models import DepartureException, Release, RotationTurn, Train, TurnSource
from releases.rotations import (
    HORIZON,
    Period,
    Roster,
    Source,
    WeekSchedule,
    departure_turns,
    next_member,
    resolve_captain,
)
from releases.selectors_rotations import (
    captain_for_departure,
    next_duty_for_user,
    rotation_overview,
    rotation_warnings,
    turns_for_user,
)
from releases.services.cutting import cut_due_trains
from releases.services.rotations import rotation_create, rotation_plan_turns, rotations_plan_all
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import TrainFactory, UnavailabilityFactory

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def monday_10(starts_on: date, weeks: int = 1) -> WeekSchedule:
    return WeekSchedule("Europe/Berlin", 0, time(10, 0), starts_on, weeks)


# --- week-based boundaries (pure) -------------------------------------------------------------


def test_week_turns_hand_off_at_10_local_on_both_sides_of_the_spring_dst_change():
    windows = monday_10(date(2026, 3, 16)).windows(since=utc(2026, 3, 16), until=utc(2026, 4, 6))
    assert windows == [
        (utc(2026, 3, 16, 9), utc(2026, 3, 23, 9)),
        (utc(2026, 3, 23, 9), utc(2026, 3, 30, 8)),  # CET → CEST on 29 March
        (utc(2026, 3, 30, 8), utc(2026, 4, 6, 8)),
    ]
    assert {start.astimezone(BERLIN).time() for start, _ in windows} == {time(10, 0)}
    assert windows[1][1] - windows[1][0] == timedelta(hours=167)


def test_week_turns_hand_off_at_10_local_on_both_sides_of_the_autumn_dst_change():
    windows = monday_10(date(2026, 10, 19)).windows(
        since=utc(2026, 10, 19), until=utc(2026, 10, 27)
    )
    assert windows == [
        (utc(2026, 10, 19, 8), utc(2026, 10, 26, 9)),  # CEST → CET on 25 October
        (utc(2026, 10, 26, 9), utc(2026, 11, 2, 9)),
    ]
    assert windows[0][1] - windows[0][0] == timedelta(hours=169)


def test_the_first_handoff_is_the_first_handoff_weekday_on_or_after_the_start():
    schedule = monday_10(date(2026, 3, 18))  # a Wednesday
    assert schedule.boundary(0) == berlin(2026, 3, 23, 10)
    assert schedule.index_at_or_before(berlin(2026, 3, 23, 9, 59)) == -1
    assert schedule.windows(since=utc(2026, 3, 1), until=utc(2026, 3, 24))[0][0] == berlin(
        2026, 3, 23, 10
    )


def test_every_two_weeks_hands_off_every_fourteen_days_at_the_same_local_time():
    schedule = monday_10(date(2026, 3, 2), weeks=2)
    windows = schedule.windows(since=berlin(2026, 3, 10), until=berlin(2026, 5, 1))
    assert [start.astimezone(BERLIN) for start, _ in windows] == [
        berlin(2026, 3, 2, 10),  # the turn running at `since`
        berlin(2026, 3, 16, 10),
        berlin(2026, 3, 30, 10),
        berlin(2026, 4, 13, 10),
        berlin(2026, 4, 27, 10),
    ]
    assert schedule.index_at_or_before(berlin(2026, 3, 30, 10)) == 2


def test_a_handoff_time_skipped_by_dst_moves_an_hour_later_like_departures_do():
    schedule = WeekSchedule("Europe/Berlin", 6, time(2, 30), date(2026, 3, 29), 1)
    assert schedule.boundary(0).astimezone(BERLIN) == berlin(2026, 3, 29, 3, 30)
    assert schedule.boundary(1).astimezone(BERLIN) == berlin(2026, 4, 5, 2, 30)


def test_resuming_after_an_edit_continues_from_where_history_ends_without_overlap():
    schedule = WeekSchedule("Europe/Berlin", 3, time(10, 0), date(2026, 1, 1), 1)  # Thursdays
    history_end = berlin(2026, 3, 9, 10)  # the running turn (old schedule) ends on a Monday
    windows = schedule.windows(since=history_end, until=berlin(2026, 3, 20), resume=True)
    assert windows == [
        (history_end, berlin(2026, 3, 12, 10)),
        (berlin(2026, 3, 12, 10), berlin(2026, 3, 19, 10)),
        (berlin(2026, 3, 19, 10), berlin(2026, 3, 26, 10)),
    ]


# --- per-departure turns (pure) ---------------------------------------------------------------


class FakeTrain:
    def __init__(self, pk):
        self.pk = pk


def test_per_departure_turns_run_from_the_previous_departure_and_the_first_from_a_week_before():
    train = FakeTrain(1)
    slots = [utc(2026, 3, 3, 13), utc(2026, 3, 10, 13), utc(2026, 3, 17, 13)]
    turns = departure_turns((train, slot) for slot in reversed(slots))
    assert [(t.starts_at, t.ends_at, t.slot) for t in turns] == [
        (utc(2026, 2, 24, 13), slots[0], slots[0]),
        (slots[0], slots[1], slots[1]),
        (slots[1], slots[2], slots[2]),
    ]


def test_two_trains_departing_at_the_same_instant_get_a_turn_each():
    web, api = FakeTrain(1), FakeTrain(2)
    slot = utc(2026, 3, 10, 13)
    turns = departure_turns([(api, slot), (web, slot), (web, utc(2026, 3, 3, 13))])
    assert [(t.train, t.starts_at, t.ends_at) for t in turns] == [
        (web, utc(2026, 2, 24, 13), utc(2026, 3, 3, 13)),
        (web, utc(2026, 3, 3, 13), slot),
        (api, utc(2026, 3, 3, 13), slot),
    ]


# --- who holds a turn (pure) ------------------------------------------------------------------


def test_the_member_sequence_wraps_round_and_restarts_when_the_last_member_left():
    assert next_member([7, 8, 9], None) == 7
    assert next_member([7, 8, 9], 8) == 9
    assert next_member([7, 8, 9], 9) == 7
    assert next_member([7, 8, 9], 4) == 7
    assert next_member([], 4) is None


START, END = utc(2026, 3, 9, 9), utc(2026, 3, 16, 9)
ROSTER = Roster(
    order=[1, 2, 3],
    team_member_ids=frozenset({1, 2, 3, 4}),
    names={1: "Ana", 2: "Ben", 3: "Cid", 4: "Dee"},
    away={},
)


def resolve(roster=ROSTER, member=1, **kwargs):
    return resolve_captain(starts_at=START, ends_at=END, member_id=member, roster=roster, **kwargs)


def away(*user_ids, reason="holiday"):
    periods = {u: [Period(u, START - timedelta(days=1), START + timedelta(days=2), reason)]
               for u in user_ids}  # fmt: skip
    return Roster(ROSTER.order, ROSTER.team_member_ids, ROSTER.names, periods)


def test_the_rotations_pick_holds_the_turn_when_eligible():
    assert resolve() == (1, Source.ROTATION, "")


def test_an_out_of_office_member_is_skipped_for_the_next_eligible_one_with_the_reason():
    assert resolve(away(1)) == (2, Source.SKIP, "Ana is out of office (holiday)")
    assert resolve(away(1, 2)) == (3, Source.SKIP, "Ana is out of office (holiday)")
    assert resolve(away(3), member=3) == (1, Source.SKIP, "Cid is out of office (holiday)")
    assert resolve(away(1, reason="")).reason == "Ana is out of office"


def test_time_off_that_ends_before_the_turn_starts_does_not_skip():
    roster = Roster(ROSTER.order, ROSTER.team_member_ids, ROSTER.names,
                    {1: [Period(1, START - timedelta(days=7), START, "before")]})  # fmt: skip
    assert resolve(roster).source == Source.ROTATION


def test_a_member_who_left_the_team_is_skipped():
    roster = Roster(ROSTER.order, frozenset({2, 3}), ROSTER.names, {})
    assert resolve(roster) == (2, Source.SKIP, "Ana is no longer a member of the team")


def test_nobody_eligible_leaves_the_turn_without_a_captain():
    result = resolve(away(1, 2, 3))
    assert result.captain_id is None and result.source == Source.NOBODY
    assert "Ana is out of office" in result.reason
    empty = Roster([], ROSTER.team_member_ids, ROSTER.names, {})
    assert resolve(empty, member=None).source == Source.NOBODY


def test_cover_beats_swap_time_off_and_the_rotation():
    cover = Period(4, START - timedelta(hours=1), START + timedelta(hours=1), "Ana is at a summit")
    result = resolve(away(1), covers=[cover], swap=(3, 1))
    assert result == (4, Source.COVER, "Cover by Dee: Ana is at a summit")


def test_a_cover_applies_only_when_it_overlaps_the_start_of_the_turn():
    later = Period(4, START + timedelta(hours=1), END, "")
    assert resolve(covers=[later]).source == Source.ROTATION


def test_a_taken_swap_beats_the_rotation_unless_the_taker_is_away_since():
    assert resolve(swap=(3, 1)) == (3, Source.SWAP, "Swap: Cid took it from Ana")
    assert resolve(away(3), swap=(3, 1)) == (1, Source.ROTATION, "")


def test_a_cover_captain_can_swap_their_covered_turn_away():
    cover = Period(4, START, END, "")
    assert resolve(covers=[cover], swap=(2, 4)).captain_id == 2
    assert resolve(covers=[cover], swap=(2, 1)).captain_id == 4


def test_the_pure_sources_are_the_models_sources():
    assert {Source.ROTATION, Source.SKIP, Source.COVER, Source.SWAP, Source.NOBODY} == set(
        TurnSource.values
    )


# --- planning turns (database) ----------------------------------------------------------------


@pytest.fixture
def team():
    return TeamFactory(slug="checkout", name="Checkout")


@pytest.fixture
def manager(team):
    return MembershipFactory(team=team, role="manager", user=UserFactory(username="mia")).user


@pytest.fixture
def people(team):
    return [
        MembershipFactory(team=team, user=UserFactory(username=name, first_name=name.title(),
                                                      last_name="X")).user
        for name in ("ana", "ben", "cid")
    ]  # fmt: skip


def make_rotation(manager, team, people, trains=(), now=NOW, **fields):
    values = {
        "name": "Checkout captains",
        "timezone": "Europe/Berlin",
        "turn_length": "weeks",
        "weeks": 1,
        "handoff_weekday": 0,
        "handoff_time": time(10, 0),
        "starts_on": date(2026, 3, 2),
        "member_ids": [p.pk for p in people],
        "train_ids": [t.pk for t in trains],
        "now": now,
    }
    return rotation_create(actor=manager, team=team, **(values | fields))


def captains(rotation):
    return [t.captain.username if t.captain else None for t in rotation.turns.order_by("ends_at")]


@pytest.mark.django_db
def test_planning_materialises_week_turns_for_120_days_including_the_running_one(
    manager, team, people
):
    rotation = make_rotation(manager, team, people)
    turns = list(rotation.turns.order_by("starts_at"))
    assert turns[0].starts_at == berlin(2026, 3, 2, 10) <= NOW < turns[0].ends_at
    assert turns[-1].starts_at < NOW + HORIZON <= turns[-1].ends_at
    assert {t.starts_at.astimezone(BERLIN).strftime("%a %H:%M") for t in turns} == {"Mon 10:00"}
    assert all(a.ends_at == b.starts_at for a, b in pairwise(turns))
    assert captains(rotation)[:5] == ["ana", "ben", "cid", "ana", "ben"]
    assert {t.source for t in turns} == {TurnSource.ROTATION}


@pytest.mark.django_db
def test_planning_is_idempotent_and_extends_the_horizon_as_time_passes(manager, team, people):
    rotation = make_rotation(manager, team, people)
    before = list(rotation.turns.order_by("starts_at").values_list("pk", "starts_at", "captain"))
    rotation_plan_turns(rotation, now=NOW)
    assert list(rotation.turns.order_by("starts_at").values_list("pk", "starts_at", "captain")) == (
        before
    )
    assert rotations_plan_all(NOW + timedelta(days=14)) == 1
    after = list(rotation.turns.order_by("starts_at").values_list("pk", "starts_at", "captain"))
    assert after[: len(before)] == before
    assert len(after) == len(before) + 2


@pytest.mark.django_db
def test_per_departure_turns_follow_a_weekly_train_across_dst(manager, team, people):
    train = TrainFactory(team=team)  # Tuesdays 14:00 Berlin
    rotation = make_rotation(manager, team, people, trains=[train], turn_length="per_departure")
    turns = list(rotation.turns.order_by("slot"))
    assert turns[0].slot == berlin(2026, 3, 10, 14)
    assert turns[0].starts_at == berlin(2026, 3, 3, 14)  # the previous departure, already left
    assert all(t.slot.astimezone(BERLIN).strftime("%a %H:%M") == "Tue 14:00" for t in turns)
    assert utc(2026, 3, 31, 12) in [t.slot for t in turns]  # 14:00 CEST
    assert all(t.train_id == train.pk and t.ends_at == t.slot for t in turns)
    assert captains(rotation)[:4] == ["ana", "ben", "cid", "ana"]
    assert turns[-1].slot < NOW + HORIZON


@pytest.mark.django_db
def test_per_departure_turns_interleave_two_trains_and_skip_what_does_not_depart(
    manager, team, people
):
    web = TrainFactory(team=team)  # Tuesdays 14:00
    api = TrainFactory(team=team, rrule="FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0")
    DepartureException.objects.create(train=api, slot=berlin(2026, 3, 12, 10), kind="skip")
    rotation = make_rotation(manager, team, people, trains=[web, api], turn_length="per_departure")
    turns = list(rotation.turns.order_by("slot")[:4])
    assert [(t.train_id, t.slot.astimezone(BERLIN)) for t in turns] == [
        (api.pk, berlin(2026, 3, 5, 10)),
        (web.pk, berlin(2026, 3, 10, 14)),
        (web.pk, berlin(2026, 3, 17, 14)),  # the skipped Thursday has no turn
        (api.pk, berlin(2026, 3, 19, 10)),
    ]
    assert [t.starts_at.astimezone(BERLIN) for t in turns] == [
        berlin(2026, 3, 3, 14),  # the previous departure, whichever train it was
        berlin(2026, 3, 5, 10),
        berlin(2026, 3, 10, 14),
        berlin(2026, 3, 17, 14),
    ]
    assert [t.captain.username for t in turns] == ["ana", "ben", "cid", "ana"]


@pytest.mark.django_db
def test_two_trains_at_the_same_time_get_two_captains(manager, team, people):
    web, api = TrainFactory(team=team), TrainFactory(team=team)
    rotation = make_rotation(manager, team, people, trains=[web, api], turn_length="per_departure")
    first = list(rotation.turns.filter(slot=berlin(2026, 3, 10, 14)).order_by("train_id"))
    assert [t.train_id for t in first] == [web.pk, api.pk]
    assert first[0].starts_at == first[1].starts_at == berlin(2026, 3, 3, 14)
    assert [t.captain.username for t in first] == ["ana", "ben"]


@pytest.mark.django_db
def test_the_cut_stores_the_captain_of_the_departures_turn(manager, team, people):
    train = TrainFactory(team=team, handled_through=NOW)
    rotation = make_rotation(manager, team, people, trains=[train], turn_length="per_departure")
    train.refresh_from_db()
    slot = berlin(2026, 3, 17, 14)
    assert captain_for_departure(train, slot) == people[1]
    [release] = cut_due_trains(slot + timedelta(minutes=1)).cut
    assert release.captain == people[1] == rotation.turns.get(slot=slot).captain
    event = release.events.get(kind="captain")
    assert "Ben X" in event.note and "Checkout captains" in event.note


@pytest.mark.django_db
def test_a_week_rotation_gives_every_departure_in_the_turn_its_captain(manager, team, people):
    train = TrainFactory(team=team, handled_through=NOW)
    make_rotation(manager, team, people, trains=[train])
    [release] = cut_due_trains(berlin(2026, 3, 10, 14, 1)).cut
    assert release.captain == people[1]  # ben holds 9–16 March


@pytest.mark.django_db
def test_a_departure_without_a_captain_says_so_on_the_timeline(manager, team, people):
    train = TrainFactory(team=team, handled_through=NOW)
    rotation = make_rotation(manager, team, people[:1], trains=[train])
    UnavailabilityFactory(user=people[0], starts_at=NOW, ends_at=NOW + timedelta(days=30))
    rotation_plan_turns(rotation, now=NOW)
    [release] = cut_due_trains(berlin(2026, 3, 17, 14, 1)).cut
    assert release.captain is None
    assert release.events.get(kind="captain").note.startswith("No captain: Nobody eligible")


@pytest.mark.django_db
def test_a_train_without_a_rotation_is_cut_without_a_captain_event(team):
    TrainFactory(team=team, handled_through=NOW)
    [release] = cut_due_trains(berlin(2026, 3, 10, 14, 1)).cut
    assert release.captain is None and not release.events.filter(kind="captain").exists()


# --- reads ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_overview_shows_who_is_captain_now_and_the_next_eight(manager, team, people):
    rotation = make_rotation(manager, team, people)
    overview = rotation_overview(rotation, now=NOW)
    assert overview.current.captain == people[0]
    assert overview.current.starts_at <= NOW < overview.current.ends_at
    assert len(overview.upcoming) == 8
    assert [t.captain.username for t in overview.upcoming[:3]] == ["ben", "cid", "ana"]
    assert overview.upcoming[0].starts_at == overview.current.ends_at


@pytest.mark.django_db
def test_the_per_departure_overview_current_turn_is_the_next_departure(manager, team, people):
    train = TrainFactory(team=team)
    rotation = make_rotation(manager, team, people, trains=[train], turn_length="per_departure")
    overview = rotation_overview(rotation, now=NOW, count=3)
    assert overview.current.slot == berlin(2026, 3, 10, 14)
    assert [t.slot.day for t in overview.upcoming] == [17, 24, 31]


@pytest.mark.django_db
def test_a_rotation_starting_later_has_no_current_turn_yet(manager, team, people):
    rotation = make_rotation(manager, team, people, starts_on=date(2026, 3, 10))
    overview = rotation_overview(rotation, now=NOW, count=2)
    assert overview.current is None
    assert overview.upcoming[0].starts_at == berlin(2026, 3, 16, 10)


@pytest.mark.django_db
def test_a_turn_nobody_can_hold_is_flagged_within_the_warning_window(manager, team, people):
    rotation = make_rotation(manager, team, people[:2])
    for person in people[:2]:
        UnavailabilityFactory(
            user=person, starts_at=berlin(2026, 3, 17), ends_at=berlin(2026, 3, 18)
        )
    rotation_plan_turns(rotation, now=NOW)
    [warning] = rotation_warnings(rotation, now=NOW)
    assert warning.starts_at == berlin(2026, 3, 16, 10)
    assert warning.captain is None and warning.source == TurnSource.NOBODY
    assert not rotation_warnings(rotation, now=NOW, days=7).exists()


@pytest.mark.django_db
def test_a_persons_duties_are_their_turns_in_their_teams(manager, team, people):
    make_rotation(manager, team, people)
    ben = people[1]
    duty = next_duty_for_user(ben, now=NOW)
    assert duty.starts_at == berlin(2026, 3, 9, 10) and duty.rotation.name == "Checkout captains"
    assert next_duty_for_user(people[0], now=NOW).starts_at <= NOW  # ana holds the running one
    listed = turns_for_user(ben, since=NOW, until=NOW + timedelta(days=30))
    assert [t.starts_at.day for t in listed] == [9, 30]
    assert not RotationTurn.objects.filter(captain=manager).exists()
    assert next_duty_for_user(manager, now=NOW) is None


# --- demo data ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_gives_every_demo_train_a_rotation_that_captains_its_departures():
    call_command("seed_demo")
    trains = Train.objects.filter(name__in=[name for _, name, *_ in DEMO_TRAINS])
    assert trains.count() == len(DEMO_TRAINS)
    assert not trains.filter(rotation=None).exists()
    now = timezone.now()
    for train in trains.select_related("rotation"):
        assert train.rotation.team_id == train.team_id
        assert train.rotation.turns.filter(starts_at__gt=now + timedelta(days=100)).exists()
    # History was cut with the rotation's captains, not assigned by hand afterwards.
    scheduled = Release.objects.filter(kind="scheduled")
    assert scheduled.filter(events__kind="captain", events__note__contains="from rotation").count(
    ) == scheduled.count()  # fmt: skip
    checkout = trains.get(name="Checkout Web").rotation
    assert rotation_overview(checkout, now=now).current.captain.username == "captain"
    assert RotationTurn.objects.exclude(handoff_note="").exists()
