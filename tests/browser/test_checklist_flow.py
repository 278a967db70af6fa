"""The captain ticks the checklist in a real browser (mouse and keyboard) and approves the
release; a teammate with the same page open sees the ticks arrive by polling, without reloading,
and a note they are typing survives those updates."""

import re

import pytest
from playwright.sync_api import expect

from releases.models import ReleaseEvent, ReleaseStatus
from releases.services.checklists import checklist_snapshot, default_template
from tests.accounts.factories import PASSWORD, MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Polls run every 5 s: give a teammate's page two rounds to catch up.
POLLED = 12_000
MOUSE = (
    "Changes on the train are merged and green in CI",
    "Staging deploy passed smoke tests",
    "Rollback plan reviewed",  # captain only
)
KEYBOARD = "Migrations reviewed for locks and reversibility"


def log_in(page, live_server, username, path):
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}{path}")


@pytest.fixture
def release():
    team = TeamFactory(name="Checkout", slug="checkout")
    captain = UserFactory(username="cole", first_name="Cole", last_name="Cap", timezone="UTC")
    dana = UserFactory(username="dana", first_name="Dana", last_name="Diaz", timezone="UTC")
    MembershipFactory(user=captain, team=team, role="engineer")
    MembershipFactory(user=dana, team=team, role="engineer")
    train = TrainFactory(team=team, name="Checkout Web", requires_rollback_plan=False)
    release = ReleaseFactory(
        train=train, version="4.12.0", status=ReleaseStatus.STABILIZING, captain=captain
    )
    checklist_snapshot(release, default_template(team.pk))
    return release


def test_the_captain_ticks_the_checklist_and_approves(live_server, page, browser, release):
    path = release.get_absolute_url()
    log_in(page, live_server, "cole", path)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Checkout Web 4.12.0")
    overall = page.locator("#checklist-overall")
    expect(overall).to_contain_text("0 of 9 done")
    gates = page.locator("#release-gates")
    expect(gates).to_contain_text("Approve waits for 4 open items")

    # A teammate has the same page open in another browser.
    context = browser.new_context()
    try:
        other = context.new_page()
        log_in(other, live_server, "dana", path)
        other.evaluate("window.__sameDocument = true")
        # Dana is captain of nothing: the captain-only item is shown, disabled, with the reason.
        reviewed = other.get_by_role("checkbox", name="Rollback plan reviewed")
        expect(reviewed).to_be_disabled()
        expect(reviewed).to_have_attribute("title", "Only the captain can tick this.")
        # She starts a note on an item nobody else is ticking.
        drafted = other.locator(".checklist-row", has_text="Release notes drafted")
        drafted.get_by_text("Tick with a note").click()
        note = drafted.get_by_role("textbox", name="Note")
        note.fill("Draft in the wiki")

        for text in MOUSE:
            box = page.get_by_role("checkbox", name=text)
            expect(box).not_to_be_checked()
            with page.expect_response(re.compile(r"/checklist/\d+/tick/$")):
                box.click()
            expect(box).to_be_checked()
            expect(page.locator(".checklist-row", has=box)).to_contain_text("Ticked by Cole Cap")

        # One with the keyboard: focus the box and press Space; the focus stays on it.
        box = page.get_by_role("checkbox", name=KEYBOARD)
        box.focus()
        with page.expect_response(re.compile(r"/checklist/\d+/tick/$")):
            page.keyboard.press("Space")
        expect(box).to_be_checked()
        expect(box).to_be_focused()

        expect(overall).to_contain_text("4 of 9 done")
        expect(page.locator("#stage-before_approval-progress")).to_contain_text("3/3")
        # The gates refreshed themselves: nothing blocks approval any more.
        expect(gates).not_to_contain_text("waits for")

        # Dana sees every tick arrive without reloading, and her note is still there.
        for text in (*MOUSE, KEYBOARD):
            expect(other.get_by_role("checkbox", name=text)).to_be_checked(timeout=POLLED)
        expect(other.locator("#checklist-overall")).to_contain_text("4 of 9 done")
        expect(note).to_have_value("Draft in the wiki")
        assert other.evaluate("window.__sameDocument === true"), "the teammate's page reloaded"

        # An untick is a tick too: the captain takes one back and ticks it again with Enter.
        box = page.get_by_role("checkbox", name=MOUSE[1])
        with page.expect_response(re.compile(r"/checklist/\d+/tick/$")):
            box.click()
        expect(box).not_to_be_checked()
        expect(gates).to_contain_text("Approve waits for 1 open item")
        box.focus()
        with page.expect_response(re.compile(r"/checklist/\d+/tick/$")):
            page.keyboard.press("Enter")
        expect(box).to_be_checked()
        expect(gates).not_to_contain_text("waits for")

        page.get_by_role("button", name="Approve", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Approved")
        expect(page.get_by_text("Checkout Web 4.12.0 is approved.")).to_be_visible()

        # Dana's note is still hers to send: the big tick sends the note typed along with it.
        drafted.get_by_role("checkbox").click()
        expect(drafted.get_by_role("checkbox")).to_be_checked()
        expect(drafted).to_contain_text("Ticked by Dana Diaz")
        expect(drafted).to_contain_text("Draft in the wiki")
    finally:
        context.close()

    release.refresh_from_db()
    assert release.status == ReleaseStatus.APPROVED
    ticked = release.checklist_items.filter(ticked_at__isnull=False)
    assert set(ticked.values_list("ticked_by__username", flat=True)) == {"cole", "dana"}
    assert release.events.filter(kind=ReleaseEvent.Kind.CHECKLIST).count() == 7
    assert not release.gate_overrides.exists()
