"""A person logs in through the real login page of a live server and sees the dashboard."""

import re

import pytest
from playwright.sync_api import expect

from tests.accounts.factories import PASSWORD, MembershipFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_reaches_the_dashboard(live_server, page):
    user = UserFactory(username="casey", first_name="Casey")
    MembershipFactory(user=user, team=TeamFactory(name="Checkout"), role="engineer")

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("That did not work")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Casey")
    expect(page.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Checkout")).to_be_visible()


def test_a_token_is_created_and_revoked_through_htmx(live_server, page):
    UserFactory(username="casey")
    page.goto(f"{live_server.url}/accounts/login/?next=/accounts/profile/")
    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("textbox", name="Name", exact=True).fill("CI deploys")
    page.get_by_label("Deployments: CI records deployments").check()
    with page.expect_response(re.compile(r"/accounts/profile/tokens/$")):
        page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_contain_text("smk_")
    expect(page.get_by_role("cell", name=re.compile("CI deploys"))).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("revoked", exact=True)).to_be_visible()
