"""A captain offers their turn on the rotation page; a teammate in another browser takes it.
The release already cut for that departure follows the new captain, and both hear about it
through the bell in the top bar."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from releases.models import ReleaseStatus, RotationTurn, SwapRequest, SwapState, TurnLength
from releases.services.rotations import rotation_create
from tests.accounts.factories import PASSWORD, MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username, path):
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}{path}")


@pytest.fixture
def setting():
    """Two engineers take one departure each: Dana has the next one, Cole the one after, and
    the release for Cole's departure has already been cut."""
    team = TeamFactory(name="Checkout", slug="checkout")
    cole = UserFactory(username="cole", first_name="Cole", last_name="Cap", timezone="UTC")
    dana = UserFactory(username="dana", first_name="Dana", last_name="Diaz", timezone="UTC")
    manager = UserFactory(username="mia", first_name="Mia", last_name="Manager")
    MembershipFactory(user=cole, team=team, role="engineer")
    MembershipFactory(user=dana, team=team, role="engineer")
    MembershipFactory(user=manager, team=team, role="manager")
    train = TrainFactory(team=team, name="Checkout Web", slug="checkout-web")
    rotation = rotation_create(
        actor=manager,
        team=team,
        name="Web captains",
        timezone="Europe/Berlin",
        turn_length=TurnLength.PER_DEPARTURE,
        weeks=1,
        handoff_weekday=0,
        handoff_time="10:00",
        starts_on=timezone.localdate(),
        member_ids=[dana.pk, cole.pk],
        train_ids=[train.pk],
    )
    turn = (
        RotationTurn.objects.filter(rotation=rotation, starts_at__gt=timezone.now())
        .order_by("starts_at")
        .first()
    )
    assert turn.captain == cole  # the first turn that has not started is Cole's
    release = ReleaseFactory(
        train=train, version="4.12.0", status=ReleaseStatus.CUT, slot=turn.slot, captain=cole
    )
    return rotation, turn, release


def test_a_captain_offers_a_turn_and_a_teammate_takes_it(live_server, page, browser, setting):
    rotation, turn, release = setting
    path = rotation.get_absolute_url()
    log_in(page, live_server, "cole", path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Web captains")

    row = page.locator(f"#turn-{turn.pk}")
    expect(row).to_contain_text("Cole Cap")
    row.get_by_text("Offer this turn").click()
    row.get_by_role("textbox", name="Why").fill("I am at a wedding that week")
    row.get_by_role("button", name="Offer it to the team").click()
    swaps = page.locator("#swaps")
    expect(page.get_by_role("status")).to_contain_text("You offered")
    expect(swaps).to_contain_text("“I am at a wedding that week”")
    expect(row).to_contain_text("Offered")

    context = browser.new_context()
    try:
        other = context.new_page()
        log_in(other, live_server, "dana", path)
        offer = other.locator("#swaps")
        expect(offer).to_contain_text("Cole Cap offers")
        offer.get_by_role("button", name="Take it from Cole Cap").click()
        expect(other.get_by_role("status")).to_contain_text("You are its captain now.")
        expect(other.locator(f"#turn-{turn.pk}")).to_contain_text("Dana Diaz")
        expect(other.locator(f"#turn-{turn.pk}")).to_contain_text(
            "Swap: Dana Diaz took it from Cole Cap"
        )

        # The release already cut for that departure follows its new captain.
        other.goto(f"{live_server.url}{release.get_absolute_url()}")
        expect(other.locator(".page-header__subtitle")).to_contain_text("captain Dana Diaz")
        # Dana heard of the offer and of the swap she took.
        expect(other.locator("#bell")).to_contain_text("unread notification")
    finally:
        context.close()

    # Cole hears that Dana took his turn.
    page.reload()
    expect(page.locator("#bell")).to_contain_text("1 unread notification")
    swap = SwapRequest.objects.get(turn=turn)
    assert (swap.state, swap.taken_by.username) == (SwapState.TAKEN, "dana")
    release.refresh_from_db()
    assert release.captain.username == "dana"
