"""The dashboard's "Your captain duty" card: the current or next turn, its releases in flight, the
handoff note left for the viewer, swaps they could take, the empty state, the refusals (nothing
of teams the viewer is not in) and a query count that does not grow with what there is."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership
from releases.models import RotationTurn, TurnLength
from releases.services.rotation_duty import handoff_note_write, swap_open
from releases.services.rotations import rotation_create
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory, UnavailabilityFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # Tuesday 10:00 Berlin
TUE_10 = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
# Weekly turns hand off on Mondays at 10:00 Berlin: Casey 9–16 March, Dana 16–23, Casey 23–30...
MON_16 = datetime(2026, 3, 16, 9, tzinfo=UTC)
MON_23 = datetime(2026, 3, 23, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def team():
    return TeamFactory(slug="checkout", name="Checkout")


def person(team, username, first, last, role="engineer"):
    user = UserFactory(
        username=username, first_name=first, last_name=last, timezone="Europe/Berlin"
    )
    return MembershipFactory(user=user, team=team, role=role).user


@pytest.fixture
def manager(team):
    return person(team, "mia", "Mia", "Manager", role="manager")


@pytest.fixture
def casey(team):
    return person(team, "casey", "Casey", "Carter")


@pytest.fixture
def dana(team):
    return person(team, "dana", "Dana", "Diaz")


@pytest.fixture
def train(team):
    return TrainFactory(team=team, name="Checkout Web", slug="web", handled_through=NOW)


@pytest.fixture
def rotation(manager, casey, dana, train):
    return rotate(manager, [train], [casey, dana])


def rotate(manager, trains, members, *, name="Web captains"):
    return rotation_create(
        actor=manager,
        team=trains[0].team,
        name=name,
        timezone="Europe/Berlin",
        turn_length=TurnLength.WEEKS,
        weeks=1,
        handoff_weekday=0,
        handoff_time="10:00",
        starts_on=date(2026, 3, 2),
        member_ids=[m.pk for m in members],
        train_ids=[t.pk for t in trains],
        now=NOW,
    )


def card(client, user) -> str:
    """The duty card's HTML on the viewer's dashboard."""
    client.force_login(user)
    page = client.get("/").content.decode()
    start = page.index('id="captain-duty"')
    return page[start : page.index("</section>", start)]


def reltime(moment) -> str:
    return f'<time datetime="{moment.isoformat()}" data-relative'


def test_the_captain_on_duty_sees_until_when_and_their_releases(client, casey, train, rotation):
    release = ReleaseFactory(
        train=train, slot=TUE_10, cut_at=TUE_10, version="4.12.0", status="stabilizing"
    )
    assert release.captain is None  # made by the factory, not by the cut
    finished = ReleaseFactory(
        train=train, slot=None, kind="adhoc", version="4.11.9", status="released", captain=casey
    )
    html = card(client, casey)
    assert "You are captain for" in html and "Web captains</a>; you hand off" in html
    assert reltime(MON_16) in html  # relative in the browser, absolute on hover
    assert "Mon 9 Mar, 10:00 – Mon 16 Mar, 10:00 CET" in html  # in the viewer's timezone
    assert f'href="{rotation.get_absolute_url()}"' in html
    assert f'href="{release.get_absolute_url()}"' in html and "Checkout Web 4.12.0" in html
    assert finished.version not in html
    assert "Leave a handoff note for the next captain" in html


def test_times_are_in_the_viewers_timezone_with_the_rotations_where_it_differs(
    client, casey, rotation
):
    casey.timezone = "America/New_York"
    casey.save(update_fields=["timezone"])
    html = card(client, casey)
    assert "Mon 9 Mar, 05:00 – Mon 16 Mar, 05:00 EDT" in html
    assert "(Mon 10:00 – Mon 10:00 CET in Europe/Berlin)" in html


def test_the_next_captain_sees_their_turn_and_the_handoff_note(
    client, casey, dana, train, rotation
):
    html = card(client, dana)
    assert "Your next turn:" in html and reltime(MON_16) in html
    assert "No handoff note for your turn yet." in html
    turn = RotationTurn.objects.get(rotation=rotation, starts_at=MON_16)
    handoff_note_write(
        actor=casey, turn=turn, text="Payments flag at 50%.\nWatch the EU shard.", now=NOW
    )
    html = card(client, dana)
    assert "Payments flag at 50%.<br>Watch the EU shard." in html
    assert "From Casey Carter" in html and reltime(NOW) in html


def test_a_note_for_a_later_turn_says_which_turn_it_is_for(client, casey, dana, rotation):
    later = RotationTurn.objects.get(rotation=rotation, starts_at=MON_23)  # Casey's next one
    handoff_note_write(actor=dana, turn=later, text="Quiet week.", now=NOW)
    html = card(client, casey)
    assert "You are captain for" in html  # the current turn
    assert "Handoff note for your turn starting " + reltime(MON_23) in html
    assert "Quiet week." in html


def test_open_swaps_the_viewer_could_take(client, manager, casey, dana, rotation):
    turn = RotationTurn.objects.get(rotation=rotation, starts_at=MON_16)
    swap = swap_open(actor=dana, turn=turn, reason="Conference in Lisbon", now=NOW)
    html = card(client, casey)
    assert "Turns offered for a swap" in html
    assert "Dana Diaz</strong> offers Web captains" in html and "Conference in Lisbon" in html
    assert f'href="{rotation.get_absolute_url()}#swap-{swap.pk}"' in html
    # Any member of the team could take it; whoever offered it cannot.
    assert "Conference in Lisbon" in card(client, manager)
    assert "Conference in Lisbon" not in card(client, dana)


def test_no_swaps_for_a_turn_the_viewer_is_away_for(client, casey, dana, rotation):
    turn = RotationTurn.objects.get(rotation=rotation, starts_at=MON_16)
    swap_open(actor=dana, turn=turn, reason="Conference in Lisbon", now=NOW)
    UnavailabilityFactory(user=casey, starts_at=MON_16, ends_at=MON_23, reason="Holiday")
    assert "Conference in Lisbon" not in card(client, casey)


def test_the_empty_state_when_the_viewer_is_on_no_rotation(client, team):
    loner = person(team, "lee", "Lee", "Loner")
    html = card(client, loner)
    assert "You are not on a captain rotation" in html
    assert 'href="/rotations/"' in html


def test_a_member_with_no_turn_planned_is_pointed_to_their_rotation(
    client, manager, casey, team, train
):
    rotation = rotate(manager, [train], [casey])
    RotationTurn.objects.filter(rotation=rotation).delete()
    html = card(client, casey)
    assert "No turn of yours is planned yet in" in html
    assert f'href="{rotation.get_absolute_url()}"' in html


def test_nothing_of_teams_the_viewer_is_not_in(client, casey, dana, team, train, rotation):
    turn = RotationTurn.objects.get(rotation=rotation, starts_at=MON_16)
    swap_open(actor=dana, turn=turn, reason="Conference in Lisbon", now=NOW)
    ReleaseFactory(train=train, slot=TUE_10, cut_at=TUE_10, status="stabilizing", captain=casey)
    outsider = person(TeamFactory(slug="other", name="Other"), "olly", "Olly", "Outsider")
    html = card(client, outsider)
    assert "You are not on a captain rotation" in html
    assert "Conference in Lisbon" not in html and "Web captains" not in html
    # Casey leaves the team: its turns, releases and swaps leave her dashboard with her.
    Membership.objects.filter(user=casey, team=team).delete()
    html = card(client, casey)
    assert "You are not on a captain rotation" in html
    assert "Web captains" not in html and "Conference in Lisbon" not in html
    assert "Checkout Web" not in html


def test_the_dashboard_queries_do_not_grow_with_turns_releases_and_swaps(
    client, manager, casey, dana, team, train, rotation
):
    client.force_login(casey)

    def queries():
        with CaptureQueriesContext(connection) as context:
            response = client.get("/")
        assert response.status_code == 200
        return len(context.captured_queries), response.content.decode()

    turns = list(RotationTurn.objects.filter(rotation=rotation, captain=dana)[:1])
    swap_open(actor=dana, turn=turns[0], reason="Offer 0", now=NOW)
    ReleaseFactory(train=train, slot=TUE_10, cut_at=TUE_10, status="stabilizing", captain=casey)
    few, _ = queries()

    # More rotations, releases in flight and open swaps than the card shows.
    for n in range(3):
        other = TrainFactory(team=team, name=f"Other {n}", handled_through=NOW)
        rotate(manager, [other], [dana, casey], name=f"Other captains {n}")
        ReleaseFactory(train=other, version=f"9.{n}.0", status="cut", captain=casey, slot=None)
    for n, turn in enumerate(
        RotationTurn.objects.filter(captain=dana, starts_at__gt=NOW).exclude(
            swap_requests__isnull=False
        )[:8]
    ):
        swap_open(actor=dana, turn=turn, reason=f"Offer {n + 1}", now=NOW)
    many, html = queries()
    assert html.count("Take it on the rotation page") == 5
    assert "More turns are offered" in html
    assert many == few, "the dashboard's queries must not grow with turns, releases and swaps"
    assert few <= 13  # the page before the card, and five for the card
    assert html.count("9.") >= 3  # the other releases Casey captains are listed


def test_a_swap_of_a_turn_that_started_is_not_offered(client, monkeypatch, casey, dana, rotation):
    turn = RotationTurn.objects.get(rotation=rotation, starts_at=MON_16)
    swap_open(actor=dana, turn=turn, reason="Conference in Lisbon", now=NOW)
    assert "Conference in Lisbon" in card(client, casey)
    later = MON_16 + timedelta(hours=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert "Conference in Lisbon" not in card(client, casey)
