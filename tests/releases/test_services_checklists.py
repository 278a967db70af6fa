"""Checklists: starter templates, the snapshot at cut, ticking, and the gates they hold."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from releases.models import (
    ChecklistItem,
    ChecklistTemplate,
    GateOverride,
    ReleaseEvent,
    TemplateKind,
)
from releases.services.checklists import (
    checklist_snapshot,
    checklist_tick,
    default_template,
    gate_blockers,
    template_item_add,
    template_item_move,
    template_item_remove,
    template_item_update,
)
from releases.services.cutting import cut_due_trains, train_cut_now
from releases.services.lifecycle import release_transition
from releases.services.rollback import RollbackAnswersInput, rollback_plan_update
from releases.services.trains import TrainFields, train_create
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.conftest import require
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
FIRST_SLOT = datetime(2026, 1, 6, 13, 0, tzinfo=UTC)
COMPLETE_PLAN = RollbackAnswersInput(
    detection="Checkout error rate https://grafana.example.com/d/checkout",
    revert_method="redeploy_previous",
    revert_minutes=10,
    data_impact="None: no migrations.",
)


@pytest.fixture
def team():
    return TeamFactory(slug="checkout", name="Checkout")


@pytest.fixture
def manager(team):
    return MembershipFactory(team=team, role="manager", user=UserFactory(username="mia")).user


@pytest.fixture
def captain(team):
    return MembershipFactory(team=team, role="engineer", user=UserFactory(username="cole")).user


@pytest.fixture
def engineer(team):
    return MembershipFactory(team=team, role="engineer", user=UserFactory(username="erin")).user


@pytest.fixture
def outsider():
    return MembershipFactory(team=TeamFactory(slug="payments"), role="manager").user


@pytest.fixture
def release(team, captain):
    """A release in stabilizing with the team's standard checklist and a captain."""
    train = TrainFactory(team=team, checklist_template=default_template(team.pk))
    release = ReleaseFactory(train=train, status="stabilizing", captain=captain)
    checklist_snapshot(release, train.checklist_template)
    return release


def required_open(release, *stages):
    return list(release.checklist_items.filter(stage__in=stages, is_required=True, ticked_at=None))


def tick_all(release, actor, *stages):
    for item in required_open(release, *stages):
        checklist_tick(actor=actor, item=item, ticked=True, now=NOW)


# --- templates and the snapshot -----------------------------------------------------------


def test_a_new_team_gets_the_three_starter_checklists(team):
    kinds = sorted(team.checklist_templates.values_list("kind", flat=True))
    assert kinds == ["hotfix", "rehearsal", "standard"]
    standard = default_template(team.pk)
    assert standard.name == "Standard release"
    assert standard.items.filter(is_required=True).count() >= 5
    assert set(standard.items.values_list("stage", flat=True)) == {
        "before_cut",
        "before_approval",
        "during_deploy",
        "after_release",
    }


def test_a_new_train_uses_the_standard_checklist(manager, team):
    train = train_create(
        actor=manager,
        team=team,
        fields=TrainFields(
            name="Web",
            rrule="FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;BYMINUTE=0",
            starts_on=NOW.date(),
            timezone="UTC",
        ),
        now=NOW,
    )
    assert train.checklist_template == default_template(team.pk)


def test_each_cut_snapshots_the_template_and_later_edits_never_reach_it(manager, team):
    template = default_template(team.pk)
    train = TrainFactory(team=team, checklist_template=template)
    [release] = cut_due_trains(FIRST_SLOT).cut
    snapshot = list(release.checklist_items.values_list("stage", "text", "is_required"))
    assert snapshot == list(
        template.items.order_by("position").values_list("stage", "text", "is_required")
    )
    assert release.rollback_plan.is_complete is False

    first = template.items.order_by("position").first()
    template_item_update(
        actor=manager, item=first, text="Renamed", stage=first.stage, is_required=False
    )
    template_item_remove(actor=manager, item=template.items.order_by("position").last())
    template_item_add(actor=manager, template=template, text="Brand new", stage="before_cut")
    assert list(release.checklist_items.values_list("stage", "text", "is_required")) == snapshot

    # The next release gets the edited template.
    adhoc = train_cut_now(actor=manager, train=train, now=FIRST_SLOT + timedelta(hours=1))
    texts = list(adhoc.checklist_items.values_list("text", flat=True))
    assert "Renamed" in texts and "Brand new" in texts


def test_an_item_moved_to_another_stage_goes_to_the_end_of_it(manager, team):
    template = default_template(team.pk)
    first = template.items.filter(stage="before_cut").order_by("position").first()
    template_item_update(actor=manager, item=first, text=first.text, stage="after_release")
    last = template.items.filter(stage="after_release").order_by("position").last()
    assert last.pk == first.pk


