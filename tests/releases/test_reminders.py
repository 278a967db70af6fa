"""Every reminder kind fires once at its time: not before, not again on the next tick."""

from datetime import UTC, date, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from config.celery import app
from releases.models import (
    ChecklistItem,
    Delivery,
    DeliveryStatus,
    DepartureException,
    Notification,
    Rotation,
    RotationTurn,
    SwapRequest,
    SwapState,
    TeamWebhook,
    TurnLength,
    TurnSource,
)
from releases.reminders import send_due_reminders, swap_opened, swap_taken
from releases.services.notifications import deliveries_dispatch_due, notify
from releases.tasks import deliver_task, plan_rotations_task, send_due_reminders_task
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = [pytest.mark.django_db, pytest.mark.enqueue]

# The Checkout train leaves on Tuesdays at 14:00 Berlin time: Tue 3 Mar 2026 is 13:00 UTC.
CUT = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@pytest.fixture
def team():
    return TeamFactory(slug="checkout", name="Checkout", timezone="Europe/Berlin")


def member(team, username, role="engineer", **fields):
    user = UserFactory(username=username, first_name=username.title(), last_name="Doe", **fields)
    MembershipFactory(team=team, user=user, role=role)
    return user


@pytest.fixture
def manager(team):
    return member(team, "mia", "manager")


@pytest.fixture
def captain(team):
    return member(team, "cole")


@pytest.fixture
def engineer(team):
    return member(team, "erin")


@pytest.fixture
def train(team):
    # Only the departure reminders, unless a test asks for the freeze.
    return TrainFactory(team=team, name="Checkout web", slug="web", freeze_lead_hours=0)


@pytest.fixture
def webhook(team):
    return TeamWebhook.objects.create(team=team, name="#releases", url="https://hooks.example/x")


@pytest.fixture
def rotation(team):
    return Rotation.objects.create(
        team=team,
        name="Checkout captains",
        timezone="Europe/Berlin",
        turn_length=TurnLength.WEEKS,
        starts_on=date(2026, 1, 5),
    )


def turn(rotation, starts_at, captain=None, **fields):
    return RotationTurn.objects.create(
        rotation=rotation,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(days=7),
        member=captain,
        captain=captain,
        **fields,
    )


def sent(kind):
    """(recipient, channel, occurrence) of each delivery of `kind`, in a stable order."""
    return sorted(
        Delivery.objects.filter(kind=kind).values_list("recipient_key", "channel", "occurrence")
    )


@pytest.fixture(autouse=True)
def enqueued(monkeypatch) -> list[int]:
    """The delivery ids handed to deliver_task: kept here instead of reaching a real broker."""
    ids = []
    monkeypatch.setattr(
        deliver_task, "apply_async", lambda args=(), kwargs=None, **options: ids.append(args[0])
    )
    return ids


def personal(user, occurrence):
    return [(f"user:{user.pk}", "email", occurrence), (f"user:{user.pk}", "in_app", occurrence)]


# --- departure coming ---------------------------------------------------------------------------


def test_a_departure_reminds_the_managers_24_h_and_1_h_before_the_cut_once_each(
    train, manager, engineer, webhook
):
    assert send_due_reminders(CUT - 24 * HOUR - MINUTE)["departure_coming"] == 0
    assert sent("departure_coming") == []

    counts = send_due_reminders(CUT - 24 * HOUR)
    assert counts["departure_coming"] == 3
    assert counts["errors"] == 0
    expected = [*personal(manager, "24h"), (f"webhook:{webhook.pk}", "webhook", "24h")]
    assert sent("departure_coming") == expected
    note = Notification.objects.get(recipient=manager, kind="departure_coming")
    assert note.title == "Checkout web departs in 24 h: Tue 3 Mar 14:00 CET"
    assert "Nobody is captain yet." in note.body
    assert note.url == f"/calendar/departures/{train.pk}/20260303T130000Z/"

    assert send_due_reminders(CUT - 24 * HOUR + MINUTE)["departure_coming"] == 0
    assert send_due_reminders(CUT - HOUR - MINUTE)["departure_coming"] == 0
    assert send_due_reminders(CUT - HOUR)["departure_coming"] == 3
    assert send_due_reminders(CUT - HOUR + MINUTE)["departure_coming"] == 0
    assert send_due_reminders(CUT)["departure_coming"] == 0  # departed: nothing after the fact
    assert Notification.objects.filter(recipient=manager).count() == 2
    assert not Notification.objects.filter(recipient=engineer).exists()
    title = Notification.objects.filter(recipient=manager).first().title
    assert title == "Checkout web departs in 60 min: Tue 3 Mar 14:00 CET"


