"""The release calendar: month, week and agenda, the HTMX fragment, filters, team scoping,
projected departures (skips, postponements, blackouts), departure pages and the query count."""

import re
import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from releases.calendar import EntryKind, calendar_range, calendar_view
from releases.departures import slot_key
from releases.models import BlackoutPeriod, CalendarFeedToken, ReleaseStatus
from releases.services.cutting import cut_due_trains
from releases.services.trains import blackout_create, departure_postpone, departure_skip
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ChangeItemFactory, ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# Tuesday 10 March 2026, 10:00 in Berlin. The checkout train leaves on Tuesdays at 14:00 Berlin:
# 13:00 UTC until Europe/Berlin moves to summer time on 29 March, 12:00 UTC after.
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TUE_10 = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
TUE_17 = datetime(2026, 3, 17, 13, 0, tzinfo=UTC)
TUE_24 = datetime(2026, 3, 24, 13, 0, tzinfo=UTC)
TUE_31 = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch):
    """Views read timezone.now(); pin it so that "upcoming" and "today" are known."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def team():
    return TeamFactory(slug="checkout", name="Checkout")


@pytest.fixture
def manager(team):
    return MembershipFactory(
        user=UserFactory(username="mia", first_name="Mia", last_name="Manager"),
        team=team,
        role="manager",
    ).user


@pytest.fixture
def train(team):
    return TrainFactory(
        team=team,
        name="Checkout Web",
        slug="checkout-web",
        colour="teal",
        handled_through=NOW,
        freeze_lead_hours=24,
    )


@pytest.fixture
def other_train():
    """A train of a team the viewer is not in."""
    return TrainFactory(
        team=TeamFactory(slug="secret", name="Secret"), name="Hidden Rocket", slug="rocket"
    )


def released(train, version, cut_at, **extra):
    return ReleaseFactory(
        train=train,
        version=version,
        slot=cut_at,
        cut_at=cut_at,
        target_at=cut_at + timedelta(hours=48),
        **extra,
    )


def html(response) -> str:
    return response.content.decode()


def month(trains, day=date(2026, 3, 10)):
    return calendar_view(trains, view="month", day=day, tz=BERLIN, now=NOW)


# --- builders ----------------------------------------------------------------------------------


def test_the_month_grid_runs_monday_to_sunday_with_neighbouring_days_muted(train):
    cal = month([train])
    assert cal.heading == "March 2026"
    assert (cal.start, cal.end) == (date(2026, 2, 23), date(2026, 4, 6))
    assert [len(week) for week in cal.weeks] == [7] * 6
    assert all(day.date.weekday() == 0 for day in (week[0] for week in cal.weeks))
    days = [day for week in cal.weeks for day in week]
    assert [d.date for d in days if d.is_today] == [date(2026, 3, 10)]
    assert {d.date.month for d in days if d.is_outside} == {2, 4}
    assert "calendar__day--today" in days[15].css
    assert (cal.previous, cal.next) == (date(2026, 2, 1), date(2026, 4, 1))


def test_releases_sit_on_their_cut_day_and_upcoming_departures_are_projected(train, manager):
    release = released(
        train, "4.12.0", datetime(2026, 3, 3, 13, 0, tzinfo=UTC), captain=manager, status="released"
    )
    data = calendar_range(
        [train],
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 4, 1, tzinfo=UTC),
        now=NOW,
        tz=BERLIN,
    )
    kinds = [(e.kind, e.at) for e in data.entries]
    assert kinds == [
        (EntryKind.RELEASE, release.cut_at),
        (EntryKind.DEPARTURE, TUE_10),
        (EntryKind.DEPARTURE, TUE_17),
        (EntryKind.DEPARTURE, TUE_24),
        (EntryKind.DEPARTURE, TUE_31),
    ]
    chip = data.entries[0]
    assert (chip.label, chip.badge_class, chip.badge_label) == (
        "Checkout Web 4.12.0",
        "released",
        "Released",
    )
    assert chip.captain == manager and chip.url == f"/releases/{release.pk}/"
    # Local times: 14:00 in Berlin on both sides of the DST change.
    assert {e.local.hour for e in data.entries[1:]} == {14}
    assert data.entries[1].url == f"/calendar/departures/{train.pk}/20260310T130000Z/"


def test_projected_departures_honour_skips_postponements_and_blackouts(train, manager):
    departure_skip(actor=manager, train=train, slot=TUE_17, reason="Team offsite", now=NOW)
    departure_postpone(actor=manager, train=train, slot=TUE_24, hours=3, reason="Audit", now=NOW)
    blackout_create(
        actor=manager,
        team=train.team,
        starts_on=date(2026, 3, 30),
        ends_on=date(2026, 4, 3),
        reason="Easter freeze",
    )
    cal = month([train])
    entries = {e.local.date(): e for week in cal.weeks for day in week for e in day.entries}
    assert (entries[date(2026, 3, 10)].badge_label, entries[date(2026, 3, 10)].departs) == (
        "Departs",
        True,
    )
    skipped = entries[date(2026, 3, 17)]
    assert (skipped.badge_class, skipped.badge_label, skipped.note) == (
        "neutral",
        "Skipped",
        "Team offsite",
    )
    postponed = entries[date(2026, 3, 24)]
    assert (postponed.badge_label, postponed.at, postponed.local.hour) == (
        "Postponed",
        TUE_24 + timedelta(hours=3),
        17,
    )
    blackout = entries[date(2026, 3, 31)]
    assert (blackout.badge_label, blackout.departs, blackout.note) == (
        "Blackout",
        False,
        "Easter freeze",
    )
    days = {day.date: day for week in cal.weeks for day in week}
    # Freezes shade the day before a departure that leaves, and its own morning.
    assert days[date(2026, 3, 9)].freeze_label == "Freeze: Checkout Web"
    assert days[date(2026, 3, 16)].freezes == []  # the 17th is skipped: no freeze
    assert days[date(2026, 3, 23)].freezes and days[date(2026, 3, 24)].freezes
    assert days[date(2026, 3, 30)].freezes == []  # blacked out
    assert days[date(2026, 3, 31)].blackout_label == "Blackout: Easter freeze"
    assert "calendar__day--blackout" in days[date(2026, 4, 2)].css
    assert "calendar__day--freeze" in days[date(2026, 3, 9)].css


def test_a_paused_train_projects_nothing_and_the_projection_ends_after_180_days(train):
    assert calendar_range([train], start=NOW, end=NOW + timedelta(days=400), now=NOW).entries[
        -1
    ].at < NOW + timedelta(days=180)
    far = month([train], day=date(2026, 10, 1))
    assert far.reaches_past_projection and far.projected_until == date(2026, 9, 6)
    train.is_paused = True
    assert month([train]).entry_count == 0


def test_the_week_shows_items_at_their_local_hour(train):
    at = datetime(2026, 3, 10, 1, 30, tzinfo=UTC)  # 02:30 in Berlin
    ReleaseFactory(train=train, kind="adhoc", version="4.11.0", cut_at=at, target_at=at)
    cal = calendar_view([train], view="week", day=date(2026, 3, 12), tz=BERLIN, now=NOW)
    assert cal.heading == "9 Mar – 15 Mar 2026"
    assert [d.date for d in cal.days] == [date(2026, 3, 9) + timedelta(days=n) for n in range(7)]
    assert [row.hour for row in cal.hours] == list(range(2, 20))
    by_hour = {row.hour: row for row in cal.hours}
    tuesday = 1
    assert [e.label for e in by_hour[2].cells[tuesday].entries] == ["Checkout Web 4.11.0"]
    assert [e.badge_label for e in by_hour[14].cells[tuesday].entries] == ["Departs"]
    # The 24 h freeze before Tuesday 14:00 shades Monday from 14:00 and Tuesday until 14:00.
    assert not by_hour[13].cells[0].is_freeze and by_hour[14].cells[0].is_freeze
    assert by_hour[13].cells[tuesday].is_freeze and not by_hour[14].cells[tuesday].is_freeze
    assert "calendar-week__slot--freeze" in by_hour[14].cells[0].css


def test_the_agenda_lists_thirty_days_with_freeze_starts(train):
    cal = calendar_view([train], view="agenda", day=date(2026, 3, 10), tz=BERLIN, now=NOW)
    assert (cal.start, cal.last_day) == (date(2026, 3, 10), date(2026, 4, 8))
    assert (cal.previous, cal.next) == (date(2026, 2, 8), date(2026, 4, 9))
    kinds = [(d.date, e.kind) for d in cal.days for e in d.entries]
    assert (date(2026, 3, 16), EntryKind.FREEZE) in kinds
    assert (date(2026, 3, 17), EntryKind.DEPARTURE) in kinds
    assert cal.days[0].date == date(2026, 3, 10)  # today, always listed
    assert max(d.date for d in cal.days) <= date(2026, 4, 8)


def test_the_agenda_announces_a_blackout_on_its_first_day_only(train, manager):
    blackout_create(
        actor=manager,
        team=train.team,
        starts_on=date(2026, 3, 12),
        ends_on=date(2026, 3, 20),
        reason="Hold",
    )
    cal = calendar_view([train], view="agenda", day=date(2026, 3, 14), tz=BERLIN, now=NOW)
    announced = [d.date for d in cal.days if d.blackouts]
    assert announced == [date(2026, 3, 14)]  # began before the agenda: on its first day
    skipped = next(e for d in cal.days for e in d.entries if e.at == TUE_17)
    assert (skipped.badge_label, skipped.is_muted) == ("Blackout", True)


def test_departures_missed_during_downtime_stay_on_the_calendar(client, frozen, manager, team):
    train = TrainFactory(
        team=team, name="Late Train", handled_through=datetime(2026, 2, 20, tzinfo=UTC)
    )
    cut_due_trains(now=NOW)  # 24 Feb and 3 Mar were missed; only the latest (3 Mar) is cut
    data = calendar_range(
        [train],
        start=datetime(2026, 2, 22, tzinfo=UTC),
        end=NOW + timedelta(hours=1),
        now=NOW,
        tz=BERLIN,
    )
    assert [(e.kind, e.badge_label) for e in data.entries] == [
        (EntryKind.UNMET, "Missed"),
        (EntryKind.RELEASE, "Cut"),
    ]
    client.force_login(manager)
    page = html(client.get(data.entries[0].url))
    assert "Missed during downtime" in page and 'badge--danger">Missed<' in page
    assert "did not leave" in page


# --- pages -------------------------------------------------------------------------------------


def test_a_member_sees_the_month(client, frozen, manager, train):
    released(train, "4.12.0", datetime(2026, 3, 3, 13, 0, tzinfo=UTC), captain=manager)
    client.force_login(manager)
    response = client.get("/calendar/")
    assert response.status_code == 200
    page = html(response)
    assert '<h2 class="cal-toolbar__heading" id="calendar-heading">March 2026</h2>' in page
    assert 'class="calendar__day calendar__day--today' in page
    assert "Checkout Web 4.12.0" in page and 'class="badge badge--cut">Cut<' in page
    assert ">MM</abbr>" in page  # the captain's initials
    assert "cal-train--teal" in page
    assert f'href="/calendar/departures/{train.pk}/20260317T130000Z/"' in page
    assert (
        'href="/calendar/?date=2026-04-01"' in page
        and 'hx-get="/calendar/?date=2026-02-01"' in page
    )
    assert "css/calendar.css" in page and "Code freeze (until the departure)" in page


def test_the_week_and_agenda_pages(client, frozen, manager, train):
    client.force_login(manager)
    week = html(client.get("/calendar/?view=week&date=2026-03-31"))
    assert (
        "30 Mar – 5 Apr 2026" in week
        and '<th scope="row" class="cal-week__hour">14:00</th>' in week
    )
    assert 'aria-current="page">Week</a>' in week
    agenda = html(client.get("/calendar/?view=agenda"))
    assert "Tuesday 10 March" in agenda and "Code freeze" in agenda
    assert "the agenda lists 30 days" in agenda
    assert ' style="' not in week + agenda  # CSP: classes only


def test_an_htmx_request_gets_only_the_calendar_partial(client, frozen, manager, train):
    client.force_login(manager)
    response = client.get(
        "/calendar/?date=2026-04-01&view=month&team=", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    fragment = html(response)
    assert fragment.lstrip().startswith('<div id="calendar"')
    assert "<html" not in fragment and "Release calendar</h1>" not in fragment
    assert "calendar-feed" not in fragment  # the feed box is outside the partial
    assert "April 2026" in fragment and 'hx-swap-oob="innerHTML">Showing April 2026' in fragment
    assert response["HX-Push-Url"] == "/calendar/?date=2026-04-01"  # canonical
    assert "HX-Request" in response["Vary"]


def test_a_history_restore_gets_the_whole_page(client, frozen, manager, train):
    client.force_login(manager)
    response = client.get(
        "/calendar/?view=week",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    page = html(response)
    assert "<html" in page and page.count('id="calendar-announce"') == 1


def test_filters_by_team_and_train(client, frozen, manager, train):
    second = TrainFactory(team=train.team, name="Checkout API", slug="api", handled_through=NOW)
    mobile = TrainFactory(
        team=MembershipFactory(user=manager, team=TeamFactory(slug="mobile", name="Mobile")).team,
        name="Mobile App",
        slug="app",
        handled_through=NOW,
    )
    client.force_login(manager)
    everything = html(client.get("/calendar/"))
    assert all(name in everything for name in ("Checkout Web", "Checkout API", "Mobile App"))
    assert '<optgroup label="Mobile">' in everything

    by_team = html(client.get("/calendar/?team=mobile"))
    assert "Mobile App" in by_team and "Checkout API" not in by_team
    assert '<option value="mobile" selected>' in by_team

    by_train = html(client.get(f"/calendar/?train={second.pk}"))
    assert by_train.count("cal-chip ") == 4 and "Checkout Web</li>" not in by_train
    assert f'<option value="{second.pk}" selected>' in by_train
    assert "Subscribe to just this filter" not in by_train  # no feed URL yet

    # A train left over from another team after the team select changed: the team wins.
    response = client.get(
        f"/calendar/?team=mobile&train={second.pk}", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and response["HX-Push-Url"] == "/calendar/?team=mobile"
    assert "Checkout API" not in html(response).split("</form>")[1]
    assert mobile.name in html(response)


def test_outsiders_never_see_other_teams_trains(client, frozen, manager, train, other_train):
    released(other_train, "9.9.9", datetime(2026, 3, 3, 13, 0, tzinfo=UTC))
    client.force_login(manager)
    page = html(client.get("/calendar/"))
    assert "Hidden Rocket" not in page and "9.9.9" not in page and "Secret" not in page

    for query in ("team=secret", f"train={other_train.pk}"):
        response = client.get(f"/calendar/?{query}")
        assert response.status_code == 400
        page = html(response)
        assert "These filters were ignored" in page and "Hidden Rocket" not in page
        assert "Checkout Web" in page  # the calendar still shows what the viewer may see

    stranger = UserFactory()
    client.force_login(stranger)
    page = html(client.get("/calendar/"))
    assert "No trains on the calendar yet" in page and "Checkout Web" not in page


def test_bad_parameters_are_400_and_fall_back(client, frozen, manager, train):
    client.force_login(manager)
    response = client.get("/calendar/?date=someday&view=year")
    assert response.status_code == 400
    page = html(response)
    assert "Give the date as YYYY-MM-DD" in page and "March 2026" in page


def test_the_calendar_and_the_feed_reset_need_a_login(client):
    for response in (client.get("/calendar/"), client.post("/calendar/feed/reset/")):
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not CalendarFeedToken.objects.exists()


def test_the_month_view_query_count_does_not_grow_with_history(client, frozen, manager, train):
    """Five or sixty releases in the month, every fifth critical with its rehearsal: the same
    queries (releases and rehearsals in one, with train, team and captain; exceptions,
    blackouts and unmet departures one each)."""
    captains = [MembershipFactory(team=train.team).user for _ in range(3)]
    BlackoutPeriod.objects.create(
        team=train.team, starts_on=date(2026, 3, 30), ends_on=date(2026, 3, 31), reason="Hold"
    )
    client.force_login(manager)
    CalendarFeedToken.objects.create(user=manager)

    def add_releases(count, offset):
        for n in range(count):
            cut_at = datetime(2026, 3, 1, 8, tzinfo=UTC) + timedelta(hours=9 * (offset + n))
            critical = n % 5 == 0
            ReleaseFactory(
                train=train,
                kind="adhoc",
                version=f"{offset + n}.0.0",
                cut_at=cut_at,
                captain=captains[n % 3],
                status=ReleaseStatus.RELEASED,
                is_critical=critical,
                critical_reason="Migration" if critical else "",
                rehearsal_at=cut_at - timedelta(hours=20) if critical else None,
            )

    def queries():
        with CaptureQueriesContext(connection) as context:
            response = client.get("/calendar/?date=2026-03-01")
        assert response.status_code == 200
        return len(context.captured_queries), html(response).count("cal-chip ")

    add_releases(5, 0)
    few, chips_few = queries()
    add_releases(55, 5)
    many, chips_many = queries()
    assert chips_many - chips_few == 55 + 11  # and eleven rehearsals
    assert html(client.get("/calendar/?date=2026-03-01")).count("cal-chip--rehearsal") == 12
    assert many == few, "the month view's queries must not grow with the number of releases"
    assert few <= 10  # session, user, trains, releases, unmet, exceptions, blackouts, feed


# --- departure pages ---------------------------------------------------------------------------


def departure_path(train, slot):
    return f"/calendar/departures/{train.pk}/{slot_key(slot)}/"


def test_a_projected_departure_page(client, frozen, manager, train):
    TrainFactory.reset_sequence()
    ChangeItemFactory(train=train, title="Faster search", is_ready=True)
    ChangeItemFactory(train=train, title="Dark mode", is_ready=False)
    manager.timezone = "America/New_York"
    manager.save()
    client.force_login(manager)
    response = client.get(departure_path(train, TUE_10))
    assert response.status_code == 200
    page = html(response)
    assert "Checkout Web departs" in page and 'badge--planned">Departs<' in page
    assert "Tue 10 Mar 2026, 09:00 EDT" in page  # the viewer's timezone
    assert "Tue 10 Mar, 14:00 CET in Europe/Berlin" in page  # and the train's
    assert "Mon 9 Mar 2026, 09:00 EDT" in page  # freeze start
    assert "Thu 12 Mar 2026, 09:00 EDT" in page  # target release
    assert "Faster search" in page and "Dark mode" in page and "board this departure" in page


def test_a_skipped_and_a_postponed_departure_page(client, frozen, manager, train):
    departure_skip(actor=manager, train=train, slot=TUE_17, reason="Team offsite", now=NOW)
    departure_postpone(actor=manager, train=train, slot=TUE_24, hours=3, reason="Audit", now=NOW)
    client.force_login(manager)
    chips = re.findall(r'<a class="chip cal-chip ([^"]+)"', html(client.get("/calendar/")))
    assert chips.count("cal-train--teal cal-chip--projected cal-chip--muted") == 1  # skipped
    skipped = html(client.get(departure_path(train, TUE_17)))
    assert 'badge--neutral">Skipped<' in skipped and "Team offsite. Later departures" in skipped
    postponed = html(client.get(departure_path(train, TUE_24)))
    assert "by 3 h: Audit" in postponed
    assert "Tue 24 Mar, 17:00" in postponed and "Tue 24 Mar, 14:00 CET" in postponed  # the slot


def test_a_departure_that_was_cut_redirects_to_its_release(client, frozen, manager, train):
    release = released(train, "4.12.0", datetime(2026, 3, 3, 13, 0, tzinfo=UTC))
    client.force_login(manager)
    response = client.get(departure_path(train, release.slot))
    assert response.status_code == 302 and response["Location"] == f"/releases/{release.pk}/"


def test_departure_pages_are_404_for_outsiders_and_slots_off_the_timetable(
    client, frozen, manager, train, other_train
):
    client.force_login(manager)
    assert client.get(departure_path(other_train, TUE_10)).status_code == 404
    assert client.get(departure_path(train, TUE_10 + timedelta(hours=1))).status_code == 404
    assert client.get(f"/calendar/departures/{train.pk}/tomorrow/").status_code == 404
    assert client.get(departure_path(train, TUE_10)).status_code == 200


# --- the feed box ------------------------------------------------------------------------------


def test_the_feed_box_creates_and_resets_the_secret_url(client, frozen, manager, train):
    client.force_login(manager)
    page = html(client.get("/calendar/"))
    assert "Create my calendar URL" in page and 'id="feed-url"' not in page

    response = client.post("/calendar/feed/reset/")
    assert response.status_code == 302 and response["Location"].endswith("/calendar/#calendar-feed")
    key = CalendarFeedToken.objects.get(user=manager).key
    page = html(client.get("/calendar/"))
    assert f'value="http://127.0.0.1:8000/calendar/feed/{key}.ics"' in page
    assert 'data-copy-target="#feed-url"' in page
    confirm = "Reset your calendar URL? Calendar apps subscribed to the old one stop updating."
    assert f'hx-confirm="{confirm}"' in page

    response = client.post("/calendar/feed/reset/", headers={"HX-Request": "true"})
    fragment = html(response)
    new_key = CalendarFeedToken.objects.get(user=manager).key
    assert new_key != key and fragment.lstrip().startswith('<section class="card cal-feed"')
    assert new_key in fragment and "the old one no longer works" in fragment

    filtered = html(client.get(f"/calendar/?train={train.pk}"))
    assert f"/calendar/feed/{new_key}.ics?train={train.pk}" in filtered
    assert client.get("/calendar/feed/reset/").status_code == 405


def test_week_html_has_no_inline_styles_and_keyboard_reachable_links(
    client, frozen, manager, train
):
    client.force_login(manager)
    page = html(client.get("/calendar/?view=week"))
    assert not re.search(r"\sstyle=", page)
    assert 'id="cal-prev" rel="prev" href="/calendar/?view=week&amp;date=2026-03-03"' in page
