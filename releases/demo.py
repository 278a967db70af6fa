"""Demo trains with a few months of history, made by the real services (cutter, lifecycle).

Idempotent: trains that exist already are left as they are.
"""

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import Role, Team, User
from releases.models import (
    BlackoutPeriod,
    Release,
    ReleaseKind,
    ReleaseStatus,
    RevertMethod,
    Rotation,
    RotationTurn,
    Train,
    TurnLength,
)
from releases.rotations import WeekSchedule
from releases.services.changes import change_item_add, change_item_set_ready, deployment_record
from releases.services.checklists import (
    GATED_STAGES,
    checklist_tick,
    default_template,
    starter_templates_create,
)
from releases.services.cutting import cut_due_trains, train_cut_now
from releases.services.lifecycle import release_assign_captain, release_transition
from releases.services.rollback import (
    RollbackAnswersInput,
    failure_mode_add,
    rehearsal_schedule,
    release_set_critical,
    train_rollback_defaults_update,
)
from releases.services.rotation_duty import handoff_note_write, swap_open, unavailability_add
from releases.services.rotations import rotation_create, rotation_plan_turns
from releases.services.trains import TrainFields, departure_postpone, departure_skip, train_create
from releases.timetable import preset_rrule

HISTORY = timedelta(days=120)

DEMO_TRAINS = [
    # team slug, name, timetable, timezone, colour
    ("checkout", "Checkout Web", preset_rrule("weekly", weekday="TU", hour=14), "Europe/Berlin",
     "blue"),
    ("checkout", "Checkout API", preset_rrule("weekly", weekday="TH", hour=10), "Europe/Berlin",
     "teal"),
    ("platform", "Platform", preset_rrule("biweekly", weekday="WE", hour=15), "UTC", "violet"),
    ("mobile", "Mobile App", preset_rrule("weekly", weekday="MO", hour=16), "America/New_York",
     "orange"),
]  # fmt: skip

CHANGE_TITLES = [
    "Faster product search", "Fix rounding in VAT totals", "New onboarding checklist",
    "Upgrade payment SDK", "Retry failed webhooks", "Dark mode for settings",
    "Remove legacy coupon code", "Cache exchange rates", "Accessible date picker",
    "Audit log export", "Reduce bundle size", "Feature flag for new cart",
]  # fmt: skip


def _manager(team: Team) -> User:
    return team.memberships.filter(role__in=[Role.MANAGER, Role.ADMIN]).first().user


def seed_releases(*, now: datetime | None = None) -> list[Train]:
    now = now or timezone.now()
    rng = random.Random(42)
    created = []
    start = now - HISTORY
    for team_slug, name, rule, tz, colour in DEMO_TRAINS:
        team = Team.objects.get(slug=team_slug)
        if team.trains.filter(name=name).exists():
            continue
        train = train_create(
            actor=_manager(team),
            team=team,
            fields=TrainFields(
                name=name,
                rrule=rule,
                starts_on=start.date(),
                timezone=tz,
                colour=colour,
                initial_version="4.0.0" if team_slug == "checkout" else "1.0.0",
            ),
            now=start,
        )
        train_rollback_defaults_update(
            actor=_manager(team),
            train=train,
            answers=RollbackAnswersInput(
                detection=f"Error rate and p95 latency on https://grafana.example.com/d/{train.slug}\n"
                "Pager alerts in #ops-alerts",
                revert_method=RevertMethod.REDEPLOY_PREVIOUS,
                revert_minutes=10,
                data_impact="No irreversible migrations by default; list any here.",
            ),
            requires_plan=team_slug == "checkout",
        )
        created.append(train)
    # Rotations planned from the start of the history give the replayed departures captains.
    rotations = seed_rotations(now=now, plan_from=start if created else now)
    if not created:
        return []
    _replay_history(created, start, now, rng)
    _upcoming_exceptions(created, now)
    _todays_release(created, now)
    for rotation in rotations:
        rotation_plan_turns(rotation, now=now)
    _rotation_life(now)
    return created


DEMO_ROTATIONS = [
    # team slug, name, turn length, weeks, handoff weekday and time, timezone
    ("checkout", "Checkout captains", TurnLength.WEEKS, 1, 0, time(10, 0), "Europe/Berlin"),
    ("platform", "Platform captains", TurnLength.PER_DEPARTURE, 1, 0, time(10, 0), "UTC"),
    ("mobile", "Mobile captains", TurnLength.WEEKS, 2, 0, time(9, 0), "America/New_York"),
]