def test_the_departures_captain_is_reminded_instead_of_the_managers(
    train, rotation, manager, captain
):
    train.rotation = rotation
    train.save()
    turn(rotation, CUT - 2 * 24 * HOUR, captain)
    send_due_reminders(CUT - 24 * HOUR)
    assert sent("departure_coming") == personal(captain, "24h")
    assert "Captain: you." in Notification.objects.get(recipient=captain).body


def test_each_train_chooses_its_reminder_hours(train, manager):
    train.reminder_hours = [48]
    train.save()
    assert send_due_reminders(CUT - 48 * HOUR - MINUTE)["departure_coming"] == 0
    assert send_due_reminders(CUT - 48 * HOUR)["departure_coming"] == 2
    assert send_due_reminders(CUT - 24 * HOUR)["departure_coming"] == 0
    assert send_due_reminders(CUT - HOUR)["departure_coming"] == 0
    assert sent("departure_coming") == personal(manager, "48h")


def test_after_downtime_only_the_nearest_reminder_is_sent(train, manager):
    send_due_reminders(CUT - 30 * MINUTE)
    assert sent("departure_coming") == personal(manager, "1h")
    title = Notification.objects.get(recipient=manager).title
    assert title == "Checkout web departs in 30 min: Tue 3 Mar 14:00 CET"


def test_skipped_paused_and_blacked_out_departures_are_not_announced(train, manager):
    DepartureException.objects.create(train=train, slot=CUT, kind="skip", reason="Team offsite")
    assert send_due_reminders(CUT - HOUR)["departure_coming"] == 0
    next_week = CUT + timedelta(days=7)
    train.is_paused = True
    train.save()
    assert send_due_reminders(next_week - HOUR)["departure_coming"] == 0
    assert sent("departure_coming") == []


def test_a_postponed_departure_is_announced_at_its_new_time(train, manager):
    DepartureException.objects.create(
        train=train, slot=CUT, kind="postpone", postpone_hours=3, reason="Payment provider outage"
    )
    assert send_due_reminders(CUT - 21 * HOUR - MINUTE)["departure_coming"] == 0
    assert send_due_reminders(CUT - 21 * HOUR)["departure_coming"] == 2
    assert send_due_reminders(CUT - HOUR)["departure_coming"] == 0  # the old time
    assert send_due_reminders(CUT + 2 * HOUR)["departure_coming"] == 2
    note = Notification.objects.filter(recipient=manager).first()
    assert note.title == "Checkout web departs in 60 min: Tue 3 Mar 17:00 CET"
    assert "Postponed from Tue 3 Mar 14:00 CET. Payment provider outage" in note.body
    # The reminder belongs to the slot, whatever its time.
    assert Delivery.objects.filter(subject=f"departure:{train.pk}:20260303T130000Z").count() == 4


def test_times_are_written_in_each_recipients_timezone(train, manager, team, webhook):
    far = member(team, "noah", "manager", timezone="America/New_York")
    send_due_reminders(CUT - HOUR)
    assert Notification.objects.get(recipient=far).title.endswith("Tue 3 Mar 08:00 EST")
    assert Notification.objects.get(recipient=manager).title.endswith("Tue 3 Mar 14:00 CET")
    webhook_delivery = Delivery.objects.get(webhook=webhook)
    assert webhook_delivery.title.endswith("Tue 3 Mar 14:00 CET")  # the team's timezone


# --- preferences and webhooks -------------------------------------------------------------------


