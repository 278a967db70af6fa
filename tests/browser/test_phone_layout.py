"""UI.md: the product works from 360 px wide (a phone on call). With the demo data, no page of
the product scrolls sideways on a 360 px screen; wide content scrolls inside its own box."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD
from releases.models import Release, Rotation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 780}


def test_no_page_scrolls_sideways_on_a_phone(live_server, browser):
    call_command("seed_demo", stdout=io.StringIO())
    release = Release.objects.filter(is_critical=True).first()
    rotation = Rotation.objects.order_by("pk").first()
    pages = [
        "/", "/calendar/", "/calendar/?view=week", "/calendar/?view=agenda", "/trains/",
        release.get_absolute_url(), release.train.get_absolute_url(), "/rotations/",
        rotation.get_absolute_url(), "/rotations/new/", "/rotations/time-off/",
        "/notifications/", "/notifications/settings/", "/notifications/webhooks/",
        "/notifications/deliveries/", "/checklists/", "/accounts/profile/",
    ]  # fmt: skip
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill("manager")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{live_server.url}/")
        too_wide = {}
        for path in pages:
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                too_wide[path] = width
        assert too_wide == {}
    finally:
        context.close()