def seed_rotations(*, now: datetime, plan_from: datetime) -> list[Rotation]:
    """Every demo train without a rotation gets its team's, made of the team's members.

    Turns are planned from `plan_from` (the start of the demo history, so that replayed
    departures have captains); the checkout order puts the demo captain on duty at `now`.
    """
    created = []
    for slug, name, length, weeks, weekday, at, tz in DEMO_ROTATIONS:
        team = Team.objects.get(slug=slug)
        names = [n for s, n, *_ in DEMO_TRAINS if s == slug]
        trains = list(team.trains.filter(name__in=names, rotation=None))
        if not trains or team.rotations.filter(name=name).exists():
            continue
        # The site admin is a team member for the admin pages, not a release captain.
        memberships = team.memberships.select_related("user").order_by("user__id")
        people = [m.user for m in memberships if not m.user.is_staff]
        # A turn already runs at `plan_from`, so the first replayed departures have a captain.
        starts_on = (plan_from - timedelta(weeks=weeks)).date()
        if slug == "checkout":  # the demo captain is on duty today
            schedule = WeekSchedule(tz, weekday, at, starts_on, weeks)
            turns = max(schedule.index_at_or_before(now), 0)
            people.sort(key=lambda user: user.username != "captain")
            shift = turns % len(people)
            people = people[len(people) - shift :] + people[: len(people) - shift]
        rotation = rotation_create(
            actor=_manager(team), team=team, name=name, timezone=tz, turn_length=length,
            weeks=weeks, handoff_weekday=weekday, handoff_time=at, starts_on=starts_on,
            member_ids=[p.pk for p in people], train_ids=[t.pk for t in trains], now=plan_from,
        )  # fmt: skip
        created.append(rotation)
    return created


def _rotation_life(now: datetime) -> None:
    """Someone is out of office soon, and today's captain left a note for the next one."""
    alice = User.objects.filter(username="alice").first()
    if alice is not None:
        unavailability_add(
            actor=alice, user=alice, starts_at=now + timedelta(days=14),
            ends_at=now + timedelta(days=21), reason="Holiday", now=now,
        )  # fmt: skip
    rotation = Rotation.objects.filter(team__slug="checkout", name="Checkout captains").first()
    upcoming = RotationTurn.objects.filter(rotation=rotation, starts_at__gt=now).first()
    if upcoming is None:
        return
    current = RotationTurn.objects.filter(
        rotation=rotation, starts_at__lte=now, ends_at__gt=now, captain__isnull=False
    ).first()
    author = current.captain if current else _manager(rotation.team)
    handoff_note_write(
        actor=author, turn=upcoming, now=now,
        text="Today's release carries the payment SDK upgrade and the orders migration; its "
        "rehearsal is booked. Keep the new-cart flag at 10% until checkout error rates have "
        "stayed flat for a day.",
    )  # fmt: skip
    # A teammate offers a turn: the demo users find it on the dashboard and under the bell.
    offered = (
        RotationTurn.objects.filter(rotation=rotation, starts_at__gt=now, captain__username="bob")
        .order_by("starts_at")
        .first()
    )
    if offered is not None:
        swap_open(actor=offered.captain, turn=offered, now=now, reason="My sister's wedding")


def _todays_release(trains: list[Train], now: datetime) -> None:
    """The demo captain has a release in flight today, half-way through its checklist."""
    train = next((t for t in trains if t.team.slug == "checkout"), None)
    if train is None:
        return
    captain = User.objects.filter(username="captain").first()
    manager = _manager(train.team)
    release = train_cut_now(
        actor=manager, train=train, now=now - timedelta(hours=3),
        note="Today's release: the payment SDK upgrade could not wait for Thursday.",
    )  # fmt: skip
    if captain is not None:
        release = release_assign_captain(
            actor=manager, release=release, captain=captain, now=now - timedelta(hours=3)
        )
    release = release_transition(
        actor=manager, release=release, to_status="stabilizing", now=now - timedelta(hours=2)
    )
    for item in release.checklist_items.filter(stage="before_cut").select_related("release__train"):
        checklist_tick(actor=manager, item=item, ticked=True, now=now - timedelta(hours=2))
    release = release_set_critical(
        actor=manager, release=release, critical=True, now=now - timedelta(hours=2),
        reason="Migrates the orders table to the new payment provider's ids.",
    )  # fmt: skip
    failure_mode_add(
        actor=manager, release=release,
        description="The orders migration runs longer than the maintenance window",
        response="Stop it; the migration is batched and resumable.",
    )  # fmt: skip
    rehearsal_schedule(actor=manager, release=release, at=now + timedelta(hours=2))


def _replay_history(trains: list[Train], start: datetime, now: datetime, rng: random.Random):
    """Walk the timetables from `start` to `now`, cutting and moving releases as people would."""
    slots = sorted(
        (slot, train) for train in trains for slot in train.timetable.occurrences(start, now)
    )
    for slot, train in slots:
        members = list(User.objects.filter(memberships__team=train.team))
        author = rng.choice(members)
        # What missed the last train is usually finished in time for this one.
        for waiting in train.changes.filter(release=None, is_ready=False):
            change_item_set_ready(actor=author, item=waiting, ready=True)
        for title in rng.sample(CHANGE_TITLES, rng.randint(2, 5)):
            change_item_add(
                actor=author, train=train, title=title,
                link=f"https://git.example.com/{train.team.slug}/pull/{rng.randint(100, 999)}",
                is_ready=rng.random() < 0.8,
            )  # fmt: skip
        for release in cut_due_trains(slot + timedelta(minutes=1)).cut:
            _live_through(release, members, now, rng)