def test_people_get_only_the_channels_they_chose(train, team, manager):
    manager.notification_settings = {"departure_coming": ["in_app"]}
    manager.save()
    quiet = member(team, "quinn", "manager", notification_settings={"departure_coming": []})
    no_address = member(team, "nora", "manager", email="")
    send_due_reminders(CUT - HOUR)
    assert sent("departure_coming") == sorted(
        [(f"user:{manager.pk}", "in_app", "1h"), (f"user:{no_address.pk}", "in_app", "1h")]
    )
    assert not Notification.objects.filter(recipient=quiet).exists()


def test_webhooks_get_the_kinds_they_want_and_only_their_own_teams(train, manager, team):
    wants_all = TeamWebhook.objects.create(team=team, name="all", url="https://a.example/h")
    TeamWebhook.objects.create(
        team=team, name="freezes", url="https://b.example/h", kinds=["freeze_starts"]
    )
    TeamWebhook.objects.create(team=team, name="off", url="https://c.example/h", is_active=False)
    TeamWebhook.objects.create(team=TeamFactory(slug="payments"), name="x", url="https://d.ex/h")
    send_due_reminders(CUT - HOUR)
    webhooks = Delivery.objects.filter(kind="departure_coming", channel="webhook")
    assert list(webhooks.values_list("webhook", flat=True)) == [wants_all.pk]
    assert webhooks.get().team == team