def test_a_release_starts_from_its_trains_default_rollback_plan(manager, team):
    from releases.services.rollback import train_rollback_defaults_update

    train = TrainFactory(team=team)
    train_rollback_defaults_update(
        actor=manager, train=train, answers=COMPLETE_PLAN, requires_plan=True
    )
    release = train_cut_now(actor=manager, train=train, now=NOW)
    assert release.rollback_plan.is_complete
    assert release.rollback_plan.detection_links == ["https://grafana.example.com/d/checkout"]


def test_moving_template_items_within_their_stage(manager, team):
    template = ChecklistTemplate.objects.create(team=team, name="Small", kind=TemplateKind.HOTFIX)
    a, _b, c = (
        template_item_add(actor=manager, template=template, text=text, stage="before_cut")
        for text in "abc"
    )
    template_item_move(actor=manager, item=c, direction="up")
    assert list(template.items.order_by("position").values_list("text", flat=True)) == [
        "a",
        "c",
        "b",
    ]
    template_item_move(actor=manager, item=a, direction="up")  # already first: no change
    assert template.items.order_by("position").first().text == "a"
    with pytest.raises(ValidationError):
        template_item_move(actor=manager, item=a, direction="sideways")


def test_only_managers_edit_templates(engineer, team):
    template = default_template(team.pk)
    count = template.items.count()
    with pytest.raises(PermissionDenied, match="Only a manager"):
        template_item_add(actor=engineer, template=template, text="x", stage="before_cut")
    assert template.items.count() == count


# --- ticking -------------------------------------------------------------------------------


def test_a_tick_records_who_and_when_and_lands_on_the_timeline(release, engineer):
    item = release.checklist_items.filter(tickable_by="member").first()
    result = checklist_tick(actor=engineer, item=item, ticked=True, note="CI run 4411", now=NOW)
    assert result.conflict == ""
    assert (result.item.ticked_at, result.item.ticked_by, result.item.note) == (
        NOW,
        engineer,
        "CI run 4411",
    )
    release.refresh_from_db()
    assert release.checklist_revision == 1
    event = ReleaseEvent.objects.get(release=release, kind="checklist")
    assert event.actor == engineer and event.note == f"Ticked: {item.text} (CI run 4411)"

    result = checklist_tick(actor=engineer, item=result.item, ticked=False, now=NOW)
    assert result.item.ticked_at is None and result.item.ticked_by is None
    assert ReleaseEvent.objects.filter(release=release, kind="checklist").count() == 2


def test_a_tick_on_an_item_someone_just_ticked_is_reported_not_overwritten(
    release, engineer, captain
):
    item = release.checklist_items.filter(tickable_by="member").first()
    checklist_tick(actor=captain, item=item, ticked=True, now=NOW)
    stale = ChecklistItem.objects.get(pk=item.pk)
    result = checklist_tick(actor=engineer, item=stale, ticked=True, now=NOW + timedelta(1))
    assert result.conflict == f"{captain.display_name} already ticked this."
    assert result.item.ticked_by == captain and result.item.ticked_at == NOW
    assert ReleaseEvent.objects.filter(release=release, kind="checklist").count() == 1


def test_captain_only_items_refuse_other_engineers(release, engineer, captain, manager):
    item = release.checklist_items.filter(tickable_by="captain").first()
    with pytest.raises(PermissionDenied, match="Only the release captain can tick"):
        checklist_tick(actor=engineer, item=item, ticked=True, now=NOW)
    assert not ChecklistItem.objects.get(pk=item.pk).is_ticked
    assert checklist_tick(actor=captain, item=item, ticked=True, now=NOW).item.is_ticked
    # A manager covers for the captain.
    other = release.checklist_items.filter(tickable_by="captain", ticked_at=None).first()
    assert checklist_tick(actor=manager, item=other, ticked=True, now=NOW).item.is_ticked


def test_outsiders_and_cancelled_releases_are_refused(release, outsider, captain):
    item = release.checklist_items.first()
    with pytest.raises(PermissionDenied, match="not a member"):
        checklist_tick(actor=outsider, item=item, ticked=True, now=NOW)
    release.status = "cancelled"
    release.save()
    item = ChecklistItem.objects.select_related("release__train").get(pk=item.pk)
    with pytest.raises(ValidationError, match="cancelled"):
        checklist_tick(actor=captain, item=item, ticked=True, now=NOW)
    assert not ChecklistItem.objects.filter(ticked_at__isnull=False).exists()