def _live_through(release: Release, members: list[User], now: datetime, rng: random.Random):
    manager = _manager(release.train.team)
    at = release.cut_at
    if release.captain is None:  # the rotation had nobody for this departure
        release = release_assign_captain(
            actor=manager, release=release, captain=rng.choice(members), now=at
        )
    path = ["stabilizing", "approved", "deploying", "released"]
    fate = rng.random()
    for step, status in enumerate(path, start=1):
        moment = at + timedelta(hours=8 * step)
        if moment > now:
            return  # still in flight today
        if status == "approved" and fate < 0.05:
            release_transition(
                actor=manager, release=release, to_status="cancelled", now=moment,
                note="Cancelled: the release blocker could not be fixed in time.",
            )  # fmt: skip
            return
        _work_the_checklist(release, GATED_STAGES.get(status, ()), moment)
        release_transition(actor=manager, release=release, to_status=status, now=moment)
        if status == "deploying":
            deployment_record(
                actor=manager, release=release, environment="production",
                status="succeeded", started_at=moment, finished_at=moment + timedelta(minutes=12),
                now=moment,
            )  # fmt: skip
    if fate > 0.92 and at + timedelta(days=2) < now:
        release_transition(
            actor=manager, release=release, to_status="rolled_back", now=at + timedelta(days=2),
            note="Error rate doubled after the release; rolled back to the previous version.",
        )  # fmt: skip


def _work_the_checklist(release: Release, stages, moment: datetime) -> None:
    """The captain ticks what the next step needs, as on a real departure day."""
    open_items = release.checklist_items.filter(stage__in=stages, ticked_at__isnull=True)
    for item in open_items.select_related("release__train"):
        checklist_tick(actor=release.captain, item=item, ticked=True, now=moment)


def _upcoming_exceptions(trains: list[Train], now: datetime) -> None:
    by_name = {train.name: train for train in trains}
    if "Platform" in by_name:
        train = by_name["Platform"]
        [slot, *_] = train.timetable.next_after(now, count=2)
        departure_skip(
            actor=_manager(train.team), train=train, slot=slot, now=now,
            reason="Team offsite: no departure this time.",
        )  # fmt: skip
    if "Checkout API" in by_name:
        train = by_name["Checkout API"]
        [_, slot] = train.timetable.next_after(now, count=2)
        departure_postpone(
            actor=_manager(train.team), train=train, slot=slot, hours=4, now=now,
            reason="Waiting for the payment provider's maintenance window.",
        )  # fmt: skip
    year = now.year
    BlackoutPeriod.objects.get_or_create(
        team=None,
        starts_on=date(year, 12, 22),
        defaults={"ends_on": date(year + 1, 1, 2), "reason": "Year-end holiday freeze"},
    )


def seed_releases_at_scale(*, trains_per_team: int, weeks: int) -> None:
    """Benchmark volumes: a train per team with `weeks` of weekly released history, in bulk."""
    now = timezone.now()
    start = now - timedelta(weeks=weeks)
    for team in Team.objects.filter(slug__startswith="team-").exclude(trains__isnull=False):
        # Teams made in bulk skipped the signal that gives a new team its starter checklists.
        if not team.checklist_templates.exists():
            starter_templates_create(team)
        trains = []
        for n in range(trains_per_team):
            train = Train.objects.create(
                team=team, name=f"Train {n}", slug=f"train-{n}", timezone="Europe/Berlin",
                rrule=preset_rrule("weekly", weekday="TU", hour=14), starts_on=start.date(),
                handled_through=now, checklist_template=default_template(team.pk),
            )  # fmt: skip
            trains.append(train)
            Release.objects.bulk_create(
                [
                    Release(
                        train=train,
                        kind=ReleaseKind.SCHEDULED,
                        version=f"1.{i}.0",
                        slot=slot,
                        status=ReleaseStatus.RELEASED,
                        cut_at=slot,
                        target_at=slot + timedelta(hours=48),
                        released_at=slot + timedelta(hours=30),
                    )
                    for i, slot in enumerate(train.timetable.occurrences(start, now))
                ]
            )
        _scale_rotation(team, trains, now)


def _scale_rotation(team: Team, trains: list[Train], now: datetime) -> None:
    """A weekly captain rotation of the whole team, serving its trains."""
    manager = _manager(team)
    members = list(team.memberships.order_by("user__username").values_list("user_id", flat=True))
    rotation_create(
        actor=manager, team=team, name="Captains", timezone=team.timezone,
        turn_length=TurnLength.WEEKS, weeks=1, handoff_weekday=0, handoff_time=time(10),
        starts_on=(now - timedelta(weeks=2)).date(), member_ids=members,
        train_ids=[train.pk for train in trains], now=now,
    )  # fmt: skip