def test_email_and_webhook_deliveries_are_enqueued_once_on_commit(
    train, manager, webhook, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send_due_reminders(CUT - HOUR)
    with django_capture_on_commit_callbacks(execute=True):
        send_due_reminders(CUT - HOUR + MINUTE)
    pending = Delivery.objects.filter(status="pending")
    assert sorted(enqueued) == sorted(pending.values_list("pk", flat=True))
    assert sorted(pending.values_list("channel", flat=True)) == ["email", "webhook"]
    in_app = Delivery.objects.get(channel="in_app")
    assert (in_app.status, in_app.sent_at) == (DeliveryStatus.SENT, CUT - HOUR)


def test_notify_claims_each_key_once():
    user = UserFactory(username="solo")
    first = notify(
        kind="departure_coming", subject="x:1", occurrence="1h", users=[user, user],
        title="Hello", now=CUT,
    )  # fmt: skip
    again = notify(
        kind="departure_coming", subject="x:1", occurrence="1h", users=[user],
        title="Hello again", now=CUT,
    )  # fmt: skip
    assert len(first) == 2 and again == []
    assert Notification.objects.get(recipient=user).title == "Hello"


# --- code freeze --------------------------------------------------------------------------------


def test_the_code_freeze_is_announced_when_it_starts(train, manager, webhook):
    train.freeze_lead_hours = 48
    train.reminder_hours = []
    train.save()
    assert send_due_reminders(CUT - 48 * HOUR - MINUTE)["freeze_starts"] == 0
    assert send_due_reminders(CUT - 48 * HOUR)["freeze_starts"] == 3
    assert send_due_reminders(CUT - 48 * HOUR + MINUTE)["freeze_starts"] == 0
    assert send_due_reminders(CUT - HOUR)["freeze_starts"] == 0
    note = Notification.objects.get(recipient=manager, kind="freeze_starts")
    assert note.title == "Code freeze for Checkout web: the cut is Tue 3 Mar 14:00 CET"
    assert "The code freeze began at Sun 1 Mar 14:00 CET." in note.body
    assert sent("departure_coming") == []


# --- captain handoff ----------------------------------------------------------------------------


def test_the_incoming_captain_hears_a_day_ahead_with_the_handoff_note(
    rotation, captain, engineer, manager
):
    handoff = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    turn(rotation, handoff - timedelta(days=7), captain)
    incoming = turn(
        rotation,
        handoff,
        engineer,
        handoff_note="Watch the payments flag.",
        handoff_note_by=captain,
    )
    assert send_due_reminders(handoff - 24 * HOUR - MINUTE)["captain_handoff"] == 0
    assert send_due_reminders(handoff - 24 * HOUR)["captain_handoff"] == 2
    assert send_due_reminders(handoff - 23 * HOUR)["captain_handoff"] == 0
    assert send_due_reminders(handoff)["captain_handoff"] == 0
    assert sent("captain_handoff") == personal(engineer, handoff.isoformat())
    note = Notification.objects.get(recipient=engineer)
    assert note.title == "You are captain of Checkout captains from Mon 9 Mar 10:00 CET"
    assert "Taking over from Cole Doe." in note.body
    assert "Handoff note from Cole Doe:\nWatch the payments flag." in note.body
    assert note.url == f"/rotations/{rotation.pk}/"
    assert Delivery.objects.get(channel="in_app").subject == f"turn:{incoming.pk}"


def test_no_handoff_reminder_when_the_same_captain_carries_on(rotation, captain):
    handoff = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    turn(rotation, handoff - timedelta(days=7), captain)
    turn(rotation, handoff, captain)
    assert send_due_reminders(handoff - HOUR)["captain_handoff"] == 0


def test_a_turn_whose_start_moves_is_announced_again(rotation, captain, engineer):
    handoff = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    incoming = turn(rotation, handoff, engineer)
    send_due_reminders(handoff - HOUR)
    incoming.starts_at = handoff + 2 * HOUR
    incoming.save()
    assert send_due_reminders(handoff + HOUR)["captain_handoff"] == 2


# --- nobody eligible ----------------------------------------------------------------------------


def test_managers_hear_a_week_ahead_of_a_turn_nobody_can_take(rotation, manager, engineer, webhook):
    starts = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
    turn(rotation, starts, None, source=TurnSource.NOBODY, reason="Everyone is out of office.")
    turn(rotation, starts + timedelta(days=7), engineer)
    assert send_due_reminders(starts - timedelta(days=7) - MINUTE)["no_eligible_captain"] == 0
    assert send_due_reminders(starts - timedelta(days=7))["no_eligible_captain"] == 3
    assert send_due_reminders(starts - timedelta(days=1))["no_eligible_captain"] == 0
    expected = [*personal(manager, "nobody"), (f"webhook:{webhook.pk}", "webhook", "nobody")]
    assert sent("no_eligible_captain") == expected
    note = Notification.objects.get(recipient=manager)
    assert note.title == "Nobody can captain Checkout captains from Mon 16 Mar 10:00 CET"
    assert "Everyone is out of office." in note.body


# --- checklist still open -----------------------------------------------------------------------


def items(release, *specs):
    for position, (text, stage, required, ticked) in enumerate(specs):
        ChecklistItem.objects.create(
            release=release, stage=stage, position=position, text=text, is_required=required,
            tickable_by="member", ticked_at=CUT if ticked else None,
        )  # fmt: skip


def test_the_captain_hears_which_required_items_are_open_two_hours_before_the_target(
    train, captain, manager
):
    target = datetime(2026, 3, 5, 13, 0, tzinfo=UTC)
    release = ReleaseFactory(
        train=train, version="4.12.0", status="approved", captain=captain, target_at=target
    )
    items(
        release,
        ("Smoke tests green", "before_approval", True, False),
        ("Changelog written", "before_approval", True, True),
        ("Tell support", "before_approval", False, False),
        ("Canary at 5 %", "during_deploy", True, False),
        ("Watch the dashboards", "after_release", True, False),
    )
    assert send_due_reminders(target - 2 * HOUR - MINUTE)["checklist_open"] == 0
    assert send_due_reminders(target - 2 * HOUR)["checklist_open"] == 2
    assert send_due_reminders(target - HOUR)["checklist_open"] == 0
    assert sent("checklist_open") == personal(captain, "target-2h")
    note = Notification.objects.get(recipient=captain)
    assert (
        note.title
        == "Checkout web 4.12.0 targets Thu 5 Mar 14:00 CET: 2 required checklist items still open"
    )
    assert note.body == (
        "Still open:\n- Smoke tests green (Before approval)\n- Canary at 5 % (During deploy)"
    )
    assert note.url == f"/releases/{release.pk}/"


def test_without_a_captain_the_managers_hear_and_finished_releases_stay_quiet(train, manager):
    target = datetime(2026, 3, 5, 13, 0, tzinfo=UTC)
    open_release = ReleaseFactory(train=train, status="stabilizing", target_at=target)
    items(open_release, ("Smoke tests green", "before_cut", True, False))
    done = ReleaseFactory(train=train, status="released", target_at=target)
    items(done, ("Smoke tests green", "before_cut", True, False))
    ticked = ReleaseFactory(train=train, status="deploying", target_at=target)
    items(ticked, ("Smoke tests green", "before_cut", True, True))
    send_due_reminders(target - HOUR)
    assert sent("checklist_open") == personal(manager, "target-2h")
    assert Delivery.objects.filter(kind="checklist_open").first().subject == (
        f"release:{open_release.pk}"
    )


# --- swaps --------------------------------------------------------------------------------------


@pytest.fixture
def offered(rotation, captain, engineer, manager):
    starts = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    return SwapRequest.objects.create(
        turn=turn(rotation, starts, captain), offered_by=captain, reason="Dentist on Monday"
    )


def test_an_offered_turn_reaches_the_rest_of_the_team_once(
    offered, captain, engineer, manager, team
):
    outsider = MembershipFactory(team=TeamFactory(slug="payments")).user
    assert len(swap_opened(offered, now=CUT)) == 4
    assert swap_opened(offered, now=CUT + MINUTE) == []
    assert sent("swap_opened") == sorted(
        [*personal(engineer, "opened"), *personal(manager, "opened")]
    )
    assert not Notification.objects.filter(recipient__in=[captain, outsider]).exists()
    note = Notification.objects.get(recipient=engineer)
    assert note.title == "Cole Doe offers their turn on Mon 9 Mar: Dentist on Monday"
    assert "The turn runs from Mon 9 Mar 10:00 CET to Mon 16 Mar 10:00 CET." in note.body


def test_a_withdrawn_or_vanished_swap_is_not_announced(offered):
    offered.state = SwapState.WITHDRAWN
    offered.save()
    assert swap_opened(offered, now=CUT) == []
    SwapRequest.objects.filter(pk=offered.pk).delete()  # its turn was replanned meanwhile
    assert swap_taken(offered, now=CUT) == []
    assert not Delivery.objects.exists()


def test_a_taken_swap_tells_the_offerer_and_the_taker(offered, captain, engineer, manager):
    offered.state, offered.taken_by = SwapState.TAKEN, engineer
    offered.save()
    assert len(swap_taken(offered, now=CUT)) == 4
    assert swap_taken(offered, now=CUT) == []
    assert sent("swap_taken") == sorted([*personal(captain, "taken"), *personal(engineer, "taken")])
    assert Notification.objects.get(recipient=captain).title == (
        "Erin Doe takes your turn on Mon 9 Mar"
    )
    assert Notification.objects.get(recipient=engineer).title == (
        "You are captain on Mon 9 Mar in place of Cole Doe"
    )


def test_turns_planned_by_the_rotation_service_drive_handoffs_and_swaps(
    team, manager, captain, engineer, django_capture_on_commit_callbacks
):
    from releases.services.rotation_duty import swap_open, swap_take
    from releases.services.rotations import rotation_create

    rotation = rotation_create(
        actor=manager, team=team, name="Checkout captains", timezone="Europe/Berlin",
        turn_length="weeks", weeks=1, handoff_weekday=0, handoff_time=time(10, 0),
        starts_on=date(2026, 3, 2), member_ids=[captain.pk, engineer.pk], train_ids=[],
        now=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
    )  # fmt: skip
    second = RotationTurn.objects.get(
        rotation=rotation, starts_at=datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    )
    assert send_due_reminders(second.starts_at - 24 * HOUR)["captain_handoff"] == 2
    assert Notification.objects.get(kind="captain_handoff").recipient == second.captain

    third = RotationTurn.objects.get(rotation=rotation, starts_at=second.ends_at)
    holder, other = (captain, engineer) if third.captain == captain else (engineer, captain)
    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=False):
        swap = swap_open(actor=holder, turn=third, reason="Dentist", now=now)
    assert not Notification.objects.filter(kind="swap_opened").exists()  # not before the commit
    swap.delete()
    with django_capture_on_commit_callbacks(execute=True):
        swap = swap_open(actor=holder, turn=third, reason="Conference", now=now)
    opened = Notification.objects.filter(kind="swap_opened")
    assert sorted(opened.values_list("recipient", flat=True)) == sorted([other.pk, manager.pk])
    with django_capture_on_commit_callbacks(execute=True):
        swap_take(actor=other, swap=swap, now=now + MINUTE)
    taken = Notification.objects.filter(kind="swap_taken")
    assert sorted(taken.values_list("recipient", flat=True)) == sorted([holder.pk, other.pk])
    assert taken.get(recipient=other).title.startswith("You are captain on Mon 16 Mar")


