"""Rollback plans and the rehearsal of critical releases."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from releases.models import FailureMode, RehearsalRole, ReleaseEvent, RollbackPlan
from releases.services.checklists import checklist_tick, default_template
from releases.services.cutting import train_cut_now
from releases.services.rollback import (
    RollbackAnswersInput,
    failure_mode_add,
    failure_mode_remove,
    rehearsal_role_assign,
    rehearsal_role_remove,
    rehearsal_schedule,
    release_set_critical,
    rollback_plan_update,
    rollback_rehearsed,
)
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import TrainFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)


@pytest.fixture
def team():
    return TeamFactory(slug="checkout")


@pytest.fixture
def manager(team):
    return MembershipFactory(team=team, role="manager").user


@pytest.fixture
def engineer(team):
    return MembershipFactory(team=team, role="engineer").user


@pytest.fixture
def release(team, manager):
    train = TrainFactory(team=team, checklist_template=default_template(team.pk))
    return train_cut_now(actor=manager, train=train, now=NOW)


def test_the_plan_says_what_is_missing_until_all_three_questions_are_answered(release, engineer):
    plan = release.rollback_plan
    assert plan.missing_answers == [
        "how we will know it is wrong",
        "how quickly we can revert",
        "what data might be affected",
    ]
    plan = rollback_plan_update(
        actor=engineer,
        release=release,
        answers=RollbackAnswersInput(detection="Error budget alert", revert_method="other"),
        now=NOW,
    )
    assert plan.missing_answers == [
        "how quickly we can revert",
        "the revert steps",
        "what data might be affected",
    ]
    plan = rollback_plan_update(
        actor=engineer,
        release=release,
        answers=RollbackAnswersInput(
            detection="Error budget alert",
            revert_method="other",
            revert_minutes=5,
            data_impact="none",
        ),
        now=NOW,
    )
    assert plan.missing_answers == ["the revert steps"]
    notes = list(
        ReleaseEvent.objects.filter(release=release, kind="rollback_plan").values_list(
            "note", flat=True
        )
    )
    assert notes[-1] == "Rollback plan updated; still open: the revert steps."


@pytest.mark.parametrize(
    "answers, field",
    [
        (RollbackAnswersInput(revert_method="pray"), "revert_method"),
        (RollbackAnswersInput(revert_minutes=3000), "revert_minutes"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(release, engineer, answers, field):
    with pytest.raises(ValidationError) as error:
        rollback_plan_update(actor=engineer, release=release, answers=answers, now=NOW)
    assert field in error.value.message_dict
    assert RollbackPlan.objects.get(release=release).revert_method == ""
    assert not ReleaseEvent.objects.filter(kind="rollback_plan").exists()


def test_outsiders_cannot_touch_the_plan_and_finished_releases_keep_theirs(release, engineer):
    outsider = MembershipFactory(team=TeamFactory(slug="other"), role="manager").user
    with pytest.raises(PermissionDenied):
        rollback_plan_update(actor=outsider, release=release, answers=RollbackAnswersInput())
    release.status = "rolled_back"
    release.save()
    with pytest.raises(ValidationError, match="is rolled back; its rollback plan is kept"):
        rollback_plan_update(actor=engineer, release=release, answers=RollbackAnswersInput())


def test_a_rollback_rehearsal_is_recorded_but_never_in_the_future(release, engineer):
    plan = rollback_rehearsed(actor=engineer, release=release, on=NOW.date(), now=NOW)
    assert (plan.rehearsed_on, plan.rehearsed_by) == (NOW.date(), engineer)
    with pytest.raises(ValidationError, match="future"):
        rollback_rehearsed(actor=engineer, release=release, on=date(2026, 3, 10), now=NOW)


def test_a_critical_release_gets_the_rehearsal_checklist_and_loses_it_when_unmarked(
    release, manager
):
    before = release.checklist_items.count()
    with pytest.raises(ValidationError, match="critical"):
        release_set_critical(actor=manager, release=release, critical=True, reason="")
    release = release_set_critical(
        actor=manager, release=release, critical=True, reason="Drops the legacy orders table"
    )
    rehearsal = release.checklist_items.filter(is_rehearsal=True)
    assert rehearsal.count() == default_template(release.train.team_id, "rehearsal").items.count()
    assert release.checklist_items.count() == before + rehearsal.count()
    # Marking it again does not add the items twice.
    release_set_critical(
        actor=manager, release=release, critical=True, reason="Drops the legacy orders table"
    )
    assert release.checklist_items.count() == before + rehearsal.count()

    ticked = rehearsal.first()
    checklist_tick(actor=manager, item=ticked, ticked=True, now=NOW)
    release = release_set_critical(actor=manager, release=release, critical=False)
    assert not release.is_critical and release.critical_reason == ""
    # What someone already did stays on the record; the rest of the rehearsal list goes.
    assert list(release.checklist_items.filter(is_rehearsal=True)) == [ticked]


def test_only_the_captain_or_a_manager_marks_critical_and_assigns_roles(release, engineer, manager):
    with pytest.raises(PermissionDenied, match="captain or a manager"):
        release_set_critical(actor=engineer, release=release, critical=True, reason="Migration")
    release.captain = engineer
    release.save()
    release = release_set_critical(
        actor=engineer, release=release, critical=True, reason="Migration"
    )
    assert release.is_critical
    role = rehearsal_role_assign(
        actor=engineer, release=release, role="Runs the restore", person=manager
    )
    # Reassigning a role replaces the person rather than adding a second row.
    rehearsal_role_assign(actor=manager, release=release, role="Runs the restore", person=engineer)
    assert list(RehearsalRole.objects.values_list("pk", "person")) == [(role.pk, engineer.pk)]
    stranger = UserFactory()
    with pytest.raises(ValidationError, match="member"):
        rehearsal_role_assign(actor=manager, release=release, role="Watches", person=stranger)


def test_failure_modes_and_the_rehearsal_date(release, engineer, manager):
    with pytest.raises(ValidationError, match="critical"):
        rehearsal_schedule(actor=manager, release=release, at=NOW + timedelta(hours=3))
    release = release_set_critical(actor=manager, release=release, critical=True, reason="Infra")
    mode = failure_mode_add(
        actor=engineer,
        release=release,
        description="Migration locks the orders table",
        response="Kill the migration; restore from the snapshot",
    )
    with pytest.raises(ValidationError):
        failure_mode_add(actor=engineer, release=release, description=" ")
    failure_mode_remove(actor=engineer, mode=mode)
    assert not FailureMode.objects.exists()

    with pytest.raises(ValidationError, match="before the release"):
        rehearsal_schedule(actor=manager, release=release, at=release.target_at + timedelta(1))
    release = rehearsal_schedule(actor=manager, release=release, at=NOW + timedelta(hours=3))
    assert release.rehearsal_at == NOW + timedelta(hours=3)


def test_a_finished_release_keeps_its_rehearsal_as_it_was(release, engineer, manager):
    release = release_set_critical(actor=manager, release=release, critical=True, reason="Infra")
    mode = failure_mode_add(actor=engineer, release=release, description="Locks the table")
    role = rehearsal_role_assign(actor=manager, release=release, role="Watches", person=engineer)
    release.status = "cancelled"
    release.save()
    mode.release = role.release = release
    refusals = [
        lambda: failure_mode_add(actor=engineer, release=release, description="Another"),
        lambda: failure_mode_remove(actor=engineer, mode=mode),
        lambda: rehearsal_role_assign(actor=manager, release=release, role="Calls", person=manager),
        lambda: rehearsal_role_remove(actor=manager, assignment=role),
        lambda: rehearsal_schedule(actor=manager, release=release, at=NOW + timedelta(hours=3)),
        lambda: rollback_rehearsed(actor=engineer, release=release, on=NOW.date(), now=NOW),
    ]
    for refused in refusals:
        with pytest.raises(ValidationError, match=r"is cancelled; .* is kept as it was"):
            refused()
    assert list(FailureMode.objects.values_list("pk", flat=True)) == [mode.pk]
    assert list(RehearsalRole.objects.values_list("pk", flat=True)) == [role.pk]
    assert RollbackPlan.objects.get(release=release).rehearsed_on is None


def test_the_rehearsal_note_on_the_timeline_is_in_train_time(release, manager):
    release = release_set_critical(actor=manager, release=release, critical=True, reason="Infra")
    at = datetime(2026, 3, 4, 13, 30, tzinfo=UTC)  # 14:30 in Berlin
    rehearsal_schedule(actor=manager, release=release, at=at, now=NOW)
    note = release.events.filter(kind="critical").order_by("-id").first().note
    assert note == "Rehearsal scheduled for Wed 4 Mar 2026, 14:30 CET (train time)."
