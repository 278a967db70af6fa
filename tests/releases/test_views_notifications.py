"""The bell, the inbox and notification settings, end to end through the views."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEntry
from releases.models import Channel, Notification, NotificationKind
from releases.selectors_notifications import channels_for
from releases.services.inbox import (
    notification_mark_read,
    notification_settings_update,
    notifications_mark_all_read,
)
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
KINDS = NotificationKind.values


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def team():
    return TeamFactory(name="Checkout team", slug="checkout")


@pytest.fixture
def engineer(team):
    user = UserFactory(username="erin", first_name="Erin", email="erin@example.com")
    MembershipFactory(user=user, team=team, role="engineer")
    return user


@pytest.fixture
def manager(team):
    user = UserFactory(username="morgan", first_name="Morgan")
    MembershipFactory(user=user, team=team, role="manager")
    return user


@pytest.fixture
def someone_else():
    return UserFactory(username="sam")


def url(name, *args):
    return reverse(f"releases:{name}", args=args)


def notify(user, title="Checkout departs in 24 h", *, minutes_ago=0, read=False, **fields):
    created = NOW - timedelta(minutes=minutes_ago)
    return Notification.objects.create(
        recipient=user,
        kind=fields.pop("kind", NotificationKind.DEPARTURE_COMING),
        title=title,
        body=fields.pop("body", ""),
        url=fields.pop("url", ""),
        created_at=created,
        read_at=created + timedelta(minutes=1) if read else None,
    )


def unread(user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def settings_data(**chosen):
    """The settings grid as a browser posts it: every box ticked unless a kind is given."""
    data = {kind: [Channel.IN_APP, Channel.EMAIL] for kind in KINDS}
    data.update(chosen)
    return {kind: channels for kind, channels in data.items() if channels}


# --- the inbox -----------------------------------------------------------------------------------


def test_inbox_lists_own_notifications_newest_first_with_unread_marked(
    client, engineer, someone_else
):
    notify(engineer, "Older and read", minutes_ago=90, read=True)
    fresh = notify(
        engineer,
        "Checkout departs in 1 h",
        minutes_ago=5,
        body="You are the captain.",
        url="/trains/checkout/checkout/",
        kind=NotificationKind.CAPTAIN_HANDOFF,
    )
    notify(someone_else, "Not for Erin")
    client.force_login(engineer)

    response = client.get(url("notification_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Checkout departs in 1 h") < html.index("Older and read")
    assert "Not for Erin" not in html
    assert "You are the captain." in html
    assert 'href="/trains/checkout/checkout/"' in html
    assert "Captain handoff" in html
    assert f'<time datetime="{fresh.created_at.isoformat()}" data-relative' in html
    assert "<strong>1 unread</strong>" in html
    unread_row = html[html.index(f'id="notification-{fresh.pk}"') - 60 :]
    assert "inbox-item--unread" in unread_row[:100]
    assert html.count(">Unread</span>") == 1  # said in words, not colour alone
    assert html.count(">Mark read<") == 1
    assert url("notification_read", fresh.pk) in html
    assert url("notification_read_all") in html


def test_inbox_empty_state(client, engineer):
    client.force_login(engineer)
    html = client.get(url("notification_list")).content.decode()
    assert (
        "No notifications yet — reminders about your departures, handoffs and swaps arrive here"
        in html
    )
    assert "Mark all read" not in html


def test_inbox_pages_by_fifty(client, engineer):
    for n in range(53):
        notify(engineer, f"Reminder number {n:02d}", minutes_ago=n)
    client.force_login(engineer)

    first = client.get(url("notification_list")).content.decode()
    second = client.get(url("notification_list") + "?page=2").content.decode()

    assert first.count('<li class="inbox-item') == 50
    assert "Reminder number 00" in first and "Reminder number 49" in first
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    assert second.count('<li class="inbox-item') == 3
    assert "Reminder number 50" in second and "Reminder number 00" not in second


def test_inbox_queries_do_not_grow_with_notifications(client, engineer):
    client.force_login(engineer)
    notify(engineer)
    client.get(url("notification_list"))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("notification_list")).status_code == 200
        return len(queries)

    before = count()
    for n in range(60):
        notify(engineer, f"Reminder {n}", minutes_ago=n, read=n % 3 == 0)
    assert count() == before
    assert before <= 7


def test_inbox_never_links_to_scripts(client, engineer):
    notify(engineer, "Odd link", url="javascript:alert(1)")
    notify(engineer, "Broken link", url="http://[::1/oops")
    notify(engineer, "Elsewhere", url="https://ci.example.com/run/5")
    client.force_login(engineer)
    html = client.get(url("notification_list")).content.decode()
    assert "javascript:" not in html and "[::1" not in html
    assert 'href="https://ci.example.com/run/5"' in html


def test_inbox_header_links_settings_and_for_managers_webhooks_and_log(client, engineer, manager):
    client.force_login(engineer)
    html = client.get(url("notification_list")).content.decode()
    assert f'href="{url("notification_settings")}"' in html
    assert url("webhook_list") not in html and url("delivery_list") not in html

    client.force_login(manager)
    html = client.get(url("notification_list")).content.decode()
    assert f'href="{url("webhook_list")}"' in html
    assert f'href="{url("delivery_list")}"' in html
    # The bell is the current place, not the Trains section.
    assert 'class="bell" id="bell"' in html and 'aria-current="page">' in html
    assert 'class="topbar__link" href="/trains/" aria-current' not in html


# --- marking read --------------------------------------------------------------------------------


def test_mark_read_with_htmx_swaps_the_row_and_tells_the_bell(client, engineer):
    first = notify(engineer, "First", minutes_ago=10)
    notify(engineer, "Second", minutes_ago=5)
    client.force_login(engineer)

    response = client.post(url("notification_read", first.pk), **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "notificationsChanged"
    html = response.content.decode()
    assert f'id="notification-{first.pk}"' in html
    assert "inbox-item--unread" not in html and "Mark read" not in html
    assert "read <time" in html
    assert 'id="inbox-toolbar" hx-swap-oob="true"' in html
    assert "<strong>1 unread</strong>" in html
    first.refresh_from_db()
    assert first.read_at is not None
    assert unread(engineer) == 1


def test_mark_read_without_javascript_redirects_back_to_the_page(client, engineer):
    note = notify(engineer)
    client.force_login(engineer)

    response = client.post(url("notification_read", note.pk), {"page": "2"})

    assert response.status_code == 302
    assert response["Location"] == f"{url('notification_list')}?page=2#notification-{note.pk}"
    assert unread(engineer) == 0


def test_marking_read_twice_keeps_the_first_time(client, engineer):
    note = notify(engineer)
    notification_mark_read(actor=engineer, notification=note, now=NOW)
    again = Notification.objects.get(pk=note.pk)
    notification_mark_read(actor=engineer, notification=again, now=NOW + timedelta(hours=1))
    note.refresh_from_db()
    assert note.read_at == NOW


def test_another_persons_notification_is_404_and_stays_unread(client, engineer, someone_else):
    theirs = notify(someone_else, "Sam's reminder")
    client.force_login(engineer)

    assert client.post(url("notification_read", theirs.pk)).status_code == 404
    assert client.post(url("notification_read", theirs.pk), **HTMX).status_code == 404
    assert unread(someone_else) == 1
    with pytest.raises(PermissionDenied):
        notification_mark_read(actor=engineer, notification=theirs)
    assert unread(someone_else) == 1


def test_mark_read_needs_a_post(client, engineer):
    note = notify(engineer)
    client.force_login(engineer)
    assert client.get(url("notification_read", note.pk)).status_code == 405
    assert client.get(url("notification_read_all")).status_code == 405
    assert unread(engineer) == 1


def test_mark_all_read_with_htmx_redraws_the_inbox(client, engineer, someone_else):
    for n in range(3):
        notify(engineer, f"Reminder {n}", minutes_ago=n)
    notify(someone_else)
    client.force_login(engineer)

    response = client.post(url("notification_read_all"), **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "notificationsChanged"
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="inbox" id="inbox"')
    assert "All read" in html and "Mark read" not in html
    assert unread(engineer) == 0
    assert unread(someone_else) == 1


def test_mark_all_read_leaves_what_arrived_after_the_page_was_drawn(client, engineer):
    seen = notify(engineer, "Seen", minutes_ago=10)
    client.force_login(engineer)
    html = client.get(url("notification_list")).content.decode()
    assert f'name="up_to" value="{seen.pk}"' in html
    late = notify(engineer, "Arrived later")

    response = client.post(url("notification_read_all"), {"up_to": seen.pk})

    assert response.status_code == 302
    seen.refresh_from_db()
    late.refresh_from_db()
    assert seen.read_at is not None and late.read_at is None


def test_mark_all_read_without_javascript_says_how_many(client, engineer):
    notify(engineer, "One")
    notify(engineer, "Two")
    client.force_login(engineer)

    response = client.post(url("notification_read_all"), follow=True)

    assert response.redirect_chain == [(url("notification_list"), 302)]
    assert "Marked 2 notifications read." in response.content.decode()
    again = client.post(url("notification_read_all"), follow=True).content.decode()
    assert "Nothing to mark" in again
    assert notifications_mark_all_read(actor=engineer, now=NOW) == 0


# --- the bell ------------------------------------------------------------------------------------


def test_bell_counts_unread_with_an_accessible_label(client, engineer, someone_else):
    for n in range(3):
        notify(engineer, f"Reminder {n}")
    notify(engineer, "Already read", read=True)
    notify(someone_else)
    client.force_login(engineer)

    response = client.get(url("notification_bell"), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="bell__count" aria-hidden="true">3</span>' in html
    assert '<span class="visually-hidden">3 unread notifications</span>' in html
    assert "no-store" in response["Cache-Control"]


def test_bell_has_no_badge_when_all_is_read(client, engineer):
    notify(engineer, read=True)
    client.force_login(engineer)
    html = client.get(url("notification_bell"), **HTMX).content.decode()
    assert "bell__count" not in html
    assert "Notifications, none unread" in html


def test_bell_caps_the_badge_but_not_the_label(client, engineer):
    Notification.objects.bulk_create(
        Notification(recipient=engineer, kind=KINDS[0], title=f"n{n}", created_at=NOW)
        for n in range(120)
    )
    client.force_login(engineer)
    html = client.get(url("notification_bell"), **HTMX).content.decode()
    assert '<span class="bell__count" aria-hidden="true">99+</span>' in html
    assert "120 unread notifications" in html


def test_bell_asks_the_same_few_queries_however_many_notifications(client, engineer):
    client.force_login(engineer)
    client.get(url("notification_bell"), **HTMX)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("notification_bell"), **HTMX).status_code == 200
        return len(queries)

    before = count()
    for n in range(30):
        notify(engineer, f"Reminder {n}", read=n % 2 == 0)
    assert count() == before
    assert before <= 3  # session, user, one COUNT


def test_bell_after_logging_out_is_a_quiet_204(client, engineer):
    response = client.get(url("notification_bell"), **HTMX)
    assert response.status_code == 204
    assert response.content == b""


def test_top_bar_has_the_bell_refreshing_itself(client, engineer):
    notify(engineer)
    client.force_login(engineer)
    html = client.get(reverse("accounts:profile")).content.decode()
    bell = html[html.index('<a class="bell"') :]
    bell = bell[: bell.index("</a>")]
    assert f'href="{url("notification_list")}"' in bell
    assert f'hx-get="{url("notification_bell")}"' in bell
    assert 'hx-trigger="load, every 30s, notificationsChanged from:body"' in bell
    assert html.index('class="bell"') < html.index('class="usermenu"')
    # On the inbox the count is known: the bell is drawn with it and skips the first load.
    html = client.get(url("notification_list")).content.decode()
    assert 'hx-trigger="every 30s, notificationsChanged from:body"' in html
    assert "1 unread notification<" in html


def test_base_template_for_anonymous_visitors_has_no_bell_and_asks_nothing(rf, engineer):
    notify(engineer)
    request = rf.get("/somewhere/")
    request.user = AnonymousUser()
    with CaptureQueriesContext(connection) as queries:
        html = render_to_string("base.html", request=request)
    assert "Stationmaster" in html
    assert 'class="bell"' not in html and url("notification_bell") not in html
    assert len(queries) == 0


# --- settings ------------------------------------------------------------------------------------


def test_settings_page_shows_the_grid_checked_by_default_and_where_email_goes(client, engineer):
    client.force_login(engineer)
    response = client.get(url("notification_settings"))
    assert response.status_code == 200
    html = response.content.decode()
    for kind in KINDS:
        for channel in ("in_app", "email"):
            box = f'name="{kind}" value="{channel}" id="ns-{kind}-{channel}" checked>'
            assert f'<input type="checkbox" {box}' in html
            assert f'<label class="ns-grid__hit" for="ns-{kind}-{channel}"><input' in html
    assert 'value="webhook"' not in html  # a team's webhook is not a personal channel
    # Each box is named by its kind and channel.
    assert '<span class="visually-hidden">Departure coming: Email</span></label>' in html
    assert "Email goes to <strong" in html and "erin@example.com" in html
    assert "(your account email)" in html
    assert f'href="{reverse("accounts:profile")}"' in html


def test_settings_page_says_so_when_there_is_no_email_address(client):
    user = UserFactory(username="noemail", email="")
    client.force_login(user)
    html = client.get(url("notification_settings")).content.decode()
    assert "You have no email address" in html
    assert "Add one on your profile" in html


def test_settings_round_trip_with_channels_for(client, engineer):
    client.force_login(engineer)
    data = settings_data(
        departure_coming=[Channel.IN_APP],
        swap_opened=[],
        freeze_starts=[Channel.EMAIL],
    )

    response = client.post(url("notification_settings"), data, follow=True)

    assert response.redirect_chain == [(url("notification_settings"), 302)]
    html = response.content.decode()
    assert "Saved. New notifications follow these settings." in html
    engineer.refresh_from_db()
    # Only the kinds that differ from the default are stored.
    assert engineer.notification_settings == {
        "departure_coming": ["in_app"],
        "freeze_starts": ["email"],
        "swap_opened": [],
    }
    assert channels_for(engineer, "departure_coming") == ["in_app"]
    assert channels_for(engineer, "freeze_starts") == ["email"]
    assert channels_for(engineer, "swap_opened") == []
    assert channels_for(engineer, "captain_handoff") == ["in_app", "email"]
    assert 'id="ns-departure_coming-email">' in html  # drawn unticked
    assert 'id="ns-departure_coming-in_app" checked>' in html
    assert AuditEntry.objects.filter(
        action="user.notification_settings_updated", actor=engineer
    ).exists()

    # Ticking everything again goes back to the defaults.
    client.post(url("notification_settings"), settings_data())
    engineer.refresh_from_db()
    assert engineer.notification_settings == {}


def test_settings_with_htmx_answer_the_card(client, engineer):
    client.force_login(engineer)
    response = client.post(
        url("notification_settings"), settings_data(checklist_open=[Channel.EMAIL]), **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card ns-card" id="settings"')
    assert "Saved." in html
    assert 'id="ns-checklist_open-in_app">' in html
    engineer.refresh_from_db()
    assert engineer.notification_settings == {"checklist_open": ["email"]}


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"departure_coming": ["sms"]}, "“sms” is not a channel you can choose"),
        ({"departure_coming": ["webhook"]}, "“webhook” is not a channel you can choose"),
        ({"pager_storm": ["email"]}, "There is no notification kind “pager_storm”"),
    ],
)
def test_settings_refuse_unknown_kinds_and_channels_and_write_nothing(
    client, engineer, bad, message
):
    engineer.notification_settings = {"swap_taken": ["email"]}
    engineer.save()
    client.force_login(engineer)
    data = {**settings_data(swap_opened=[]), **bad}

    for extra in ({}, HTMX):
        response = client.post(url("notification_settings"), data, **extra)
        assert response.status_code == 422
        html = response.content.decode()
        assert "Nothing was saved" in html
        assert message in html

    engineer.refresh_from_db()
    assert engineer.notification_settings == {"swap_taken": ["email"]}
    assert not AuditEntry.objects.filter(action="user.notification_settings_updated").exists()


def test_settings_service_refuses_bad_input_itself(engineer):
    with pytest.raises(ValidationError) as refused:
        notification_settings_update(
            actor=engineer, settings={"departure_coming": ["in_app"], "made_up": ["email"]}
        )
    assert "There is no notification kind “made_up”." in refused.value.messages
    engineer.refresh_from_db()
    assert engineer.notification_settings == {}


def test_settings_keep_kinds_not_named(engineer):
    notification_settings_update(actor=engineer, settings={"swap_taken": []})
    notification_settings_update(actor=engineer, settings={"swap_opened": ["email", "in_app"]})
    engineer.refresh_from_db()
    assert engineer.notification_settings == {"swap_taken": []}


def test_profile_links_to_notification_settings(client, engineer):
    client.force_login(engineer)
    html = client.get(reverse("accounts:profile")).content.decode()
    assert f'<a href="{url("notification_settings")}">Notification settings</a>' in html
