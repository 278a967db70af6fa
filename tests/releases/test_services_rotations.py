"""Rotation services: editing, cover, time off, swaps and handoff notes, and who may do each."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections

from core.models import AuditEntry
from releases.models import (
    CaptainCover,
    Rotation,
    RotationTurn,
    SwapRequest,
    SwapState,
    Train,
    TurnSource,
    Unavailability,
)
from releases.selectors_rotations import (
    handoff_for_user,
    open_swaps_for_user,
    rotation_warnings,
    rotations_for_user,
)
from releases.services.rotation_duty import (
    cover_add,
    cover_remove,
    handoff_note_write,
    swap_arrange,
    swap_open,
    swap_take,
    swap_withdraw,
    swaps_expire,
    unavailability_add,
    unavailability_remove,
)
from releases.services.rotations import rotation_create, rotation_delete, rotation_update
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.conftest import require
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # Wednesday; ana's turn runs 2–9 March


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def team():
    return TeamFactory(slug="checkout", name="Checkout")


@pytest.fixture
def manager(team):
    return MembershipFactory(team=team, role="manager", user=UserFactory(username="mia")).user


def member(team, name, role="engineer"):
    user = UserFactory(username=name, first_name=name.title(), last_name="X")
    return MembershipFactory(team=team, user=user, role=role).user


@pytest.fixture
def ana(team):
    return member(team, "ana")


@pytest.fixture
def ben(team):
    return member(team, "ben")


@pytest.fixture
def cid(team):
    return member(team, "cid")


@pytest.fixture
def dee(team):
    """In the team, not in the rotation."""
    return member(team, "dee")


@pytest.fixture
def outsider():
    return MembershipFactory(team=TeamFactory(slug="payments"), role="manager").user


@pytest.fixture
def train(team):
    return TrainFactory(team=team)


def fields(people, trains=(), **overrides):
    return {
        "name": "Checkout captains",
        "timezone": "Europe/Berlin",
        "turn_length": "weeks",
        "weeks": 1,
        "handoff_weekday": 0,
        "handoff_time": time(10, 0),
        "starts_on": date(2026, 3, 2),
        "member_ids": [p.pk for p in people],
        "train_ids": [t.pk for t in trains],
    } | overrides


@pytest.fixture
def rotation(manager, team, ana, ben, cid, train):
    return rotation_create(actor=manager, team=team, now=NOW, **fields([ana, ben, cid], [train]))


def turn_at(rotation, *args) -> RotationTurn:
    return rotation.turns.select_related("captain").get(starts_at=berlin(*args))


def holders(rotation):
    return [t.captain.username if t.captain else None for t in rotation.turns.all()[:5]]


# --- creating and editing rotations ------------------------------------------------------------


def test_a_manager_creates_a_rotation_with_members_in_order_and_trains(rotation, train):
    assert [m.user.username for m in rotation.members.all()] == ["ana", "ben", "cid"]
    assert Train.objects.get(pk=train.pk).rotation == rotation
    assert rotation.planned_from == NOW
    assert holders(rotation) == ["ana", "ben", "cid", "ana", "ben"]
    assert AuditEntry.objects.filter(action="rotation.created", target_id=str(rotation.pk)).exists()


@pytest.mark.parametrize("who", ["engineer", "outsider"])
def test_only_a_manager_of_the_team_creates_rotations(team, ana, outsider, who):
    actor = ana if who == "engineer" else outsider
    with pytest.raises(PermissionDenied):
        rotation_create(actor=actor, team=team, now=NOW, **fields([ana]))
    assert not Rotation.objects.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"weeks": 0}, "weeks"),
        ({"weeks": 13}, "weeks"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"name": " "}, "name"),
        ({"member_ids": []}, "members"),
        ({"turn_length": "monthly"}, "turn_length"),
    ],
)
def test_bad_input_is_a_field_error_and_writes_nothing(manager, team, ana, change, field):
    with pytest.raises(ValidationError) as error:
        rotation_create(actor=manager, team=team, now=NOW, **(fields([ana]) | change))
    assert field in error.value.message_dict
    assert not Rotation.objects.exists() and not RotationTurn.objects.exists()


def test_members_and_trains_must_belong_to_the_team(manager, team, ana, outsider):
    other_train = TrainFactory(team=TeamFactory(slug="other"))
    with pytest.raises(ValidationError) as error:
        rotation_create(actor=manager, team=team, now=NOW, **fields([ana, outsider], [other_train]))
    assert set(error.value.message_dict) == {"members", "trains"}
    assert not Rotation.objects.exists()


def test_a_duplicate_name_is_a_field_error(rotation, manager, team, ana):
    with pytest.raises(ValidationError) as error:
        rotation_create(
            actor=manager, team=team, now=NOW, **fields([ana], name="checkout CAPTAINS")
        )
    assert "already has a rotation" in error.value.message_dict["name"][0]
    assert Rotation.objects.count() == 1


def test_editing_the_order_applies_from_the_next_unstarted_turn_only(
    rotation, manager, ana, ben, cid, train
):
    later = NOW + timedelta(days=6)  # 10 March: ben's turn (9–16 March) has started
    planned = ReleaseFactory(train=train, slot=berlin(2026, 3, 17, 14), status="planned",
                             captain=cid)  # fmt: skip
    finished = ReleaseFactory(train=train, slot=berlin(2026, 3, 18, 14), status="released",
                              captain=cid)  # fmt: skip
    started = list(rotation.turns.filter(starts_at__lte=later).values_list("pk", "captain"))

    rotation_update(actor=manager, rotation=rotation, now=later, **fields([cid, ben, ana], [train]))

    assert list(rotation.turns.filter(starts_at__lte=later).values_list("pk", "captain")) == (
        started
    )
    # After ben (the last turn that started) comes ana in the new order, then cid, ben, …
    assert holders(rotation) == ["ana", "ben", "ana", "cid", "ben"]
    planned.refresh_from_db()
    finished.refresh_from_db()
    assert planned.captain == ana
    assert "edited" in planned.events.get(kind="captain").note
    assert finished.captain == cid and not finished.events.exists()
    rotation.refresh_from_db()
    assert rotation.planned_from == later


def test_moving_the_handoff_keeps_the_running_turn_and_continues_from_its_end(
    rotation, manager, ana, ben, cid, train
):
    running = turn_at(rotation, 2026, 3, 2, 10)
    rotation_update(
        actor=manager, rotation=rotation, now=NOW,
        **fields([ana, ben, cid], [train], handoff_weekday=3),
    )  # fmt: skip
    turns = list(rotation.turns.all()[:3])
    assert (turns[0].pk, turns[0].ends_at) == (running.pk, berlin(2026, 3, 9, 10))
    assert (turns[1].starts_at, turns[1].ends_at) == (
        berlin(2026, 3, 9, 10),
        berlin(2026, 3, 12, 10),
    )
    assert turns[2].starts_at.astimezone(BERLIN).strftime("%a %H:%M") == "Thu 10:00"


def test_only_managers_edit_or_delete_a_rotation(rotation, ana, ben, cid, outsider, train):
    for actor in (ana, outsider):
        with pytest.raises(PermissionDenied):
            rotation_update(actor=actor, rotation=rotation, now=NOW, **fields([cid, ana]))
        with pytest.raises(PermissionDenied):
            rotation_delete(actor=actor, rotation=rotation)
    assert holders(rotation)[:2] == ["ana", "ben"]


def test_deleting_a_rotation_leaves_its_trains_without_one(rotation, manager, train):
    captained = ReleaseFactory(train=train, slot=berlin(2026, 3, 3, 14), captain=manager)
    rotation_delete(actor=manager, rotation=rotation)
    assert Train.objects.get(pk=train.pk).rotation is None
    assert not RotationTurn.objects.exists()
    captained.refresh_from_db()
    assert captained.captain == manager


def test_a_train_taken_over_by_another_rotation_leaves_the_first(manager, team, ana, ben, train):
    first = rotation_create(
        actor=manager, team=team, now=NOW,
        **fields([ana], [train], turn_length="per_departure"),
    )  # fmt: skip
    assert first.turns.exists()
    second = rotation_create(
        actor=manager, team=team, now=NOW,
        **fields([ben], [train], name="Second", turn_length="per_departure"),
    )  # fmt: skip
    assert not first.turns.filter(starts_at__gt=NOW).exists()
    assert {t.captain for t in second.turns.all()} == {ben}


# --- cover ----------------------------------------------------------------------------------


def test_cover_beats_everything_and_the_release_in_flight_follows(
    rotation, manager, ben, dee, train
):
    turn = turn_at(rotation, 2026, 3, 9, 10)
    release = ReleaseFactory(train=train, slot=berlin(2026, 3, 10, 14), status="planned",
                             captain=ben)  # fmt: skip
    unavailability_add(
        actor=ben, user=ben, starts_at=berlin(2026, 3, 9), ends_at=berlin(2026, 3, 10), now=NOW
    )
    cover = cover_add(
        actor=manager, rotation=rotation, user=dee, starts_at=turn.starts_at,
        ends_at=turn.ends_at, reason="ben is at the offsite", now=NOW,
    )  # fmt: skip
    turn.refresh_from_db()
    assert (turn.captain, turn.source) == (dee, TurnSource.COVER)
    assert turn.reason == "Cover by Dee X: ben is at the offsite"
    release.refresh_from_db()
    assert release.captain == dee
    assert "Cover by Dee X" in release.events.filter(kind="captain").last().note

    cover_remove(actor=manager, cover=cover, now=NOW)
    turn.refresh_from_db()
    assert turn.source == TurnSource.SKIP and turn.captain.username == "cid"
    assert AuditEntry.objects.filter(action="rotation.cover_removed").exists()


def test_cover_is_refused_for_engineers_outsiders_non_members_and_backwards_periods(
    rotation, ana, dee, outsider
):
    period = {"starts_at": berlin(2026, 3, 9, 10), "ends_at": berlin(2026, 3, 16, 10)}
    for actor in (ana, outsider):
        with pytest.raises(PermissionDenied):
            cover_add(actor=actor, rotation=rotation, user=dee, now=NOW, **period)
    manager = rotation.created_by
    with pytest.raises(ValidationError) as error:
        cover_add(actor=manager, rotation=rotation, user=outsider, now=NOW, **period)
    assert "user" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        cover_add(actor=manager, rotation=rotation, user=dee, now=NOW,
                  starts_at=period["ends_at"], ends_at=period["starts_at"])  # fmt: skip
    assert "ends_at" in error.value.message_dict
    assert not CaptainCover.objects.exists()


# --- out of office ---------------------------------------------------------------------------


def test_an_out_of_office_member_is_skipped_with_the_reason(rotation, ben):
    away = unavailability_add(
        actor=ben, user=ben, starts_at=berlin(2026, 3, 12), ends_at=berlin(2026, 3, 14),
        reason="conference", now=NOW,
    )  # fmt: skip
    turn = turn_at(rotation, 2026, 3, 9, 10)
    assert (turn.captain.username, turn.source) == ("cid", TurnSource.SKIP)
    assert turn.reason == "Ben X is out of office (conference)"
    assert turn.member.username == "ben"
    # The sequence goes on from the rotation's pick: cid's own turn is next.
    assert turn_at(rotation, 2026, 3, 16, 10).captain.username == "cid"

    unavailability_remove(actor=ben, unavailability=away, now=NOW)
    assert turn_at(rotation, 2026, 3, 9, 10).captain.username == "ben"


def test_time_off_is_recorded_by_the_person_or_a_manager_of_their_team(
    rotation, manager, ana, ben, outsider
):
    period = {"starts_at": berlin(2026, 3, 12), "ends_at": berlin(2026, 3, 14), "now": NOW}
    for actor in (ana, outsider):
        with pytest.raises(PermissionDenied):
            unavailability_add(actor=actor, user=ben, **period)
    assert not Unavailability.objects.exists()
    away = unavailability_add(actor=manager, user=ben, **period)
    with pytest.raises(PermissionDenied):
        unavailability_remove(actor=ana, unavailability=away, now=NOW)
    unavailability_remove(actor=manager, unavailability=away, now=NOW)
    assert not Unavailability.objects.exists()


def test_nobody_eligible_is_flagged(manager, team, ana, ben):
    rotation = rotation_create(actor=manager, team=team, now=NOW, **fields([ana, ben]))
    for person in (ana, ben):
        unavailability_add(actor=person, user=person, starts_at=berlin(2026, 3, 10),
                           ends_at=berlin(2026, 3, 11), reason="flu", now=NOW)  # fmt: skip
    [warning] = rotation_warnings(rotation, now=NOW)
    assert warning.captain is None and warning.source == TurnSource.NOBODY
    assert "out of office (flu)" in warning.reason


# --- swaps -----------------------------------------------------------------------------------


@pytest.fixture
def bens_turn(rotation):
    return turn_at(rotation, 2026, 3, 9, 10)


@pytest.fixture
def swap(bens_turn, ben):
    return swap_open(actor=ben, turn=bens_turn, reason="Moving house", now=NOW)


def test_open_then_taken_hands_the_turn_over_and_in_flight_releases_follow(
    swap, bens_turn, ben, cid, train
):
    planned = ReleaseFactory(train=train, slot=berlin(2026, 3, 10, 14), status="planned",
                             captain=ben)  # fmt: skip
    released = ReleaseFactory(train=train, slot=berlin(2026, 3, 11, 14), status="released",
                              captain=ben)  # fmt: skip
    assert swap.state == SwapState.OPEN and swap.offered_by == ben
    taken = swap_take(actor=cid, swap=swap, now=NOW)
    assert (taken.state, taken.taken_by, taken.closed_at) == (SwapState.TAKEN, cid, NOW)
    bens_turn.refresh_from_db()
    assert (bens_turn.captain, bens_turn.source) == (cid, TurnSource.SWAP)
    assert bens_turn.reason == "Swap: Cid X took it from Ben X"
    planned.refresh_from_db()
    released.refresh_from_db()
    assert planned.captain == cid
    assert "Swap: Cid X took it from Ben X" in planned.events.get(kind="captain").note
    assert released.captain == ben and not released.events.exists()
    assert AuditEntry.objects.filter(action="rotation.swap_taken").exists()


def test_a_second_taker_is_told_who_took_it(swap, cid, ana):
    swap_take(actor=cid, swap=swap, now=NOW)
    with pytest.raises(ValidationError, match="already taken by Cid X"):
        swap_take(actor=ana, swap=swap, now=NOW)
    assert SwapRequest.objects.get(pk=swap.pk).taken_by == cid


def test_the_offerer_cannot_take_their_own_swap(swap, ben):
    with pytest.raises(ValidationError, match="someone else"):
        swap_take(actor=ben, swap=swap, now=NOW)
    assert SwapRequest.objects.get(pk=swap.pk).state == SwapState.OPEN


def test_a_taker_out_of_office_during_the_turn_is_refused_clearly(swap, cid, bens_turn):
    unavailability_add(actor=cid, user=cid, starts_at=berlin(2026, 3, 12),
                       ends_at=berlin(2026, 3, 13), reason="wedding", now=NOW)  # fmt: skip
    with pytest.raises(ValidationError, match=r"out of office \(wedding\)"):
        swap_take(actor=cid, swap=swap, now=NOW)
    assert SwapRequest.objects.get(pk=swap.pk).state == SwapState.OPEN


def test_outsiders_can_neither_see_nor_take_nor_withdraw_a_swap(swap, outsider, cid):
    with pytest.raises(PermissionDenied):
        swap_take(actor=outsider, swap=swap, now=NOW)
    with pytest.raises(PermissionDenied):
        swap_withdraw(actor=outsider, swap=swap, now=NOW)
    assert not open_swaps_for_user(outsider, now=NOW).exists()
    assert list(open_swaps_for_user(cid, now=NOW)) == [swap]
    assert not open_swaps_for_user(swap.offered_by, now=NOW).exists()
    assert SwapRequest.objects.get(pk=swap.pk).state == SwapState.OPEN


def test_open_then_withdrawn_by_the_offerer_or_a_manager_but_not_by_others(
    swap, ben, cid, manager, bens_turn
):
    with pytest.raises(PermissionDenied):
        swap_withdraw(actor=cid, swap=swap, now=NOW)
    withdrawn = swap_withdraw(actor=ben, swap=swap, now=NOW)
    assert withdrawn.state == SwapState.WITHDRAWN
    with pytest.raises(ValidationError, match="withdrawn"):
        swap_take(actor=cid, swap=swap, now=NOW)
    with pytest.raises(ValidationError):
        swap_withdraw(actor=ben, swap=swap, now=NOW)
    again = swap_open(actor=ben, turn=bens_turn, reason="Still moving", now=NOW)
    assert swap_withdraw(actor=manager, swap=again, now=NOW).state == SwapState.WITHDRAWN
    bens_turn.refresh_from_db()
    assert bens_turn.captain == ben


def test_open_then_expired_when_the_turn_starts_untaken(swap, bens_turn, cid):
    assert swaps_expire(bens_turn.starts_at - timedelta(minutes=1)) == 0
    assert swaps_expire(bens_turn.starts_at) == 1
    assert SwapRequest.objects.get(pk=swap.pk).state == SwapState.EXPIRED
    assert swaps_expire(bens_turn.starts_at) == 0
    with pytest.raises(ValidationError, match="expired"):
        swap_take(actor=cid, swap=swap, now=NOW)


def test_only_the_captain_offers_an_unstarted_turn_once_with_a_reason(
    rotation, bens_turn, ana, ben, outsider
):
    with pytest.raises(PermissionDenied):
        swap_open(actor=ana, turn=bens_turn, reason="Mine now", now=NOW)
    with pytest.raises(PermissionDenied):
        swap_open(actor=outsider, turn=bens_turn, reason="Mine now", now=NOW)
    with pytest.raises(ValidationError) as error:
        swap_open(actor=ben, turn=bens_turn, reason="  ", now=NOW)
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError, match="already started"):
        swap_open(actor=ana, turn=turn_at(rotation, 2026, 3, 2, 10), reason="Sick", now=NOW)
    swap_open(actor=ben, turn=bens_turn, reason="Moving house", now=NOW)
    with pytest.raises(ValidationError, match="already offered"):
        swap_open(actor=ben, turn=bens_turn, reason="Really", now=NOW)
    assert SwapRequest.objects.count() == 1


def test_a_manager_arranges_a_swap_an_engineer_cannot(bens_turn, swap, manager, ana, dee):
    with pytest.raises(PermissionDenied):
        swap_arrange(actor=ana, turn=bens_turn, taker=dee, reason="Ana says so", now=NOW)
    arranged = swap_arrange(actor=manager, turn=bens_turn, taker=dee, reason="Agreed at standup",
                            now=NOW)  # fmt: skip
    assert (arranged.state, arranged.taken_by, arranged.arranged_by) == (
        SwapState.TAKEN, dee, manager,
    )  # fmt: skip
    assert SwapRequest.objects.get(pk=swap.pk).state == SwapState.WITHDRAWN
    bens_turn.refresh_from_db()
    assert (bens_turn.captain, bens_turn.source) == (dee, TurnSource.SWAP)


def test_arranging_a_swap_with_someone_outside_the_team_is_refused(bens_turn, manager, outsider):
    with pytest.raises(ValidationError) as error:
        swap_arrange(actor=manager, turn=bens_turn, taker=outsider, reason="Help", now=NOW)
    assert "taker" in error.value.message_dict
    assert not SwapRequest.objects.exists()


def test_swap_notifications_are_sent_after_commit(
    bens_turn, ben, cid, monkeypatch, django_capture_on_commit_callbacks
):
    from releases import reminders

    sent = []
    monkeypatch.setattr(reminders, "swap_opened", lambda swap, now: sent.append(("open", now)))
    monkeypatch.setattr(reminders, "swap_taken", lambda swap, now: sent.append(("taken", now)))
    with django_capture_on_commit_callbacks(execute=True):
        swap = swap_open(actor=ben, turn=bens_turn, reason="Moving house", now=NOW)
        assert sent == []
    with django_capture_on_commit_callbacks(execute=True):
        swap_take(actor=cid, swap=swap, now=NOW)
    assert sent == [("open", NOW), ("taken", NOW)]


@pytest.mark.django_db(transaction=True)
def test_two_people_taking_a_swap_at_once_cannot_both_win():
    require(connection.vendor == "postgresql", "row-level concurrency needs PostgreSQL")
    team = TeamFactory(slug="race")
    manager = MembershipFactory(team=team, role="manager").user
    people = [MembershipFactory(team=team).user for _ in range(6)]
    rotation = rotation_create(actor=manager, team=team, now=NOW, **fields(people[:2]))
    turn = rotation.turns.get(starts_at=berlin(2026, 3, 9, 10))
    swap = swap_open(actor=people[1], turn=turn, reason="Away", now=NOW)
    takers = [people[0], *people[2:]]
    barrier = threading.Barrier(len(takers))
    won, lost, errors = [], [], []

    def take(person):
        try:
            fresh = SwapRequest.objects.get(pk=swap.pk)
            barrier.wait()
            swap_take(actor=person, swap=fresh, now=NOW)
            won.append(person)
        except ValidationError as exc:
            lost.append(exc.messages[0])
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(person,)) for person in takers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(won) == 1
    assert len(lost) == len(takers) - 1
    assert all(f"already taken by {won[0].display_name}" in message for message in lost)
    turn.refresh_from_db()
    assert turn.captain == won[0]


# --- handoff notes ---------------------------------------------------------------------------


def test_the_outgoing_captain_writes_a_handoff_note_the_incoming_one_sees(rotation, ana, ben):
    bens = turn_at(rotation, 2026, 3, 9, 10)
    handoff_note_write(actor=ana, turn=bens, text="  Payments SDK flag still at 10%.  ", now=NOW)
    seen = handoff_for_user(ben, now=NOW)
    assert seen.pk == bens.pk
    assert (seen.handoff_note, seen.handoff_note_by, seen.handoff_note_at) == (
        "Payments SDK flag still at 10%.", ana, NOW,
    )  # fmt: skip
    assert handoff_for_user(ana, now=NOW) is None


def test_only_the_outgoing_captain_or_a_manager_writes_the_handoff_note(
    rotation, manager, ben, cid, outsider
):
    bens = turn_at(rotation, 2026, 3, 9, 10)
    for actor in (cid, ben, outsider):
        with pytest.raises(PermissionDenied):
            handoff_note_write(actor=actor, turn=bens, text="Hi", now=NOW)
    handoff_note_write(actor=manager, turn=bens, text="From the manager", now=NOW)
    with pytest.raises(ValidationError) as error:
        handoff_note_write(actor=manager, turn=bens, text="x" * 4001, now=NOW)
    assert "text" in error.value.message_dict
    bens.refresh_from_db()
    assert bens.handoff_note == "From the manager"


def test_a_handoff_note_survives_replanning(rotation, ana, ben):
    bens = turn_at(rotation, 2026, 3, 9, 10)
    handoff_note_write(actor=ana, turn=bens, text="Watch the queue", now=NOW)
    unavailability_add(actor=ben, user=ben, starts_at=berlin(2026, 3, 10),
                       ends_at=berlin(2026, 3, 11), now=NOW)  # fmt: skip
    bens = turn_at(rotation, 2026, 3, 9, 10)
    assert bens.captain.username == "cid" and bens.handoff_note == "Watch the queue"
    assert handoff_for_user(bens.captain, now=NOW).pk == bens.pk


# --- reads -------------------------------------------------------------------------------------


def test_people_see_the_rotations_of_their_own_teams_only(rotation, ana, outsider):
    [seen] = rotations_for_user(ana)
    assert seen == rotation
    assert [m.user.username for m in seen.members.all()] == ["ana", "ben", "cid"]
    assert not rotations_for_user(outsider).exists()