def test_the_tick_expires_open_swaps_whose_turn_has_started(offered):
    assert send_due_reminders(offered.turn.starts_at)["swaps_expired"] == 1
    offered.refresh_from_db()
    assert offered.state == SwapState.EXPIRED


# --- retries driven by the database -------------------------------------------------------------


def test_the_tick_enqueues_deliveries_due_again(enqueued):
    user = UserFactory(username="ret")

    def delivery(key, created_at, **fields):
        return Delivery.objects.create(
            kind="departure_coming", subject=key, occurrence="1h", recipient_key=f"user:{user.pk}",
            recipient=user, channel="email", title=key, created_at=created_at, **fields,
        ).pk  # fmt: skip

    due_retry = delivery("due", CUT - HOUR, status="retrying", next_attempt_at=CUT)
    delivery("later", CUT - HOUR, status="retrying", next_attempt_at=CUT + MINUTE)
    lost = delivery("lost", CUT - 5 * MINUTE)
    delivery("fresh", CUT - 4 * MINUTE)
    lease_over = delivery("lease", CUT - HOUR, next_attempt_at=CUT - MINUTE)
    delivery("sent", CUT - HOUR, status="sent", sent_at=CUT - HOUR)
    delivery("failed", CUT - HOUR, status="failed", attempts=5)
    assert deliveries_dispatch_due(CUT) == 3
    assert sorted(enqueued) == sorted([due_retry, lost, lease_over])
    assert send_due_reminders(CUT)["deliveries_dispatched"] == 3


