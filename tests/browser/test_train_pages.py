"""A manager creates a train in a real browser, watching the live departure preview."""

import re

import pytest
from playwright.sync_api import expect

from releases.models import Train
from tests.accounts.factories import PASSWORD, MembershipFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_creates_a_weekly_train_with_a_live_preview(live_server, page):
    user = UserFactory(username="morgan", first_name="Morgan", timezone="America/New_York")
    team = TeamFactory(name="Checkout", slug="checkout", timezone="Europe/Berlin")
    MembershipFactory(user=user, team=team, role="manager")

    page.goto(f"{live_server.url}/accounts/login/?next=/trains/")
    page.get_by_label("Username").fill("morgan")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trains")
    expect(page.get_by_text("No trains yet")).to_be_visible()

    page.get_by_role("link", name="New train").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New train")
    preview = page.locator("#train-preview")
    # The weekly preset on Tuesday at 14:00 in the team's timezone, shown in both zones.
    expect(preview.locator(".preview-row")).to_have_count(5)
    expect(preview).to_contain_text("Europe/Berlin")
    expect(preview).to_contain_text("America/New_York")
    expect(preview.locator(".preview-row").first).to_contain_text("Tue")
    expect(preview.locator(".preview-row").first).to_contain_text("14:00")

    page.get_by_role("textbox", name="Name", exact=True).fill("Search")
    with page.expect_response(re.compile(r"/trains/preview/$")):
        page.get_by_label("Weekday", exact=True).select_option("TH")
    expect(preview.locator(".preview-row").first).to_contain_text("Thu")
    expect(preview).not_to_contain_text("Tue")
    expect(preview.locator(".preview-row")).to_have_count(5)

    # A broken custom rule shows its error in the preview, live.
    with page.expect_response(re.compile(r"/trains/preview/$")):
        page.get_by_role("radio", name="Custom rule").check()
    with page.expect_response(re.compile(r"/trains/preview/$")):
        page.get_by_role("textbox", name="RRULE").press_sequentially("FREQ=SOMETIMES")
    expect(preview.get_by_role("alert")).to_contain_text("not a valid RFC 5545 RRULE")
    with page.expect_response(re.compile(r"/trains/preview/$")):
        page.get_by_role("radio", name="Weekly on a weekday").check()
    expect(preview.locator(".preview-row")).to_have_count(5)

    page.get_by_role("button", name="Create train").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Search")
    expect(page.get_by_text("Weekly on Thursday at 14:00 Europe/Berlin")).to_be_visible()
    expect(page.get_by_role("heading", name="Next departures")).to_be_visible()
    expect(page.locator("tr.departure--scheduled")).to_have_count(8)
    assert Train.objects.get().rrule == "FREQ=WEEKLY;BYDAY=TH;BYHOUR=14;BYMINUTE=0"
