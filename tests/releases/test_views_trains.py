"""The train pages: list, form with live preview, train page and its actions, blackouts."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from releases.departures import slot_key
from releases.forms import rule_shape, timetable_in_words
from releases.models import (
    BlackoutPeriod,
    ChangeItem,
    DepartureException,
    DepartureLog,
    Release,
    ReleaseKind,
    Train,
)
from releases.selectors import next_departures
from releases.services.changes import change_item_add
from releases.services.trains import departure_skip
from releases.timetable import Timetable
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ChangeItemFactory, ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def team():
    return TeamFactory(name="Checkout team", slug="checkout", timezone="Europe/Berlin")


@pytest.fixture
def manager(team):
    user = UserFactory(username="morgan", first_name="Morgan", timezone="America/New_York")
    MembershipFactory(user=user, team=team, role="manager")
    return user


@pytest.fixture
def engineer(team):
    user = UserFactory(username="erin", first_name="Erin", timezone="Europe/Berlin")
    MembershipFactory(user=user, team=team, role="engineer")
    return user


@pytest.fixture
def outsider():
    user = UserFactory(username="olly")
    MembershipFactory(user=user, team=TeamFactory(name="Payments", slug="payments"), role="manager")
    return user


@pytest.fixture
def train(team):
    return TrainFactory(team=team, name="Checkout", slug="checkout")


def train_url(train, name="train_detail", *extra):
    return reverse(f"releases:{name}", args=[train.team.slug, train.slug, *extra])


def next_slot(train, index=0):
    return next_departures(train, count=index + 1)[index].slot


def form_data(**overrides):
    data = {
        "name": "Search",
        "slug": "",
        "description": "The search service",
        "colour": "teal",
        "schedule": "weekly",
        "weekday": "TH",
        "time": "09:30",
        "nth": "1",
        "rrule": "",
        "starts_on": "2026-01-01",
        "timezone": "Europe/Berlin",
        "freeze_lead_hours": "24",
        "release_lead_hours": "48",
        "version_scheme": "semver_minor",
        "initial_version": "1.0.0",
        "empty_departure": "depart_empty",
        "reminder_hours": "1, 24",
    }
    return {**data, **overrides}


# --- the timetable in words -----------------------------------------------------------------


@pytest.mark.parametrize(
    "rule, words",
    [
        ("FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;BYMINUTE=0", "Weekly on Tuesday at 14:00 Europe/Berlin"),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;BYHOUR=9;BYMINUTE=30",
            "Every two weeks on Friday at 09:30 Europe/Berlin",
        ),
        (
            "FREQ=MONTHLY;BYDAY=2WE;BYHOUR=10;BYMINUTE=0",
            "Monthly on the second Wednesday at 10:00 Europe/Berlin",
        ),
        (
            "FREQ=MONTHLY;BYDAY=-1TH;BYHOUR=16;BYMINUTE=0",
            "Monthly on the last Thursday at 16:00 Europe/Berlin",
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=8;BYMINUTE=15",
            "Daily on weekdays at 08:15 Europe/Berlin",
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=11",
            "Weekly on Monday and Thursday at 11:00 Europe/Berlin",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=10",
            "FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=10 (Europe/Berlin)",
        ),
        (
            "FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;UNTIL=20261231T000000Z",
            "FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;UNTIL=20261231T000000Z (Europe/Berlin)",
        ),
    ],
)
def test_timetables_read_as_words_with_the_rrule_as_fallback(rule, words):
    assert timetable_in_words(rule, "Europe/Berlin") == words


def test_a_preset_rule_is_recognised_for_the_edit_form():
    shape = rule_shape("FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=9;BYMINUTE=5;BYSECOND=0")
    assert (shape.preset, shape.weekdays, shape.hour, shape.minute, shape.nth) == (
        "monthly",
        ("FR",),
        9,
        5,
        -1,
    )
    assert rule_shape("FREQ=DAILY;BYHOUR=9") is None


# --- every page renders; outsiders see nothing ------------------------------------------------


def test_every_page_renders_for_a_member(client, engineer, train):
    release = ReleaseFactory(train=train, version="1.4.0")
    client.force_login(engineer)
    for url in (
        reverse("releases:train_list"),
        train_url(train),
        reverse("releases:blackout_list"),
        release.get_absolute_url(),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'href="/static/css/releases.css"' in response.content.decode()


def test_every_manager_page_renders_for_a_manager(client, manager, train):
    client.force_login(manager)
    key = slot_key(next_slot(train))
    for url in (
        reverse("releases:train_create"),
        train_url(train, "train_edit"),
        train_url(train, "train_cut_now"),
        train_url(train, "departure_postpone", key),
    ):
        assert client.get(url).status_code == 200, url


def test_outsiders_get_404_for_another_teams_train_and_release(client, outsider, train):
    release = ReleaseFactory(train=train)
    item = ChangeItemFactory(train=train)
    key = slot_key(next_slot(train))
    client.force_login(outsider)
    for url in (
        train_url(train),
        train_url(train, "train_edit"),
        train_url(train, "train_cut_now"),
        train_url(train, "departure_postpone", key),
        release.get_absolute_url(),
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (train_url(train, "train_pause"), {"paused": "true"}),
        (train_url(train, "train_cut_now"), {}),
        (train_url(train, "departure_skip", key), {}),
        (train_url(train, "departure_restore", key), {}),
        (train_url(train, "change_add"), {"title": "Sneaky"}),
        (train_url(train, "change_ready", item.pk), {"ready": "false"}),
        (train_url(train, "train_edit"), form_data()),
    ):
        assert client.post(url, data).status_code == 404, url
    train.refresh_from_db()
    assert not train.is_paused
    assert not DepartureException.objects.exists()
    assert ChangeItem.objects.count() == 1
    assert Release.objects.count() == 1


def test_the_train_list_shows_only_the_viewers_teams(client, engineer, outsider, train):
    TrainFactory(team=outsider.teams.get(), name="Payouts")
    client.force_login(engineer)
    html = client.get(reverse("releases:train_list")).content.decode()
    assert "Checkout" in html and "Payouts" not in html


def test_a_malformed_departure_in_the_url_is_404(client, manager, train):
    client.force_login(manager)
    assert client.post(train_url(train, "departure_skip", "tuesday")).status_code == 404
    assert client.get(train_url(train, "departure_postpone", "20261201T130500Z")).status_code == 404


# --- engineers may not do what managers do ----------------------------------------------------


def test_engineers_get_403_on_manager_actions(client, engineer, train):
    key = slot_key(next_slot(train))
    client.force_login(engineer)
    for url in (
        reverse("releases:train_create"),
        train_url(train, "train_edit"),
        train_url(train, "train_cut_now"),
        train_url(train, "departure_postpone", key),
    ):
        assert client.get(url).status_code == 403, url
    for url, data in (
        (reverse("releases:train_create"), form_data()),
        (reverse("releases:train_preview"), form_data()),
        (train_url(train, "train_edit"), form_data(name="Renamed")),
        (train_url(train, "train_pause"), {"paused": "true"}),
        (train_url(train, "train_cut_now"), {}),
        (train_url(train, "departure_skip", key), {"reason": "no"}),
        (train_url(train, "departure_postpone", key), {"hours": "2"}),
        (train_url(train, "departure_restore", key), {}),
        (reverse("releases:blackout_list"), {"team": str(train.team_id)}),
    ):
        assert client.post(url, data).status_code == 403, url
    train.refresh_from_db()
    assert (train.name, train.is_paused) == ("Checkout", False)
    assert Train.objects.count() == 1
    assert not Release.objects.exists()
    assert not DepartureException.objects.exists()
    assert not BlackoutPeriod.objects.exists()


def test_engineers_see_no_manager_actions(client, engineer, train):
    client.force_login(engineer)
    html = client.get(train_url(train)).content.decode()
    assert "/cut-now/" not in html and "/skip/" not in html and "/pause/" not in html
    assert "/postpone/" not in html and "/edit/" not in html
    assert "Add change" in html
    html = client.get(reverse("releases:train_list")).content.decode()
    assert "New train" not in html


# --- the train list ---------------------------------------------------------------------------


def test_the_train_list_groups_trains_with_timetable_next_departure_and_waiting(
    client, manager, team, train
):
    TrainFactory(team=team, name="Admin app", is_paused=True)
    ChangeItemFactory(train=train, is_ready=False)
    ChangeItemFactory(train=train, is_ready=True)
    client.force_login(manager)
    response = client.get(reverse("releases:train_list"))
    html = response.content.decode()
    assert "Checkout team" in html
    assert "Weekly on Tuesday at 14:00 Europe/Berlin" in html
    assert "New train" in html and reverse("releases:blackout_list") in html
    assert re.search(r">2<span class=\"visually-hidden\"> changes waiting", html)
    assert "Paused" in html and "Not departing while paused" in html
    departs = next_slot(train).isoformat()
    assert f'datetime="{departs}"' in html


def test_the_empty_train_list_offers_the_first_train_to_managers(client, manager):
    client.force_login(manager)
    html = client.get(reverse("releases:train_list")).content.decode()
    assert "No trains yet" in html and "Create the first train" in html


def test_the_empty_train_list_tells_engineers_who_can_create_one(client, engineer):
    client.force_login(engineer)
    html = client.get(reverse("releases:train_list")).content.decode()
    assert "No trains yet" in html and "A manager of your team can create one" in html


def test_the_train_list_query_count_does_not_grow_with_trains(
    client, manager, team, django_assert_max_num_queries
):
    for index in range(25):
        train = TrainFactory(team=team, name=f"Train {index}", slug=f"train-{index}")
        ChangeItemFactory(train=train)
        DepartureException.objects.create(
            train=train, slot=next_slot(train), kind="skip", reason="Holiday"
        )
    BlackoutPeriod.objects.create(
        team=team, starts_on=date.today(), ends_on=date.today() + timedelta(days=3), reason="x"
    )
    client.force_login(manager)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("releases:train_list"))
    assert response.status_code == 200
    assert response.content.decode().count('class="train-name"') == 25


# --- creating and editing trains --------------------------------------------------------------


def test_a_manager_creates_a_train_with_a_preset(client, manager, team):
    client.force_login(manager)
    response = client.post(reverse("releases:train_create"), form_data(team=str(team.pk)))
    train = Train.objects.get()
    assert response.status_code == 302
    assert response.url == train.get_absolute_url()
    assert (train.slug, train.colour, train.timezone) == ("search", "teal", "Europe/Berlin")
    assert train.rrule == "FREQ=WEEKLY;BYDAY=TH;BYHOUR=9;BYMINUTE=30"
    assert train.created_by == manager
    assert train.reminder_hours == [24, 1]
    html = client.get(response.url).content.decode()
    assert "Search is on the timetable" in html
    assert "Weekly on Thursday at 09:30 Europe/Berlin" in html


@pytest.mark.parametrize(
    "preset, extra, rule",
    [
        ("biweekly", {"weekday": "MO"}, "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=9;BYMINUTE=30"),
        ("monthly", {"weekday": "WE", "nth": "-1"}, "FREQ=MONTHLY;BYDAY=-1WE;BYHOUR=9;BYMINUTE=30"),
        ("weekdays", {}, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=30"),
        ("custom", {"rrule": "freq=monthly;bymonthday=15"}, "FREQ=MONTHLY;BYMONTHDAY=15"),
    ],
)  # fmt: skip
def test_each_preset_and_a_custom_rule_make_the_right_rrule(
    client, manager, team, preset, extra, rule
):
    client.force_login(manager)
    data = form_data(team=str(team.pk), schedule=preset, **extra)
    assert client.post(reverse("releases:train_create"), data).status_code == 302
    assert Train.objects.get().rrule == rule


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"schedule": "custom", "rrule": "FREQ=SOMETIMES"}, "rrule", "not a valid RFC 5545 RRULE"),
        ({"timezone": "Europe/Atlantis"}, "timezone", "is not a known IANA timezone"),
        (
            {"schedule": "custom", "rrule": "FREQ=WEEKLY;BYDAY=TU;UNTIL=20251201T000000Z"},
            "rrule",
            "no future departure",
        ),
        ({"schedule": "custom", "rrule": "FREQ=MINUTELY"}, "rrule", "at least an hour apart"),
        ({"schedule": "custom", "rrule": ""}, "rrule", "Enter a timetable rule"),
        ({"name": ""}, "name", "This field is required"),
        ({"time": ""}, "time", "Choose the time of day"),
        ({"time": "25:99"}, "time", "Enter a valid time"),
        ({"initial_version": "v1"}, "initial_version", "SemVer"),
        ({"reminder_hours": "soon"}, "reminder_hours", "Whole hours separated by commas"),
        ({"reminder_hours": "0, 1"}, "reminder_hours", "Up to five reminders"),
    ],
)
def test_bad_trains_are_refused_with_400_and_nothing_is_written(
    client, manager, team, overrides, field, message
):
    client.force_login(manager)
    response = client.post(
        reverse("releases:train_create"), form_data(team=str(team.pk), **overrides)
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Train.objects.exists()


def test_a_train_name_taken_in_the_team_is_a_form_error(client, manager, team, train):
    client.force_login(manager)
    response = client.post(
        reverse("releases:train_create"), form_data(team=str(team.pk), name="Checkout")
    )
    assert response.status_code == 400
    assert Train.objects.count() == 1
    assert response.context["form"].errors


def test_a_manager_cannot_create_a_train_for_a_team_they_do_not_manage(
    client, manager, engineer, outsider
):
    client.force_login(manager)
    other = outsider.teams.get()
    response = client.post(reverse("releases:train_create"), form_data(team=str(other.pk)))
    assert response.status_code == 400
    assert "team" in response.context["form"].errors
    assert not Train.objects.exists()


def test_the_form_defaults_to_the_teams_timezone_and_shows_a_preview(client, manager, team):
    team.timezone = "Asia/Tokyo"
    team.save()
    client.force_login(manager)
    response = client.get(reverse("releases:train_create") + "?team=checkout")
    assert response.context["form"]["timezone"].value() == "Asia/Tokyo"
    html = response.content.decode()
    assert html.count('class="preview-row"') == 5
    assert 'hx-post="/trains/preview/"' in html
    assert 'hx-trigger="change, keyup changed delay:400ms"' in html


def test_the_preview_is_rendered_on_a_post_with_errors_without_javascript(client, manager, team):
    client.force_login(manager)
    response = client.post(reverse("releases:train_create"), form_data(team=str(team.pk), name=""))
    assert response.status_code == 400
    assert response.content.decode().count('class="preview-row"') == 5


def test_the_preview_button_previews_without_saving(client, manager, team):
    client.force_login(manager)
    response = client.post(
        reverse("releases:train_create"), form_data(team=str(team.pk), preview="1")
    )
    assert response.status_code == 200
    assert response.content.decode().count('class="preview-row"') == 5
    assert not Train.objects.exists()


def test_the_htmx_preview_is_a_fragment_in_both_timezones(client, manager, team):
    client.force_login(manager)  # the viewer is in America/New_York
    data = form_data(team=str(team.pk), weekday="TU", time="14:00")
    response = client.post(reverse("releases:train_preview"), data, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html
    assert html.count('class="preview-row"') == 5
    assert "Train time</strong> (Europe/Berlin)" in html
    assert "Your time (America/New_York)" in html
    timetable = Timetable.parse(
        "FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;BYMINUTE=0",
        starts_on=date(2026, 1, 1),
        timezone="Europe/Berlin",
    )
    for slot in timetable.next_after(timezone.now(), 5):
        berlin = slot.astimezone(ZoneInfo("Europe/Berlin"))
        new_york = slot.astimezone(ZoneInfo("America/New_York"))
        assert f"{berlin:%H:%M} {berlin.tzname()}" in html
        assert f"{new_york:%H:%M} {new_york.tzname()}" in html
        assert berlin.strftime("%H:%M") == "14:00"


def test_the_htmx_preview_shows_the_timetable_error(client, manager, team):
    client.force_login(manager)
    data = form_data(team=str(team.pk), schedule="custom", rrule="FREQ=SOMETIMES")
    response = client.post(reverse("releases:train_preview"), data, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in html and "not a valid RFC 5545 RRULE" in html
    assert "preview-row" not in html
    assert not Train.objects.exists()


def test_a_manager_edits_a_train_and_the_form_knows_its_preset(client, manager, train):
    client.force_login(manager)
    form = client.get(train_url(train, "train_edit")).context["form"]
    assert form["schedule"].value() == "weekly"
    assert form["weekday"].value() == "TU"
    assert "team" not in form.fields
    data = form_data(
        name="Checkout web", slug="checkout", schedule="custom", rrule="FREQ=DAILY;BYHOUR=9"
    )
    response = client.post(train_url(train, "train_edit"), data)
    assert response.status_code == 302
    train.refresh_from_db()
    assert (train.name, train.rrule) == ("Checkout web", "FREQ=DAILY;BYHOUR=9")


def test_a_custom_rule_is_edited_as_custom(client, manager, team):
    train = TrainFactory(team=team, rrule="FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=10")
    client.force_login(manager)
    form = client.get(train_url(train, "train_edit")).context["form"]
    assert (form["schedule"].value(), form["rrule"].value()) == ("custom", train.rrule)


def test_a_bad_edit_writes_nothing(client, manager, train):
    client.force_login(manager)
    response = client.post(
        train_url(train, "train_edit"), form_data(name="Renamed", timezone="Mars/Base")
    )
    assert response.status_code == 400
    train.refresh_from_db()
    assert train.name == "Checkout"


# --- the train page ---------------------------------------------------------------------------


def test_the_train_page_shows_departures_waiting_changes_releases_and_the_log(
    client, manager, train
):
    ChangeItemFactory(train=train, title="Faster search", is_ready=True, carried_over=2)
    ChangeItemFactory(train=train, title="New banner", is_ready=False)
    ReleaseFactory(train=train, version="1.2.0")
    DepartureLog.objects.create(
        train=train,
        slot=datetime(2026, 1, 6, 13, 0, tzinfo=UTC),
        outcome="missed",
        note="Missed while Stationmaster was not running; a later departure was cut.",
        recorded_at=datetime(2026, 1, 20, 13, 0, tzinfo=UTC),
    )
    DepartureLog.objects.create(
        train=train,
        slot=datetime(2026, 1, 13, 13, 0, tzinfo=UTC),
        outcome="blackout",
        note="Year-end freeze",
        recorded_at=datetime(2026, 1, 20, 13, 0, tzinfo=UTC),
    )
    client.force_login(manager)
    html = client.get(train_url(train)).content.decode()
    assert "Weekly on Tuesday at 14:00 Europe/Berlin" in html
    assert html.count('class="departure departure--scheduled"') == 8
    assert "Faster search" in html and "Carried over 2×" in html
    assert "Batch: <strong>1</strong> of 2 ready" in html
    assert "1.2.0" in html
    assert "Missed during downtime" in html and "a later departure was cut" in html
    assert "Did not depart: blackout" in html and "Year-end freeze" in html
    # The viewer is in New York; the train runs on Berlin time, so both are shown.
    assert "train time is Europe/Berlin" in html
    assert 'hx-confirm="Cut an ad-hoc release of Checkout now?"' in html


def test_skipped_postponed_and_blacked_out_departures_are_listed(client, manager, train, team):
    first, second = next_slot(train), next_slot(train, 1)
    departure_skip(actor=manager, train=train, slot=first, reason="Public holiday")
    DepartureException.objects.create(
        train=train, slot=second, kind="postpone", postpone_hours=3, reason="Migration"
    )
    third_day = next_slot(train, 2).astimezone(ZoneInfo("Europe/Berlin")).date()
    BlackoutPeriod.objects.create(
        team=team, starts_on=third_day, ends_on=third_day, reason="Launch"
    )
    client.force_login(manager)
    html = client.get(train_url(train)).content.decode()
    assert "departure--skipped" in html and "Public holiday" in html
    assert "departure--postponed" in html and "Postponed 3" in html and "Migration" in html
    assert "departure--blackout" in html and "Launch" in html
    assert (
        html.count('class="departure departure--scheduled"') == 7
    )  # with the postponed one, 8 leave
    assert html.count(">Restore<") == 2


def test_the_train_page_query_count_is_bounded(
    client, manager, train, django_assert_max_num_queries
):
    for index in range(60):
        release = ReleaseFactory(
            train=train,
            version=f"2.{index}.0",
            cut_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=index),
        )
        ChangeItemFactory(train=train, release=release)
        ChangeItemFactory(train=train, is_ready=index % 2 == 0)
        DepartureLog.objects.create(
            train=train,
            slot=datetime(2025, 1, 7, 13, 0, tzinfo=UTC) + timedelta(weeks=index),
            outcome="cut",
            release=release,
            recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    client.force_login(manager)
    with django_assert_max_num_queries(15):
        response = client.get(train_url(train))
    html = response.content.decode()
    assert "Page 1 of 3" in html and "?page=2#releases" in html
    assert client.get(train_url(train) + "?page=3").status_code == 200


def test_pause_and_resume(client, manager, train):
    client.force_login(manager)
    response = client.post(train_url(train, "train_pause"), {"paused": "true"}, follow=True)
    train.refresh_from_db()
    assert train.is_paused
    assert "is paused" in response.content.decode()
    client.post(train_url(train, "train_pause"), {"paused": "false"})
    train.refresh_from_db()
    assert not train.is_paused


# --- skip, postpone, restore ------------------------------------------------------------------


def test_a_manager_skips_a_departure(client, manager, train):
    slot = next_slot(train)
    client.force_login(manager)
    response = client.post(
        train_url(train, "departure_skip", slot_key(slot)), {"reason": "Holiday"}, follow=True
    )
    exception = DepartureException.objects.get()
    assert (exception.slot, exception.kind, exception.reason) == (slot, "skip", "Holiday")
    assert "is skipped" in response.content.decode()


def test_skipping_through_htmx_answers_with_the_departures_card(client, manager, train):
    slot = next_slot(train)
    client.force_login(manager)
    response = client.post(train_url(train, "departure_skip", slot_key(slot)), {}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card" id="departures"')
    assert "<html" not in html
    assert "departure--skipped" in html and "is skipped" in html


def test_skipping_a_past_departure_is_refused_and_writes_nothing(client, manager, train):
    client.force_login(manager)
    past = datetime(2026, 1, 6, 13, 0, tzinfo=UTC)
    response = client.post(train_url(train, "departure_skip", slot_key(past)))
    assert response.status_code == 400
    assert "That departure is in the past." in response.content.decode()
    assert not DepartureException.objects.exists()
    response = client.post(train_url(train, "departure_skip", slot_key(past)), **HTMX)
    assert (response.status_code, response.headers["HX-Refresh"]) == (400, "true")


def test_a_manager_postpones_a_departure(client, manager, train):
    slot = next_slot(train)
    url = train_url(train, "departure_postpone", slot_key(slot))
    client.force_login(manager)
    html = client.get(url).content.decode()
    assert "Postpone the departure of" in html and "Next departure" in html
    response = client.post(url, {"hours": "3", "reason": "Waiting for the migration"})
    assert response.status_code == 302
    exception = DepartureException.objects.get()
    assert (exception.kind, exception.postpone_hours) == ("postpone", 3)
    html = client.get(train_url(train)).content.decode()
    assert "departure--postponed" in html and "Waiting for the migration" in html


@pytest.mark.parametrize(
    "hours, message",
    [("168", "cannot reach the next departure"), ("0", "greater than or equal to 1"), ("x", "")],
)
def test_a_bad_postponement_is_refused_with_400(client, manager, train, hours, message):
    url = train_url(train, "departure_postpone", slot_key(next_slot(train)))
    client.force_login(manager)
    response = client.post(url, {"hours": hours})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not DepartureException.objects.exists()


def test_a_manager_restores_a_skipped_departure(client, manager, train):
    slot = next_slot(train)
    departure_skip(actor=manager, train=train, slot=slot)
    client.force_login(manager)
    response = client.post(train_url(train, "departure_restore", slot_key(slot)), **HTMX)
    assert response.status_code == 200
    assert not DepartureException.objects.exists()
    assert "runs on the timetable again" in response.content.decode()


# --- cut now --------------------------------------------------------------------------------


def test_a_manager_cuts_now(client, manager, train):
    change_item_add(actor=manager, train=train, title="Ready one", is_ready=True)
    client.force_login(manager)
    html = client.get(train_url(train, "train_cut_now")).content.decode()
    assert "Cut an ad-hoc release of Checkout now?" in html
    response = client.post(train_url(train, "train_cut_now"), {"note": "Security fix"})
    release = Release.objects.get()
    assert response.status_code == 302 and response.url == release.get_absolute_url()
    assert (release.kind, release.version, release.status) == (ReleaseKind.ADHOC, "1.0.0", "cut")
    assert release.changes.get().title == "Ready one"
    assert release.events.get().note == "Security fix"


def test_cutting_now_through_htmx_redirects_to_the_release(client, manager, train):
    client.force_login(manager)
    response = client.post(train_url(train, "train_cut_now"), **HTMX)
    release = Release.objects.get()
    assert response.headers["HX-Redirect"] == release.get_absolute_url()


# --- changes waiting for the next departure -------------------------------------------------


def test_a_member_adds_a_change(client, engineer, train):
    client.force_login(engineer)
    response = client.post(
        train_url(train, "change_add"),
        {"title": "Faster checkout", "link": "https://git.example.com/pr/12", "is_ready": "on"},
    )
    assert response.status_code == 302 and response.url.endswith("#waiting")
    item = ChangeItem.objects.get()
    assert (item.title, item.is_ready, item.author, item.release) == (
        "Faster checkout",
        True,
        engineer,
        None,
    )


def test_a_bad_change_is_refused_with_400(client, engineer, train):
    client.force_login(engineer)
    response = client.post(train_url(train, "change_add"), {"title": "", "link": "not a url"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required" in html and "Enter a valid URL" in html
    assert not ChangeItem.objects.exists()


def test_the_ready_toggle_swaps_the_row_through_htmx(client, engineer, train):
    item = ChangeItemFactory(train=train, title="Faster checkout", is_ready=False)
    ChangeItemFactory(train=train, is_ready=True)
    client.force_login(engineer)
    response = client.post(train_url(train, "change_ready", item.pk), {"ready": "true"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(
        f'<li class="change-row change-row--ready" id="change-{item.pk}"'
    )
    assert 'aria-pressed="true"' in html and "<html" not in html
    assert 'id="batch-summary" hx-swap-oob="true"' in html
    assert "Batch: <strong>2</strong> of 2 ready" in html
    item.refresh_from_db()
    assert item.is_ready


def test_the_ready_toggle_works_without_javascript(client, engineer, train):
    item = ChangeItemFactory(train=train, is_ready=True)
    client.force_login(engineer)
    response = client.post(train_url(train, "change_ready", item.pk), {"ready": "false"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert not item.is_ready


def test_a_departed_change_cannot_be_toggled(client, engineer, train):
    item = ChangeItemFactory(train=train, release=ReleaseFactory(train=train), is_ready=True)
    client.force_login(engineer)
    response = client.post(train_url(train, "change_ready", item.pk), {"ready": "false"})
    assert response.status_code == 400
    assert "already departed" in response.content.decode()
    item.refresh_from_db()
    assert item.is_ready


# --- blackouts --------------------------------------------------------------------------------


def test_a_manager_declares_and_lifts_a_blackout(client, manager, team):
    client.force_login(manager)
    start = date.today() + timedelta(days=10)
    response = client.post(
        reverse("releases:blackout_list"),
        {
            "team": str(team.pk),
            "starts_on": start.isoformat(),
            "ends_on": (start + timedelta(days=2)).isoformat(),
            "reason": "Year-end freeze",
        },
        follow=True,
    )
    blackout = BlackoutPeriod.objects.get()
    assert (blackout.team, blackout.reason) == (team, "Year-end freeze")
    html = response.content.decode()
    assert "Year-end freeze" in html and "3 days" in html
    assert 'hx-confirm="Lift the blackout “Year-end freeze”' in html
    url = reverse("releases:blackout_delete", args=[blackout.pk])
    assert "Lift the blackout" in client.get(url).content.decode()
    client.post(url)
    assert not BlackoutPeriod.objects.exists()


def test_a_blackout_that_ends_before_it_starts_is_refused(client, manager, team):
    client.force_login(manager)
    response = client.post(
        reverse("releases:blackout_list"),
        {"team": str(team.pk), "starts_on": "2026-12-24", "ends_on": "2026-12-20", "reason": "x"},
    )
    assert response.status_code == 400
    assert "cannot end before it starts" in response.content.decode()
    assert not BlackoutPeriod.objects.exists()


def test_only_staff_declare_organisation_wide_blackouts(client, manager, team):
    client.force_login(manager)
    data = {"team": "everyone", "starts_on": "2026-12-24", "ends_on": "2026-12-26", "reason": "x"}
    assert client.post(reverse("releases:blackout_list"), data).status_code == 400
    assert not BlackoutPeriod.objects.exists()
    manager.is_staff = True
    manager.save()
    assert client.post(reverse("releases:blackout_list"), data).status_code == 302
    assert BlackoutPeriod.objects.get().team is None


def test_blackouts_of_other_teams_are_hidden_and_cannot_be_lifted(client, engineer, outsider, team):
    theirs = BlackoutPeriod.objects.create(
        team=outsider.teams.get(),
        starts_on=date.today() - timedelta(days=1),
        ends_on=date.today() + timedelta(days=1),
        reason="Their freeze",
    )
    ours = BlackoutPeriod.objects.create(
        team=team,
        starts_on=date.today() - timedelta(days=1),
        ends_on=date.today() + timedelta(days=1),
        reason="Our freeze",
    )
    everyone = BlackoutPeriod.objects.create(
        team=None,
        starts_on=date.today() - timedelta(days=1),
        ends_on=date.today() + timedelta(days=1),
        reason="Holiday",
    )
    client.force_login(engineer)
    html = client.get(reverse("releases:blackout_list")).content.decode()
    assert "Our freeze" in html and "Holiday" in html and "Their freeze" not in html
    assert "In effect" in html and "Declare a blackout" not in html
    assert client.post(reverse("releases:blackout_delete", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("releases:blackout_delete", args=[ours.pk])).status_code == 403
    assert client.post(reverse("releases:blackout_delete", args=[everyone.pk])).status_code == 403
    assert BlackoutPeriod.objects.count() == 3
