"""A manager opens the release calendar, moves a month ahead and back (HTMX, URL pushed, no
reload), switches to the week, and opens a release from its chip; then resets the feed URL."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from releases.models import CalendarFeedToken
from tests.accounts.factories import PASSWORD, MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, path="/calendar/"):
    page.goto(f"{live_server.url}{path}")
    page.get_by_label("Username").fill("mia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}{path}")


@pytest.fixture
def manager():
    user = UserFactory(username="mia", first_name="Mia", last_name="Manager", timezone="UTC")
    team = TeamFactory(slug="checkout", name="Checkout")
    MembershipFactory(user=user, team=team, role="manager")
    return user


def test_a_manager_navigates_the_calendar_and_opens_a_release(live_server, page, manager):
    now = timezone.now()
    train = TrainFactory(
        team=manager.teams.get(), name="Checkout Web", colour="teal", handled_through=now
    )
    release = ReleaseFactory(
        train=train, version="4.12.0", kind="adhoc", cut_at=now, target_at=now + timedelta(days=2),
        captain=manager,
    )  # fmt: skip
    this_month = f"{now:%B %Y}"
    following = (now.date().replace(day=1) + timedelta(days=32)).replace(day=1)

    log_in(page, live_server)
    heading = page.locator("#calendar-heading")
    expect(heading).to_have_text(this_month)
    expect(page.get_by_role("link", name="Calendar", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    # A marker on window survives HTMX swaps but not a full page load.
    page.evaluate("window.__sameDocument = true")

    with page.expect_response(re.compile(r"/calendar/\?date=")):
        page.get_by_role("link", name="Next month").click()
    expect(heading).to_have_text(f"{following:%B %Y}")
    expect(page).to_have_url(f"{live_server.url}/calendar/?date={following:%Y-%m-%d}")

    page.get_by_role("link", name="Previous month").click()
    expect(heading).to_have_text(this_month)
    expect(page).to_have_url(f"{live_server.url}/calendar/?date={now:%Y-%m}-01")
    assert page.evaluate("window.__sameDocument === true"), "navigation reloaded the page"

    # Today is on screen, so the week shown is this week.
    page.get_by_role("link", name="Week", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/calendar/?view=week")
    expect(page.locator("table.cal-week")).to_be_visible()
    expect(page.get_by_role("link", name="Week", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    assert page.evaluate("window.__sameDocument === true")

    chip = page.locator("table.cal-week a.cal-chip", has_text="Checkout Web 4.12.0")
    expect(chip).to_contain_text("MM")  # the captain's initials
    chip.click()
    expect(page).to_have_url(f"{live_server.url}/releases/{release.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Checkout Web 4.12.0")


def test_the_filters_work_through_htmx(live_server, page, manager):
    now = timezone.now()
    team = manager.teams.get()
    TrainFactory(team=team, name="Checkout Web", handled_through=now)
    api = TrainFactory(team=team, name="Checkout API", handled_through=now)
    log_in(page, live_server, "/calendar/?view=agenda")
    expect(page.locator(".cal-agenda")).to_contain_text("Checkout Web")

    page.get_by_label("Train").focus()
    with page.expect_response(re.compile(r"/calendar/\?")):
        page.get_by_label("Train").select_option(label="Checkout API")
    expect(page).to_have_url(f"{live_server.url}/calendar/?view=agenda&train={api.pk}")
    expect(page.locator(".cal-agenda")).not_to_contain_text("Checkout Web")
    expect(page.locator(".cal-agenda")).to_contain_text("Checkout API")
    expect(page.get_by_label("Train")).to_be_focused()


def test_the_feed_url_is_created_and_reset(live_server, page, manager):
    TrainFactory(team=manager.teams.get(), name="Checkout Web", handled_through=timezone.now())
    log_in(page, live_server)
    page.get_by_role("button", name="Create my calendar URL").click()
    feed_url = page.get_by_label("Your calendar URL")
    expect(feed_url).to_have_value(re.compile(r"/calendar/feed/[\w-]+\.ics$"))
    old = feed_url.input_value()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset URL").click()
    expect(page.get_by_text("Your new calendar URL is ready")).to_be_visible()
    expect(feed_url).not_to_have_value(old)
    key = CalendarFeedToken.objects.get(user=manager).key
    expect(feed_url).to_have_value(re.compile(re.escape(key)))
    assert page.request.get(f"{live_server.url}/calendar/feed/{key}.ics").ok
    old_key = old.rsplit("/", 1)[1].removesuffix(".ics")
    assert page.request.get(f"{live_server.url}/calendar/feed/{old_key}.ics").status == 404
