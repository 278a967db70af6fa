"""Rotation pages end to end through the views: the list, the form, the rotation page with its
swaps, cover and handoff note, and time off. Data is set up with the real services; the views
run at the real time, so the rotation starts a month ago and has a turn running now."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry
from releases.models import (
    CaptainCover,
    Rotation,
    RotationMember,
    RotationTurn,
    SwapRequest,
    SwapState,
    Train,
    TurnLength,
    TurnSource,
    Unavailability,
)
from releases.services import rotation_duty as duty_services
from releases.services import rotations as services
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
LOCAL = "%Y-%m-%dT%H:%M"
BERLIN = ZoneInfo("Europe/Berlin")


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def team():
    return TeamFactory(name="Checkout team", slug="checkout")


def person(team, username, first, role="engineer", tz="Europe/Berlin"):
    user = UserFactory(username=username, first_name=first, last_name="Test", timezone=tz)
    MembershipFactory(user=user, team=team, role=role)
    return user


@pytest.fixture
def manager(team):
    return person(team, "morgan", "Morgan", role="manager")


@pytest.fixture
def ana(team):
    return person(team, "ana", "Ana")


@pytest.fixture
def bob(team):
    return person(team, "bob", "Bob")


@pytest.fixture
def outsider():
    other = TeamFactory(name="Payments", slug="payments")
    return person(other, "olly", "Olly", role="manager")


@pytest.fixture
def train(team):
    return TrainFactory(team=team, name="Checkout Web", slug="checkout-web")


def make_rotation(team, manager, members, trains=(), **overrides):
    fields = {
        "name": "Web captains",
        "timezone": "Europe/Berlin",
        "turn_length": TurnLength.WEEKS,
        "weeks": 1,
        "handoff_weekday": 0,
        "handoff_time": "10:00",
        "starts_on": timezone.localdate() - timedelta(days=30),
        "member_ids": [member.pk for member in members],
        "train_ids": [t.pk for t in trains],
        **overrides,
    }
    return services.rotation_create(actor=manager, team=team, **fields)


@pytest.fixture
def rotation(team, manager, ana, bob, train):
    return make_rotation(team, manager, [ana, bob], [train])


def url(name, *args):
    return reverse(f"releases:{name}", args=args)


def upcoming(rotation, captain=None):
    """Turns that have not started, first first; optionally only those `captain` holds."""
    turns = RotationTurn.objects.filter(rotation=rotation, starts_at__gt=timezone.now())
    if captain is not None:
        turns = turns.filter(captain=captain)
    return list(turns.select_related("captain").order_by("starts_at"))


def current(rotation):
    now = timezone.now()
    return RotationTurn.objects.get(rotation=rotation, starts_at__lte=now, ends_at__gt=now)


def local(moment):
    """As a person in Berlin (every test user's timezone) types it into a datetime input."""
    return timezone.localtime(moment, BERLIN).strftime(LOCAL)


def world():
    """Everything these pages could write, to prove a refusal wrote nothing."""
    return (
        list(Rotation.objects.order_by("id").values_list("id", "name", "weeks", "turn_length")),
        list(RotationMember.objects.order_by("id").values_list("rotation", "user", "position")),
        list(RotationTurn.objects.order_by("id").values_list("id", "captain", "source")),
        list(CaptainCover.objects.order_by("id").values_list("id", "user", "ends_at")),
        list(SwapRequest.objects.order_by("id").values_list("id", "state", "taken_by")),
        list(Unavailability.objects.order_by("id").values_list("id", "user", "ends_at")),
        list(Train.objects.order_by("id").values_list("id", "rotation")),
        AuditEntry.objects.count(),
    )


def form_data(team, members, trains=(), **overrides):
    """What the rotation form posts: members ticked and numbered in the order given."""
    data = {
        "team": team.pk,
        "name": "Mobile captains",
        "timezone": "Europe/Berlin",
        "turn_length": "weeks",
        "weeks": "2",
        "handoff_weekday": "0",
        "handoff_time": "10:00",
        "starts_on": (timezone.localdate() - timedelta(days=3)).isoformat(),
        "trains": [t.pk for t in trains],
    }
    for position, member in enumerate(members, start=1):
        data[f"member_{member.pk}"] = "on"
        data[f"position_{member.pk}"] = str(position)
    data.update(overrides)
    return data


# --- the list ------------------------------------------------------------------------------------


def test_list_groups_rotations_by_team_with_turns_trains_captain_and_handoff(
    client, rotation, ana, train, outsider
):
    make_rotation(outsider.teams.get(), outsider, [outsider], name="Payments captains")
    client.force_login(ana)

    response = client.get(url("rotation_list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Checkout team" in html and "Payments" not in html
    assert f'href="{rotation.get_absolute_url()}"' in html
    assert "Every week, Mondays 10:00 Europe/Berlin" in html
    assert train.get_absolute_url() in html
    captain = current(rotation).captain
    assert captain.display_name in html
    assert f'datetime="{current(rotation).ends_at.isoformat()}"' in html  # the next handoff
    assert url("rotation_create") not in html  # engineers do not create rotations
    assert url("rotation_time_off") in html


def test_list_offers_new_rotation_to_managers_and_flags_turns_without_a_captain(
    client, rotation, manager, ana, bob
):
    # Both members away next week: nobody is eligible for that turn.
    soon = upcoming(rotation)[0]
    for member in (ana, bob):
        duty_services.unavailability_add(
            actor=member, user=member, starts_at=soon.starts_at, ends_at=soon.ends_at
        )
    client.force_login(manager)

    html = client.get(url("rotation_list")).content.decode()

    assert url("rotation_create") in html
    assert "1 turn without a captain" in html


def test_list_empty_states(client, team, manager):
    client.force_login(UserFactory(username="loner"))
    assert "You are not in a team yet" in client.get(url("rotation_list")).content.decode()

    client.force_login(manager)
    html = client.get(url("rotation_list")).content.decode()
    assert "No rotations yet" in html
    assert "Create the first rotation" in html


def test_train_list_links_to_rotations(client, ana):
    client.force_login(ana)
    html = client.get(url("train_list")).content.decode()
    assert f'href="{url("rotation_list")}"' in html


# --- creating, editing and deleting --------------------------------------------------------------


def test_manager_creates_a_rotation_with_members_in_order_and_trains(
    client, team, manager, ana, bob, train
):
    client.force_login(manager)
    page = client.get(url("rotation_create")).content.decode()
    assert f'name="member_{ana.pk}"' in page and f'name="position_{bob.pk}"' in page
    assert 'name="trains"' in page and "Checkout Web" in page

    response = client.post(url("rotation_create"), form_data(team, [bob, ana], [train]))

    rotation = Rotation.objects.get(team=team, name="Mobile captains")
    assert response.status_code == 302
    assert response["Location"] == rotation.get_absolute_url()
    assert list(rotation.members.order_by("position").values_list("user", flat=True)) == [
        bob.pk,
        ana.pk,
    ]
    assert rotation.weeks == 2
    train.refresh_from_db()
    assert train.rotation == rotation
    assert RotationTurn.objects.filter(rotation=rotation).exists()


def test_positions_decide_the_order_and_unticked_people_stay_out(client, team, manager, ana, bob):
    client.force_login(manager)
    data = form_data(team, [ana, bob], turn_length="per_departure")
    data[f"position_{ana.pk}"] = "5"
    data[f"position_{bob.pk}"] = "2"
    data[f"member_{manager.pk}"] = ""  # Morgan is listed but not ticked
    data[f"position_{manager.pk}"] = "1"

    client.post(url("rotation_create"), data)

    rotation = Rotation.objects.get(name="Mobile captains")
    assert rotation.turn_length == TurnLength.PER_DEPARTURE
    assert list(rotation.members.order_by("position").values_list("user", flat=True)) == [
        bob.pk,
        ana.pk,
    ]


def test_a_manager_of_several_teams_picks_the_team_first(client, team, manager, ana):
    second = TeamFactory(name="Search team", slug="search")
    MembershipFactory(user=manager, team=second, role="manager")
    sam = person(second, "sam", "Sam")
    client.force_login(manager)

    html = client.get(url("rotation_create")).content.decode()
    assert 'id="rot-team-picker"' in html
    assert f'name="member_{ana.pk}"' in html and f'name="member_{sam.pk}"' not in html

    html = client.get(url("rotation_create") + "?team=search").content.decode()
    assert f'name="member_{sam.pk}"' in html and f'name="member_{ana.pk}"' not in html


def test_bad_input_is_422_with_errors_next_to_the_fields_and_writes_nothing(
    client, team, manager, ana, rotation
):
    client.force_login(manager)
    before = world()

    no_members = form_data(team, [], name="")
    response = client.post(url("rotation_create"), no_members)
    html = response.content.decode()
    assert response.status_code == 422
    assert "Choose at least one member for the rotation." in html
    assert "This field is required." in html  # the name

    weeks = client.post(url("rotation_create"), form_data(team, [ana], weeks="13"))
    assert weeks.status_code == 422
    assert "A turn lasts at most 12 weeks." in weeks.content.decode()

    # The service has the last word: the team already has a rotation of that name.
    taken = client.post(url("rotation_create"), form_data(team, [ana], name="web captains"))
    assert taken.status_code == 422
    assert "already has a rotation called" in taken.content.decode()
    assert taken.context["form"].errors["name"]
    assert world() == before


def test_engineers_cannot_create_or_edit_rotations(client, team, ana, bob, rotation):
    client.force_login(ana)
    before = world()

    assert client.get(url("rotation_create")).status_code == 403
    response = client.post(url("rotation_create"), form_data(team, [ana, bob]))
    assert response.status_code == 403
    assert "Only a manager of a team can create rotations." in response.content.decode()
    assert client.get(url("rotation_edit", rotation.pk)).status_code == 403
    edit = client.post(url("rotation_edit", rotation.pk), form_data(team, [bob, ana]))
    assert edit.status_code == 403
    assert client.get(url("rotation_delete", rotation.pk)).status_code == 403
    assert client.post(url("rotation_delete", rotation.pk)).status_code == 403
    assert world() == before


def test_another_teams_rotation_is_404_everywhere(client, rotation, outsider, ana):
    turn = upcoming(rotation, captain=ana)[0]
    swap = duty_services.swap_open(actor=ana, turn=turn, reason="Dentist")
    client.force_login(outsider)
    before = world()

    for name, args in [
        ("rotation_detail", (rotation.pk,)),
        ("rotation_edit", (rotation.pk,)),
        ("rotation_delete", (rotation.pk,)),
    ]:
        assert client.get(url(name, *args)).status_code == 404
    for name, args in [
        ("rotation_edit", (rotation.pk,)),
        ("rotation_delete", (rotation.pk,)),
        ("rotation_cover_add", (rotation.pk,)),
        ("rotation_swap_arrange", (rotation.pk,)),
        ("rotation_swap_offer", (rotation.pk, turn.pk)),
        ("rotation_swap_take", (rotation.pk, swap.pk)),
        ("rotation_swap_withdraw", (rotation.pk, swap.pk)),
        ("rotation_handoff_note", (rotation.pk, turn.pk)),
    ]:
        assert client.post(url(name, *args), {"reason": "x", "text": "x"}).status_code == 404
    assert world() == before


def test_edit_says_when_changes_apply_and_keeps_started_turns(client, team, manager, ana, bob):
    rotation = make_rotation(team, manager, [ana, bob])
    running = current(rotation)
    client.force_login(manager)

    page = client.get(url("rotation_edit", rotation.pk)).content.decode()
    assert (
        "Changes apply from the next turn; turns that have started and releases already cut "
        "keep their captain." in page
    )
    assert 'value="Web captains"' in page

    response = client.post(
        url("rotation_edit", rotation.pk), form_data(team, [bob, ana], name="Web captains")
    )

    assert response.status_code == 302
    rotation.refresh_from_db()
    assert rotation.weeks == 2
    assert list(rotation.members.order_by("position").values_list("user", flat=True)) == [
        bob.pk,
        ana.pk,
    ]
    kept = RotationTurn.objects.get(pk=running.pk)
    assert (kept.captain_id, kept.starts_at) == (running.captain_id, running.starts_at)


def test_delete_asks_naming_the_rotation_then_deletes(client, manager, rotation, train):
    client.force_login(manager)

    page = client.get(url("rotation_delete", rotation.pk)).content.decode()
    assert "Delete the rotation “Web captains”?" in page
    assert train.get_absolute_url() in page

    response = client.post(url("rotation_delete", rotation.pk))

    assert response.status_code == 302 and response["Location"] == url("rotation_list")
    assert not Rotation.objects.filter(pk=rotation.pk).exists()
    train.refresh_from_db()
    assert train.rotation is None


# --- the rotation page ---------------------------------------------------------------------------


def test_page_shows_captain_now_next_turns_members_and_skips_with_their_reason(
    client, rotation, ana, bob
):
    ana_next = upcoming(rotation, captain=ana)[0]
    duty_services.unavailability_add(
        actor=ana,
        user=ana,
        starts_at=ana_next.starts_at,
        ends_at=ana_next.ends_at,
        reason="holiday",
    )
    bob.timezone = "America/New_York"
    bob.save()
    client.force_login(bob)

    response = client.get(url("rotation_detail", rotation.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Captain now" in html
    now_turn = current(rotation)
    assert f'datetime="{now_turn.ends_at.isoformat()}"' in html
    assert "rotation time" in html  # Bob's timezone differs from the rotation's
    assert len(response.context["turn_rows"]) == 8
    assert "Ana Test is out of office (holiday) → Bob Test" in html
    assert html.index("Members in order") < html.index("Ana Test</li>")
    assert url("rotation_time_off") in html
    assert url("rotation_edit", rotation.pk) not in html  # an engineer


def test_page_flags_turns_nobody_is_eligible_for(client, rotation, ana, bob):
    soon = upcoming(rotation)[0]
    for member in (ana, bob):
        duty_services.unavailability_add(
            actor=member, user=member, starts_at=soon.starts_at, ends_at=soon.ends_at
        )
    client.force_login(ana)

    html = client.get(url("rotation_detail", rotation.pk)).content.decode()

    assert 'id="warnings"' in html
    assert "1 turn in the next two weeks without a captain" in html
    assert "Nobody eligible" in html


def test_page_queries_do_not_grow_with_members_turns_or_covers(
    client, team, manager, ana, bob, train
):
    rotation = make_rotation(team, manager, [ana, bob], [train])
    turns = upcoming(rotation)

    def cover(turn, who):
        duty_services.cover_add(
            actor=manager,
            rotation=rotation,
            user=who,
            starts_at=turn.starts_at,
            ends_at=turn.ends_at,
            reason="Conference",
        )

    # One of everything, so that only the numbers change below.
    cover(turns[1], manager)
    duty_services.swap_open(actor=ana, turn=upcoming(rotation, captain=ana)[0], reason="Dentist")
    client.force_login(manager)
    client.get(url("rotation_detail", rotation.pk))  # warm up session and caches

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("rotation_detail", rotation.pk)).status_code == 200
        return len(queries)

    before = count()
    extra = [person(team, f"member{n}", f"Member{n}") for n in range(5)]
    services.rotation_update(
        actor=manager,
        rotation=rotation,
        name=rotation.name,
        timezone=rotation.timezone,
        turn_length=rotation.turn_length,
        weeks=rotation.weeks,
        handoff_weekday=rotation.handoff_weekday,
        handoff_time=rotation.handoff_time,
        starts_on=rotation.starts_on,
        member_ids=[ana.pk, bob.pk, *(member.pk for member in extra)],
        train_ids=[train.pk],
    )
    for turn, who in zip(turns[2:6], extra, strict=False):
        cover(turn, who)
    later = upcoming(rotation, captain=bob)[-1]
    duty_services.swap_open(actor=bob, turn=later, reason="Wedding")
    duty_services.unavailability_add(
        actor=ana, user=ana, starts_at=turns[6].starts_at, ends_at=turns[6].ends_at
    )

    after = count()
    assert after == before
    assert before <= 14  # session, user, rotation (+members, trains), role, turns, swaps, …


# --- swaps ---------------------------------------------------------------------------------------


def test_the_captain_offers_a_turn_with_a_reason(client, rotation, ana):
    turn = upcoming(rotation, captain=ana)[0]
    client.force_login(ana)
    page = client.get(url("rotation_detail", rotation.pk)).content.decode()
    assert url("rotation_swap_offer", rotation.pk, turn.pk) in page

    response = client.post(
        url("rotation_swap_offer", rotation.pk, turn.pk), {"reason": "Dentist"}, **HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="rotation-live"' in html
    swap = SwapRequest.objects.get(turn=turn)
    assert (swap.state, swap.offered_by, swap.reason) == (SwapState.OPEN, ana, "Dentist")
    assert "“Dentist”" in html
    assert url("rotation_swap_withdraw", rotation.pk, swap.pk) in html


def test_an_offer_needs_a_reason_and_only_the_captain_can_make_it(client, rotation, ana, bob):
    turn = upcoming(rotation, captain=ana)[0]
    before = world()
    client.force_login(ana)

    fragment = client.post(url("rotation_swap_offer", rotation.pk, turn.pk), {}, **HTMX)
    page = client.post(url("rotation_swap_offer", rotation.pk, turn.pk), {"reason": " "})

    assert fragment.status_code == page.status_code == 422
    assert "Say why you offer the turn." in fragment.content.decode()
    assert "<html" not in fragment.content.decode() and "<html" in page.content.decode()

    client.force_login(bob)
    response = client.post(url("rotation_swap_offer", rotation.pk, turn.pk), {"reason": "Mine"})
    assert response.status_code == 403
    assert "Only the captain of this turn can offer it" in response.content.decode()
    assert world() == before


def test_another_member_takes_the_swap_and_becomes_captain(client, rotation, ana, bob):
    turn = upcoming(rotation, captain=ana)[0]
    swap = duty_services.swap_open(actor=ana, turn=turn, reason="Dentist")
    client.force_login(bob)
    page = client.get(url("rotation_detail", rotation.pk)).content.decode()
    assert url("rotation_swap_take", rotation.pk, swap.pk) in page
    assert url("rotation_swap_withdraw", rotation.pk, swap.pk) not in page

    response = client.post(url("rotation_swap_take", rotation.pk, swap.pk), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "You took" in html and "You are its captain now." in html
    swap.refresh_from_db()
    assert (swap.state, swap.taken_by) == (SwapState.TAKEN, bob)
    turn.refresh_from_db()
    assert (turn.captain, turn.source) == (bob, TurnSource.SWAP)
    assert "Swap: Bob Test took it from Ana Test" in html


def test_taking_your_own_swap_is_refused_with_a_clear_message(client, rotation, ana):
    turn = upcoming(rotation, captain=ana)[0]
    swap = duty_services.swap_open(actor=ana, turn=turn, reason="Dentist")
    client.force_login(ana)
    before = world()
    page = client.get(url("rotation_detail", rotation.pk)).content.decode()
    assert url("rotation_swap_take", rotation.pk, swap.pk) not in page  # no button for it

    response = client.post(url("rotation_swap_take", rotation.pk, swap.pk))
    assert response.status_code == 409
    assert "You offered this turn; someone else has to take it." in response.content.decode()

    htmx = client.post(url("rotation_swap_take", rotation.pk, swap.pk), **HTMX)
    assert htmx.status_code == 409 and htmx["HX-Refresh"] == "true"
    assert world() == before


def test_the_offerer_withdraws_the_swap(client, rotation, ana):
    turn = upcoming(rotation, captain=ana)[0]
    swap = duty_services.swap_open(actor=ana, turn=turn, reason="Dentist")
    client.force_login(ana)

    response = client.post(url("rotation_swap_withdraw", rotation.pk, swap.pk))

    assert response.status_code == 302
    assert response["Location"] == rotation.get_absolute_url() + "#swaps"
    swap.refresh_from_db()
    assert swap.state == SwapState.WITHDRAWN
    page = client.get(response["Location"]).content.decode()
    assert "Withdrew the offer" in page


def test_a_manager_arranges_a_swap_and_engineers_cannot(client, rotation, manager, ana, bob):
    turn = upcoming(rotation, captain=ana)[0]
    data = {"turn": turn.pk, "taker": bob.pk, "reason": "Ana is at the offsite"}
    client.force_login(bob)
    before = world()
    assert client.post(url("rotation_swap_arrange", rotation.pk), data).status_code == 403
    assert world() == before

    client.force_login(manager)
    response = client.post(url("rotation_swap_arrange", rotation.pk), data, **HTMX)

    assert response.status_code == 200
    assert "Bob Test holds" in response.content.decode()
    turn.refresh_from_db()
    assert turn.captain == bob
    assert SwapRequest.objects.get(turn=turn).arranged_by == manager


# --- cover ---------------------------------------------------------------------------------------


def test_a_manager_assigns_cover_for_a_period(client, rotation, manager, ana):
    turn = upcoming(rotation)[1]
    client.force_login(manager)

    response = client.post(
        url("rotation_cover_add", rotation.pk),
        {
            "user": manager.pk,
            "starts_at": local(turn.starts_at),
            "ends_at": local(turn.ends_at),
            "reason": "Conference week",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == rotation.get_absolute_url() + "#covers"
    cover = CaptainCover.objects.get(rotation=rotation)
    assert (cover.user, cover.starts_at, cover.reason) == (
        manager,
        turn.starts_at,
        "Conference week",
    )
    turn.refresh_from_db()
    assert (turn.captain, turn.source) == (manager, TurnSource.COVER)
    page = client.get(response["Location"]).content.decode()
    assert "Cover by Morgan Test: Conference week" in page


def test_a_manager_assigns_cover_for_one_turn_with_htmx(client, rotation, manager, bob):
    turn = upcoming(rotation)[2]
    client.force_login(manager)

    response = client.post(
        url("rotation_cover_add", rotation.pk), {"user": bob.pk, "turn": turn.pk}, **HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    cover = CaptainCover.objects.get(rotation=rotation)
    assert (cover.starts_at, cover.ends_at) == (turn.starts_at, turn.ends_at)
    assert "Bob Test covers from" in html
    assert url("rotation_cover_remove", rotation.pk, cover.pk) in html


def test_cover_ending_before_it_starts_is_refused_and_writes_nothing(client, rotation, manager):
    start = timezone.now() + timedelta(days=3)
    client.force_login(manager)
    before = world()

    data = {"user": manager.pk, "starts_at": local(start), "ends_at": local(start - timedelta(1))}
    fragment = client.post(url("rotation_cover_add", rotation.pk), data, **HTMX)
    empty = client.post(url("rotation_cover_add", rotation.pk), {"user": manager.pk})

    assert fragment.status_code == empty.status_code == 422
    assert "The end must come after the start." in fragment.content.decode()
    assert "Give a date and time, or choose one turn." in empty.content.decode()
    assert world() == before


def test_engineers_cannot_assign_or_remove_cover(client, rotation, manager, ana):
    turn = upcoming(rotation)[1]
    cover = duty_services.cover_add(
        actor=manager,
        rotation=rotation,
        user=manager,
        starts_at=turn.starts_at,
        ends_at=turn.ends_at,
    )
    client.force_login(ana)
    before = world()
    data = {"user": ana.pk, "turn": turn.pk}

    page = client.post(url("rotation_cover_add", rotation.pk), data)
    assert page.status_code == 403
    assert "Only a manager of this team can assign cover." in page.content.decode()
    htmx = client.post(url("rotation_cover_add", rotation.pk), data, **HTMX)
    assert htmx.status_code == 403 and htmx["HX-Refresh"] == "true"
    assert client.get(url("rotation_cover_remove", rotation.pk, cover.pk)).status_code == 403
    assert client.post(url("rotation_cover_remove", rotation.pk, cover.pk)).status_code == 403
    assert world() == before


def test_removing_cover_asks_naming_it_then_removes(client, rotation, manager, bob):
    turn = upcoming(rotation)[1]
    cover = duty_services.cover_add(
        actor=manager,
        rotation=rotation,
        user=bob,
        starts_at=turn.starts_at,
        ends_at=turn.ends_at,
    )
    client.force_login(manager)

    page = client.get(url("rotation_cover_remove", rotation.pk, cover.pk)).content.decode()
    assert "Remove Bob Test’s cover of Web captains?" in page

    response = client.post(url("rotation_cover_remove", rotation.pk, cover.pk), **HTMX)

    assert response.status_code == 200
    assert "Removed the cover by Bob Test." in response.content.decode()
    assert not CaptainCover.objects.exists()


# --- the handoff note ----------------------------------------------------------------------------


def test_the_current_captain_writes_the_handoff_note_everyone_sees(client, rotation, manager):
    captain = current(rotation).captain
    following = upcoming(rotation)[0]
    client.force_login(captain)
    page = client.get(url("rotation_detail", rotation.pk)).content.decode()
    assert url("rotation_handoff_note", rotation.pk, following.pk) in page

    response = client.post(
        url("rotation_handoff_note", rotation.pk, following.pk),
        {"text": "Payments migration half done"},
        **HTMX,
    )

    assert response.status_code == 200
    assert "Saved the handoff note" in response.content.decode()
    following.refresh_from_db()
    assert (following.handoff_note, following.handoff_note_by) == (
        "Payments migration half done",
        captain,
    )
    client.force_login(manager)
    assert (
        "Payments migration half done"
        in client.get(url("rotation_detail", rotation.pk)).content.decode()
    )


def test_only_the_outgoing_captain_or_a_manager_writes_the_note(client, rotation, ana, bob):
    following = upcoming(rotation)[0]
    other = bob if current(rotation).captain == ana else ana
    client.force_login(other)
    before = world()
    page = client.get(url("rotation_detail", rotation.pk)).content.decode()
    assert url("rotation_handoff_note", rotation.pk, following.pk) not in page

    response = client.post(
        url("rotation_handoff_note", rotation.pk, following.pk), {"text": "Sneaky"}
    )

    assert response.status_code == 403
    following.refresh_from_db()
    assert following.handoff_note == ""
    assert world() == before


# --- time off ------------------------------------------------------------------------------------


def test_time_off_lists_and_adds_your_own(client, rotation, ana):
    start = timezone.now() + timedelta(days=20)
    client.force_login(ana)
    page = client.get(url("rotation_time_off")).content.decode()
    assert "No time off planned" in page
    assert 'name="user"' not in page  # engineers add time off for themselves only

    response = client.post(
        url("rotation_time_off"),
        {"starts_at": local(start), "ends_at": local(start + timedelta(days=7)), "reason": "Hike"},
    )

    assert response.status_code == 302 and response["Location"] == url("rotation_time_off")
    away = Unavailability.objects.get(user=ana)
    assert (away.reason, away.created_by) == ("Hike", ana)
    page = client.get(url("rotation_time_off")).content.decode()
    assert "Hike" in page and url("rotation_time_off_remove", away.pk) in page


def test_time_off_with_htmx_and_bad_input(client, ana):
    start = timezone.now() + timedelta(days=2)
    client.force_login(ana)
    before = world()

    bad = client.post(
        url("rotation_time_off"),
        {"starts_at": local(start), "ends_at": local(start - timedelta(hours=1))},
        **HTMX,
    )
    assert bad.status_code == 422
    assert "The end must come after the start." in bad.content.decode()
    assert world() == before

    good = client.post(
        url("rotation_time_off"),
        {"starts_at": local(start), "ends_at": local(start + timedelta(days=1))},
        **HTMX,
    )
    html = good.content.decode()
    assert good.status_code == 200 and "<html" not in html and 'id="time-off"' in html
    assert "You are away from" in html
    assert Unavailability.objects.filter(user=ana).count() == 1


def test_a_manager_adds_time_off_for_a_team_member(client, manager, bob, outsider):
    start = timezone.now() + timedelta(days=5)
    client.force_login(manager)
    page = client.get(url("rotation_time_off")).content.decode()
    assert 'name="user"' in page and "Bob Test" in page and "Olly" not in page

    response = client.post(
        url("rotation_time_off"),
        {
            "user": bob.pk,
            "starts_at": local(start),
            "ends_at": local(start + timedelta(days=2)),
            "reason": "Parental leave",
        },
    )

    assert response.status_code == 302
    away = Unavailability.objects.get(user=bob)
    assert away.created_by == manager
    page = client.get(url("rotation_time_off")).content.decode()
    assert "Your teams’ time off" in page and "Parental leave" in page

    refused = client.post(
        url("rotation_time_off"),
        {"user": outsider.pk, "starts_at": local(start), "ends_at": local(start + timedelta(1))},
    )
    assert refused.status_code == 422
    assert not Unavailability.objects.filter(user=outsider).exists()


def test_removing_your_time_off_asks_naming_it(client, ana):
    start = timezone.now() + timedelta(days=3)
    away = duty_services.unavailability_add(
        actor=ana, user=ana, starts_at=start, ends_at=start + timedelta(days=2), reason="Wedding"
    )
    client.force_login(ana)

    page = client.get(url("rotation_time_off_remove", away.pk)).content.decode()
    assert "Remove your time off “Wedding”?" in page

    response = client.post(url("rotation_time_off_remove", away.pk), **HTMX)

    assert response.status_code == 200
    assert "Removed your time off" in response.content.decode()
    assert not Unavailability.objects.exists()


def test_someone_elses_time_off_is_refused(client, ana, bob, outsider):
    start = timezone.now() + timedelta(days=3)
    away = duty_services.unavailability_add(
        actor=bob, user=bob, starts_at=start, ends_at=start + timedelta(days=2)
    )
    before = world()

    client.force_login(ana)  # a teammate, but not a manager
    assert client.get(url("rotation_time_off_remove", away.pk)).status_code == 403
    assert client.post(url("rotation_time_off_remove", away.pk)).status_code == 403
    client.force_login(outsider)  # another team
    assert client.get(url("rotation_time_off_remove", away.pk)).status_code == 404
    assert client.post(url("rotation_time_off_remove", away.pk)).status_code == 404
    assert world() == before


def test_time_off_pages_beyond_fifty(client, ana):
    start = timezone.now() + timedelta(days=1)
    Unavailability.objects.bulk_create(
        Unavailability(
            user=ana,
            starts_at=start + timedelta(days=n),
            ends_at=start + timedelta(days=n, hours=8),
            reason=f"Day {n}",
        )
        for n in range(51)
    )
    client.force_login(ana)

    first = client.get(url("rotation_time_off")).content.decode()
    second = client.get(url("rotation_time_off") + "?page=2").content.decode()

    assert "Page 1 of 2" in first and "Day 49" in first and "Day 50" not in first
    assert "Day 50" in second


def test_the_rotation_list_costs_the_same_queries_however_many_rotations(
    client, team, manager, ana, bob, rotation
):
    client.force_login(manager)
    client.get(url("rotation_list"))  # warm up session and caches

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("rotation_list")).status_code == 200
        return len(queries)

    before = count()
    for index in range(3):
        make_rotation(team, manager, [bob, ana], name=f"Extra {index}")
    assert count() == before


def test_the_release_page_says_whose_turn_it_is(client, manager, ana, bob, train, rotation):
    turn = upcoming(rotation)[0]
    release = ReleaseFactory(
        train=train, version="9.1.0", status="cut", slot=turn.starts_at + timedelta(hours=1),
        captain=turn.captain,
    )  # fmt: skip
    client.force_login(manager)
    html = client.get(release.get_absolute_url()).content.decode()
    assert f'Their turn on <a href="{rotation.get_absolute_url()}">Web captains</a>' in html

    other = bob if turn.captain == ana else ana
    release.captain = other
    release.save()
    html = client.get(release.get_absolute_url()).content.decode()
    assert "Assigned by hand;" in html
    assert f"has {turn.captain.display_name} for this departure" in html
