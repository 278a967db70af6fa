"""The release page's checklist: ticking (HTMX and plain POST), conflicts, refusals, polling,
and the gates of the "Move this release" card with a manager's override."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from releases.models import ChecklistItem, GateOverride, ReleaseEvent, ReleaseStatus
from releases.services.checklists import checklist_snapshot, checklist_tick, default_template
from releases.services.lifecycle import release_transition
from releases.services.rollback import release_set_critical
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
STAGE_HEADINGS = ("Before cut", "Before approval", "During deploy", "After release / monitoring")


@pytest.fixture
def team():
    return TeamFactory(name="Checkout team", slug="checkout")


def member(team, username, first, last, role="engineer"):
    user = UserFactory(username=username, first_name=first, last_name=last)
    MembershipFactory(user=user, team=team, role=role)
    return user


@pytest.fixture
def manager(team):
    return member(team, "morgan", "Morgan", "Lee", role="manager")


@pytest.fixture
def captain(team):
    return member(team, "cole", "Cole", "Cap")


@pytest.fixture
def engineer(team):
    return member(team, "erin", "Erin", "Roe")


@pytest.fixture
def dana(team):
    return member(team, "dana", "Dana", "Diaz")


@pytest.fixture
def outsider():
    user = UserFactory(username="olly")
    MembershipFactory(user=user, team=TeamFactory(slug="payments"), role="manager")
    return user


@pytest.fixture
def release(team, captain):
    """Stabilizing, captained, with the team's starter "Standard release" checklist."""
    train = TrainFactory(team=team, name="checkout", slug="checkout", requires_rollback_plan=False)
    release = ReleaseFactory(
        train=train, version="4.12.0", status=ReleaseStatus.STABILIZING, captain=captain
    )
    checklist_snapshot(release, default_template(team.pk))
    return release


def item(release, text):
    return release.checklist_items.get(text__startswith=text)


def tick_url(item):
    return reverse("releases:checklist_tick", args=[item.release_id, item.pk])


def poll_url(release):
    release.refresh_from_db()
    return (
        reverse("releases:checklist_panel", args=[release.pk])
        + f"?since={release.checklist_revision}&status={release.status}"
        + f"&captain={release.captain_id or ''}"
    )


def transition_url(release):
    return reverse("releases:release_transition", args=[release.pk])


def checklist_events(release):
    return list(release.events.filter(kind=ReleaseEvent.Kind.CHECKLIST))


def row_html(html, checklist_item):
    """The <li> of one item in a page or fragment."""
    match = re.search(
        rf'<li [^>]*id="checklist-item-{checklist_item.pk}".*?</li>', html, flags=re.S
    )
    assert match, f"no row for {checklist_item}"
    return match.group(0)


# --- the panel -------------------------------------------------------------------------------


def test_the_release_page_shows_the_checklist_grouped_by_stage(client, engineer, release):
    client.force_login(engineer)
    html = client.get(release.get_absolute_url()).content.decode()
    positions = [html.index(f">{heading}</h3>") for heading in STAGE_HEADINGS]
    assert positions == sorted(positions)
    # Stage progress (sticky headers) and the overall progress, announced to screen readers.
    assert 'id="stage-before_cut-progress"' in html
    assert '<progress max="2" value="0"' in html
    assert re.search(r'id="checklist-overall"[^>]*aria-live="polite"', html)
    assert "0 of 9</strong> done" in html and "6 required open" in html
    # A row: a real button as the checkbox, in a form that works without JavaScript.
    merged = row_html(html, item(release, "Changes on the train"))
    assert 'role="checkbox"' in merged and 'aria-checked="false"' in merged
    assert '<form method="post" action="/releases/' in merged
    assert 'name="ticked" value="1"' in merged
    assert "required</span>" in merged
    assert "Tick with a note" in merged and 'name="note"' in merged
    assert "Link them in the note." in html  # help text
    # A captain-only item is shown but disabled for an engineer who is not the captain.
    reviewed = row_html(html, item(release, "Rollback plan reviewed"))
    assert "captain only" in reviewed
    assert 'disabled title="Only the captain can tick this."' in reviewed
    assert "Tick with a note" not in reviewed
    # In flight: the panel polls.
    assert 'hx-trigger="every 5s, releaseChanged from:body"' in html