# --- interfaces: the beat tasks and the command -------------------------------------------------


def test_beat_sends_reminders_every_minute_and_plans_rotations_hourly():
    reminders = app.conf.beat_schedule["send-due-reminders"]
    assert reminders["task"] == "releases.tasks.send_due_reminders_task"
    assert reminders["schedule"].minute == set(range(60))
    assert reminders["options"]["expires"] < 60
    planning = app.conf.beat_schedule["plan-rotations"]
    assert planning["task"] == "releases.tasks.plan_rotations_task"
    assert len(planning["schedule"].minute) == 1


def test_the_tasks_run_the_same_code(rotation, engineer):
    turn(rotation, timezone.now() + timedelta(days=2), None, source=TurnSource.NOBODY)
    MembershipFactory(team=rotation.team, role="manager", user=UserFactory(username="boss"))
    result = send_due_reminders_task.apply().get()
    assert "'no_eligible_captain': 2" in result
    assert plan_rotations_task.apply().get() == "1"  # one rotation planned


def test_the_command_sends_what_is_due_and_prints_the_counts(rotation):
    turn(rotation, timezone.now() + timedelta(days=2), None, source=TurnSource.NOBODY)
    MembershipFactory(team=rotation.team, role="manager", user=UserFactory(username="boss"))
    out = StringIO()
    call_command("send_due_reminders", stdout=out)
    assert "no_eligible_captain: 2" in out.getvalue()
    assert "2 deliveries claimed" in out.getvalue()
    call_command("send_due_reminders", stdout=out)
    assert out.getvalue().count("no_eligible_captain: 0") == 1