def test_a_tick_costs_the_same_queries_however_long_the_checklist(release, engineer):
    def queries_for_one_tick(rel):
        item = ChecklistItem.objects.select_related("release__train").filter(
            release=rel, tickable_by="member", ticked_at=None
        )[0]
        actor = User.objects.get(pk=engineer.pk)  # as fresh as request.user
        with CaptureQueriesContext(connection) as ctx:
            checklist_tick(actor=actor, item=item, ticked=True, now=NOW)
        return len(ctx.captured_queries)

    short = queries_for_one_tick(release)
    long_release = ReleaseFactory(train=release.train, status="stabilizing")
    for _ in range(10):
        checklist_snapshot(long_release, release.train.checklist_template)
    assert long_release.checklist_items.count() >= 80
    assert queries_for_one_tick(long_release) == short
    assert short <= 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_ticks_lose_nothing():
    require(connection.vendor == "postgresql", "row-level concurrency needs PostgreSQL")
    team = TeamFactory(slug="race")
    people = [MembershipFactory(team=team, role="engineer").user for _ in range(6)]
    train = TrainFactory(team=team, checklist_template=default_template(team.pk))
    release = ReleaseFactory(train=train, status="stabilizing")
    checklist_snapshot(release, train.checklist_template)
    items = list(release.checklist_items.filter(tickable_by="member"))
    contested = items[0]
    barrier = threading.Barrier(len(people) + len(items) - 1)
    results, errors = [], []

    def tick(person, item):
        try:
            fresh = ChecklistItem.objects.select_related("release__train").get(pk=item.pk)
            barrier.wait()
            results.append((person, item.pk, checklist_tick(actor=person, item=fresh, ticked=True)))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    # Everyone races for the first item; the others are each ticked by one person at once.
    jobs = [(person, contested) for person in people]
    jobs += [(people[i % len(people)], item) for i, item in enumerate(items[1:])]
    threads = [threading.Thread(target=tick, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert all(item.is_ticked for item in release.checklist_items.filter(tickable_by="member"))
    contested_results = [r for _, pk, r in results if pk == contested.pk]
    winners = [r for r in contested_results if not r.conflict]
    assert len(winners) == 1, "exactly one person ticks the contested item"
    assert all("already ticked" in r.conflict for r in contested_results if r.conflict)
    release.refresh_from_db()
    assert release.checklist_revision == len(items)
    assert ReleaseEvent.objects.filter(release=release, kind="checklist").count() == len(items)


# --- gates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "to_status, from_status, stages",
    [
        ("approved", "stabilizing", ("before_cut", "before_approval")),
        ("deploying", "approved", ("before_cut", "before_approval")),
        ("released", "deploying", ("before_cut", "before_approval", "during_deploy")),
    ],
)
def test_each_gate_holds_until_its_required_items_are_ticked(
    release, captain, to_status, from_status, stages
):
    release.status = from_status
    release.save()
    open_items = required_open(release, *stages)
    with pytest.raises(ValidationError) as error:
        release_transition(actor=captain, release=release, to_status=to_status, now=NOW)
    message = error.value.message_dict["to"][0]
    for item in open_items:
        assert item.text in message
    release.refresh_from_db()
    assert release.status == from_status

    tick_all(release, captain, *stages)
    moved = release_transition(actor=captain, release=release, to_status=to_status, now=NOW)
    assert moved.status == to_status


def test_optional_and_later_stage_items_never_block(release, captain):
    tick_all(release, captain, "before_cut", "before_approval")
    assert gate_blockers(release, "approved") == []
    assert release.checklist_items.filter(ticked_at=None).exists()


def test_a_manager_overrides_a_gate_with_a_written_reason(release, manager):
    open_items = [i.text for i in required_open(release, "before_cut", "before_approval")]
    moved = release_transition(
        actor=manager,
        release=release,
        to_status="approved",
        override_reason="Staging is down; smoke-tested in production canary.",
        now=NOW,
    )
    assert moved.status == "approved"
    override = GateOverride.objects.get(release=release)
    assert (override.actor, override.to_status, override.open_items) == (
        manager,
        "approved",
        open_items,
    )
    event = ReleaseEvent.objects.get(release=release, kind="gate_override")
    assert "Staging is down" in event.note


def test_an_engineer_cannot_override_and_an_empty_reason_is_no_override(release, captain, manager):
    with pytest.raises(PermissionDenied, match="Only a manager"):
        release_transition(
            actor=captain, release=release, to_status="approved", override_reason="Trust me"
        )
    with pytest.raises(ValidationError):
        release_transition(
            actor=manager, release=release, to_status="approved", override_reason=" "
        )
    release.refresh_from_db()
    assert release.status == "stabilizing"
    assert not GateOverride.objects.exists()


def test_a_train_can_require_a_complete_rollback_plan_before_approval(release, captain):
    release.train.requires_rollback_plan = True
    release.train.save()
    tick_all(release, captain, "before_cut", "before_approval")
    with pytest.raises(ValidationError, match="Rollback plan"):
        release_transition(actor=captain, release=release, to_status="approved", now=NOW)
    rollback_plan_update(actor=captain, release=release, answers=COMPLETE_PLAN, now=NOW)
    moved = release_transition(actor=captain, release=release, to_status="approved", now=NOW)
    assert moved.status == "approved"


def test_cancelling_is_never_gated(release, captain):
    moved = release_transition(
        actor=captain, release=release, to_status="cancelled", note="Blocker found", now=NOW
    )
    assert moved.status == "cancelled"