def test_the_captain_may_tick_captain_only_items(client, captain, release):
    client.force_login(captain)
    html = client.get(release.get_absolute_url()).content.decode()
    assert "disabled" not in row_html(html, item(release, "Rollback plan reviewed"))


def test_a_ticked_item_shows_who_when_and_the_note(client, engineer, dana, release):
    drafted = item(release, "Release notes drafted")
    checklist_tick(actor=dana, item=drafted, ticked=True, note="https://wiki.example.com/4.12")
    client.force_login(engineer)
    row = row_html(client.get(release.get_absolute_url()).content.decode(), drafted)
    assert 'aria-checked="true"' in row and 'name="ticked" value="0"' in row
    assert "Ticked by Dana Diaz" in row and "<time datetime=" in row
    assert "https://wiki.example.com/4.12" in row
    assert "checklist__item--done" in row


def test_a_release_without_a_checklist_says_so(client, engineer, team):
    bare = ReleaseFactory(train=TrainFactory(team=team), status=ReleaseStatus.CUT)
    client.force_login(engineer)
    html = client.get(bare.get_absolute_url()).content.decode()
    assert "No checklist on this release" in html


# --- ticking ---------------------------------------------------------------------------------


def test_an_htmx_tick_answers_with_the_row_and_the_progress(client, engineer, release):
    merged = item(release, "Changes on the train")
    client.force_login(engineer)
    response = client.post(tick_url(merged), {"ticked": "1"}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "checklistChanged"
    html = response.content.decode()
    assert html.lstrip().startswith('<li class="checklist__item checklist-row checklist__item--')
    assert "<html" not in html
    row = row_html(html, merged)
    assert 'aria-checked="true"' in row and "Ticked by Erin Roe" in row
    assert 'name="ticked" value="0"' in row  # the next click unticks
    assert re.search(r'id="stage-before_cut-progress" hx-swap-oob="true"', html)
    assert "1/2" in html and "1 required open" not in html.split("stage-before_cut")[1][:400]
    assert '<div id="checklist-overall" hx-swap-oob="innerHTML">' in html
    assert "1 of 9</strong> done" in html and "5 required open" in html
    merged.refresh_from_db()
    assert (merged.ticked_by, merged.is_ticked) == (engineer, True)
    [event] = checklist_events(release)
    assert (event.actor, event.note) == (engineer, f"Ticked: {merged.text}")
    release.refresh_from_db()
    assert release.checklist_revision == 1


def test_a_tick_with_a_note_keeps_it(client, engineer, release):
    drafted = item(release, "Release notes drafted")
    client.force_login(engineer)
    response = client.post(tick_url(drafted), {"ticked": "1", "note": " In the wiki "}, **HTMX)
    assert "In the wiki" in row_html(response.content.decode(), drafted)
    drafted.refresh_from_db()
    assert drafted.note == "In the wiki"
    assert checklist_events(release)[0].note == f"Ticked: {drafted.text} (In the wiki)"


def test_an_htmx_untick(client, engineer, release):
    merged = item(release, "Changes on the train")
    checklist_tick(actor=engineer, item=merged, ticked=True)
    client.force_login(engineer)
    response = client.post(tick_url(merged), {"ticked": "0"}, **HTMX)
    assert response.status_code == 200
    row = row_html(response.content.decode(), merged)
    assert 'aria-checked="false"' in row and "Ticked by" not in row
    merged.refresh_from_db()
    assert merged.ticked_at is None and merged.ticked_by is None
    assert [event.note for event in checklist_events(release)] == [
        f"Ticked: {merged.text}",
        f"Unticked: {merged.text}",
    ]


def test_without_javascript_a_tick_redirects_back_to_the_row(client, engineer, release):
    merged = item(release, "Changes on the train")
    client.force_login(engineer)
    response = client.post(tick_url(merged), {"ticked": "1"})
    assert response.status_code == 302
    assert response.url == f"{release.get_absolute_url()}#checklist-item-{merged.pk}"
    html = client.get(response.url).content.decode()
    assert 'aria-checked="true"' in row_html(html, merged)


def test_a_tick_says_what_it_wants_never_toggle(client, engineer, release):
    merged = item(release, "Changes on the train")
    client.force_login(engineer)
    response = client.post(tick_url(merged), {"ticked": "toggle"}, **HTMX)
    assert response.status_code == 400
    assert "Say whether to tick or untick" in response.content.decode()
    merged.refresh_from_db()
    assert not merged.is_ticked and not checklist_events(release)


def test_someone_else_ticking_first_is_reported_not_overwritten(client, engineer, dana, release):
    staging = item(release, "Staging deploy")
    checklist_tick(actor=dana, item=staging, ticked=True, note="green")
    client.force_login(engineer)
    # Erin's page still showed it open, with a note typed.
    response = client.post(tick_url(staging), {"ticked": "1", "note": "smoke ok"}, **HTMX)
    assert response.status_code == 200
    row = row_html(response.content.decode(), staging)
    assert "Dana Diaz already ticked this." in row and 'role="alert"' in row
    assert "Your note was not saved: “smoke ok”" in row
    assert "Ticked by Dana Diaz" in row
    staging.refresh_from_db()
    assert (staging.ticked_by, staging.note) == (dana, "green")
    assert len(checklist_events(release)) == 1
    # Without JavaScript the same conflict is a message on the release page.
    response = client.post(tick_url(staging), {"ticked": "1"}, follow=True)
    assert "Dana Diaz already ticked this." in response.content.decode()


def test_a_stale_untick_is_reported(client, engineer, release):
    merged = item(release, "Changes on the train")
    client.force_login(engineer)
    response = client.post(tick_url(merged), {"ticked": "0"}, **HTMX)
    assert "Someone already unticked this." in response.content.decode()
    assert not checklist_events(release)


def test_an_engineer_cannot_tick_a_captain_only_item(client, engineer, release):
    reviewed = item(release, "Rollback plan reviewed")
    client.force_login(engineer)
    response = client.post(tick_url(reviewed), {"ticked": "1"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "Only the release captain can tick “Rollback plan reviewed”." in html
    assert "Nothing was changed." in html
    # Under HTMX: a 403 that reloads the page, where the message waits.
    response = client.post(tick_url(reviewed), {"ticked": "1"}, **HTMX)
    assert (response.status_code, response["HX-Refresh"]) == (403, "true")
    html = client.get(release.get_absolute_url()).content.decode()
    assert 'class="message message--error"' in html
    assert "Only the release captain can tick" in html
    reviewed.refresh_from_db()
    assert not reviewed.is_ticked and not checklist_events(release)
    release.refresh_from_db()
    assert release.checklist_revision == 0


def test_outsiders_get_404(client, outsider, release):
    merged = item(release, "Changes on the train")
    client.force_login(outsider)
    assert client.post(tick_url(merged), {"ticked": "1"}, **HTMX).status_code == 404
    assert client.post(tick_url(merged), {"ticked": "1"}).status_code == 404
    assert client.get(poll_url(release), **HTMX).status_code == 404
    gates = reverse("releases:release_gates", args=[release.pk])
    assert client.get(gates, **HTMX).status_code == 404
    merged.refresh_from_db()
    assert not merged.is_ticked and not checklist_events(release)


def test_an_item_of_another_release_is_404(client, engineer, release, team):
    other = ReleaseFactory(train=release.train, version="4.13.0")
    checklist_snapshot(other, default_template(team.pk))
    theirs = other.checklist_items.first()
    client.force_login(engineer)
    url = reverse("releases:checklist_tick", args=[release.pk, theirs.pk])
    assert client.post(url, {"ticked": "1"}).status_code == 404


def test_a_cancelled_release_refuses_ticks(client, manager, engineer, release):
    release_transition(actor=manager, release=release, to_status="cancelled", note="Bad build")
    merged = item(release, "Changes on the train")
    client.force_login(engineer)
    html = client.get(release.get_absolute_url()).content.decode()
    assert "This release was cancelled; its checklist is closed." in html
    assert 'disabled title="The release was cancelled; its checklist is closed."' in row_html(
        html, merged
    )
    assert "every 5s" not in html
    response = client.post(tick_url(merged), {"ticked": "1"}, **HTMX)
    assert response.status_code == 400  # htmx swaps it: the row says why
    row = row_html(response.content.decode(), merged)
    assert "This release was cancelled; its checklist is closed." in row
    assert 'role="alert"' in row
    response = client.post(tick_url(merged), {"ticked": "1"}, follow=True)
    assert "This release was cancelled" in response.content.decode()
    merged.refresh_from_db()
    assert not merged.is_ticked and not checklist_events(release)


def make_release_with(team, captain, count, version):
    release = ReleaseFactory(
        train=TrainFactory(team=team, requires_rollback_plan=False),
        version=version,
        status=ReleaseStatus.STABILIZING,
        captain=captain,
    )
    ChecklistItem.objects.bulk_create(
        ChecklistItem(
            release=release,
            stage=("before_cut", "before_approval", "during_deploy")[index % 3],
            position=index,
            text=f"Item {index}",
            tickable_by="member",
        )
        for index in range(count)
    )
    return release


def test_a_tick_costs_the_same_queries_for_3_and_40_items(client, team, captain, engineer):
    small = make_release_with(team, captain, 3, "1.0.0")
    large = make_release_with(team, captain, 40, "2.0.0")
    for other in large.checklist_items.all()[1:30]:
        checklist_tick(actor=captain, item=other, ticked=True)
    client.force_login(engineer)
    counts = []
    for release in (small, large):
        first = release.checklist_items.order_by("position").first()
        with CaptureQueriesContext(connection) as queries:
            response = client.post(tick_url(first), {"ticked": "1"}, **HTMX)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    # session, user, the item, the role, UPDATE item, UPDATE revision, INSERT event, the fresh
    # item, progress (GROUP BY); plus a savepoint pair around the write.
    assert counts[0] <= 11, counts


# --- polling ---------------------------------------------------------------------------------


def test_a_poll_with_nothing_new_is_a_cheap_204(client, engineer, release):
    client.force_login(engineer)
    url = poll_url(release)
    client.get(url, **HTMX)  # the session is warm, as in a browser
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **HTMX)
    assert response.status_code == 204 and response.content == b""
    assert len(queries) <= 3, [query["sql"] for query in queries]


def test_a_poll_after_a_tick_answers_with_the_panel(client, engineer, dana, release):
    client.force_login(engineer)
    url = poll_url(release)
    checklist_tick(actor=dana, item=item(release, "Staging deploy"), ticked=True)
    response = client.get(url, **HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "checklistChanged"
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="checklist-body"')
    assert "?since=1&amp;status=stabilizing" in html  # the next poll asks from here
    assert "Ticked by Dana Diaz" in html
    assert '<div id="checklist-overall" hx-swap-oob="innerHTML">' in html
    assert client.get(poll_url(release), **HTMX).status_code == 204


def test_a_poll_after_the_release_became_critical_shows_the_rehearsal_items(
    client, engineer, manager, release
):
    client.force_login(engineer)
    url = poll_url(release)
    release_set_critical(actor=manager, release=release, critical=True, reason="Drops a table")
    response = client.get(url, **HTMX)
    assert response.status_code == 200
    assert "Migration rehearsed on a copy of production data" in response.content.decode()
    assert client.get(poll_url(release), **HTMX).status_code == 204


def test_a_poll_after_the_release_moved_reloads_the_panel(client, manager, engineer, release):
    client.force_login(engineer)
    url = poll_url(release)
    release_transition(actor=manager, release=release, to_status="cancelled", note="No")
    response = client.get(url, **HTMX)
    assert response.status_code == 200
    assert "HX-Trigger" not in response  # no tick: the gates need no refresh
    html = response.content.decode()
    assert "its checklist is closed" in html
    assert "every 5s" not in html  # a cancelled release stops polling


def test_a_malformed_poll_gets_the_panel(client, engineer, release):
    client.force_login(engineer)
    url = reverse("releases:checklist_panel", args=[release.pk])
    assert client.get(url + "?since=abc", **HTMX).status_code == 200
    response = client.get(url)  # not htmx: back to the page
    assert response.status_code == 302 and response.url.endswith("#checklist")


def test_a_released_release_polls_while_after_release_items_are_open(client, captain, release):
    release.checklist_items.exclude(stage="after_release").update(
        ticked_at=release.cut_at, ticked_by=captain
    )
    for status in ("approved", "deploying", "released"):
        release_transition(actor=captain, release=release, to_status=status)
    client.force_login(captain)
    assert "every 5s" in client.get(release.get_absolute_url()).content.decode()
    release.checklist_items.update(ticked_at=release.cut_at)
    assert "every 5s" not in client.get(release.get_absolute_url()).content.decode()


# --- gates -----------------------------------------------------------------------------------


def test_the_move_card_shows_what_blocks_approval(client, captain, release):
    client.force_login(captain)
    html = client.get(release.get_absolute_url()).content.decode()
    card = html[html.index('id="actions-heading"') : html.index('id="details-heading"')]
    assert "Approve waits for 4 open items" in card
    for text in (
        "Changes on the train are merged and green in CI",
        "Staging deploy passed smoke tests",
        "Migrations reviewed for locks and reversibility",
        "Rollback plan reviewed",
    ):
        assert f"<li>{text}</li>" in card
    assert card.index("waits for") < card.index('value="approved"')  # before the buttons
    # The captain moves it on but cannot override.
    assert "Override and approve" not in card
    assert "only a manager of the team can override" in card


def test_the_gates_refresh_after_ticks(client, captain, release):
    client.force_login(captain)
    gates = reverse("releases:release_gates", args=[release.pk])
    assert "Approve waits for 4 open items" in client.get(gates, **HTMX).content.decode()
    for text in ("Changes on the train", "Staging deploy", "Migrations", "Rollback plan"):
        checklist_tick(actor=captain, item=item(release, text), ticked=True)
    html = client.get(gates, **HTMX).content.decode()
    assert html.lstrip().startswith('<div id="release-gates"')
    assert "waits for" not in html


def test_approving_with_open_items_shows_them_next_to_the_form(client, captain, release):
    client.force_login(captain)
    response = client.post(transition_url(release), {"to": "approved", "note": "go"}, **HTMX)
    assert response.status_code == 400  # htmx swaps it
    assert "HX-Refresh" not in response
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="release-main"')
    errors = html[html.index('id="transition-errors"') :]
    assert "cannot move to approved while these are open" in errors[:600]
    assert ">go</textarea>" in html  # the note typed is kept
    release.refresh_from_db()
    assert release.status == "stabilizing"


def test_an_engineer_cannot_override_a_gate(client, captain, release):
    client.force_login(captain)
    response = client.post(
        transition_url(release),
        {"to": "approved", "override": "1", "override_reason": "Trust me"},
    )
    assert response.status_code == 403
    assert "Only a manager of this team can override a release gate." in response.content.decode()
    release.refresh_from_db()
    assert release.status == "stabilizing"
    assert not GateOverride.objects.exists()


def test_a_manager_overrides_a_gate_with_a_reason(client, manager, release):
    client.force_login(manager)
    html = client.get(release.get_absolute_url()).content.decode()
    assert "Override and approve…" in html and 'name="override_reason"' in html
    response = client.post(
        transition_url(release),
        {"to": "approved", "override": "1", "override_reason": "Hotfix for a SEV1, QA signed"},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "releaseChanged"
    release.refresh_from_db()
    assert release.status == "approved"
    override = GateOverride.objects.get()
    assert (override.actor, override.to_status, override.reason) == (
        manager,
        "approved",
        "Hotfix for a SEV1, QA signed",
    )
    assert "Rollback plan reviewed" in override.open_items and len(override.open_items) == 4
    assert release.events.filter(kind=ReleaseEvent.Kind.GATE_OVERRIDE).exists()
    # The release page shows who overrode, why, and what was open.
    html = client.get(release.get_absolute_url()).content.decode()
    record = html[html.index('id="gate-overrides-heading"') :]
    assert "Morgan Lee</strong> moved it to approved with 4 items open" in record
    assert "Hotfix for a SEV1, QA signed" in record
    assert "<li>Rollback plan reviewed</li>" in record


def test_an_override_needs_a_reason(client, manager, release):
    client.force_login(manager)
    data = {"to": "approved", "override": "1", "override_reason": "   "}
    response = client.post(transition_url(release), data, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    errors = html[html.index('id="override-approved-errors"') :][:300]
    assert "Write down why the release moves on with items still open." in errors
    # Without JavaScript: the page, the override form open with the error next to it.
    response = client.post(transition_url(release), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'<details [^>]*id="override-approved"[^>]* open>', html)
    release.refresh_from_db()
    assert release.status == "stabilizing"
    assert not GateOverride.objects.exists()
