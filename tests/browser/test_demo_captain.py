"""Departure day with the demo data: the demo captain opens today's release from the dashboard,
ticks every required item (the mouse, and one with the keyboard), fills in the rollback plan and
approves; the demo manager, with the same release open, sees the ticks arrive without reloading."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD
from releases.models import Release, ReleaseStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLLED = 12_000  # polls run every 5 s: two rounds
GATED_STAGES = ("before_cut", "before_approval")
TICK = re.compile(r"/checklist/\d+/tick/$")


def log_in(page, live_server, username, path="/"):
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}{path}")


def open_required_boxes(page):
    stages = ", ".join(
        f'section[aria-labelledby="stage-{stage}-heading"]'
        " li.checklist-row:has(.checklist__required)"
        ' button.tick[aria-checked="false"]:not([disabled])'
        for stage in GATED_STAGES
    )
    return page.locator(stages)


def test_the_demo_captain_runs_todays_release(live_server, page, browser):
    call_command("seed_demo", stdout=io.StringIO())
    # seed_demo's "today's release": critical, stabilizing, captained by the demo captain.
    todays = Release.objects.get(
        captain__username="captain", status=ReleaseStatus.STABILIZING, is_critical=True
    )
    name = f"{todays.train.name} {todays.version}"

    log_in(page, live_server, "captain")
    page.get_by_role("link", name=name, exact=True).first.click()
    expect(page).to_have_url(f"{live_server.url}{todays.get_absolute_url()}")
    gates = page.locator("#release-gates")
    expect(gates).to_contain_text("Approve waits for")

    context = browser.new_context()
    try:
        other = context.new_page()
        log_in(other, live_server, "manager", todays.get_absolute_url())
        other.evaluate("window.__sameDocument = true")

        # One required item with the keyboard: focus its box and press Space.
        boxes = open_required_boxes(page)
        first = boxes.first
        box_id = first.get_attribute("id")
        first.focus()
        with page.expect_response(TICK):
            page.keyboard.press("Space")
        expect(page.locator(f"#{box_id}")).to_be_checked()
        expect(page.locator(f"#{box_id}")).to_be_focused()

        # The rest with the mouse.
        while boxes.count():
            with page.expect_response(TICK):
                boxes.first.click()
        expect(gates).not_to_contain_text("waits for")

        # The rollback plan: say what data this release touches.
        plan = page.locator("#rollback-plan")
        plan.get_by_text("Edit the plan").click()
        plan.get_by_label("What data might be affected?").fill(
            "Rewrites order ids to the new provider's; the old ids stay in a backup column."
        )
        plan.get_by_role("button", name="Save the plan").click()
        expect(page.locator("#rollback-plan")).to_contain_text(
            "the old ids stay in a backup column"
        )

        # The manager saw it all arrive without reloading.
        items = todays.checklist_items
        done = f"{items.filter(ticked_at__isnull=False).count()} of {items.count()} done"
        expect(page.locator("#checklist-overall")).to_contain_text(done)
        expect(other.locator("#checklist-overall")).to_contain_text(done, timeout=POLLED)
        assert other.evaluate("window.__sameDocument === true"), "the manager's page reloaded"

        page.get_by_role("button", name="Approve", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Approved")
    finally:
        context.close()

    todays.refresh_from_db()
    assert todays.status == ReleaseStatus.APPROVED
    assert "backup column" in todays.rollback_plan.data_impact
    assert not todays.checklist_items.filter(
        stage__in=GATED_STAGES, is_required=True, ticked_at__isnull=True
    ).exists()
