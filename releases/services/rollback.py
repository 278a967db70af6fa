"""Rollback plans, and the rehearsal of critical releases."""

from dataclasses import dataclass, fields
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from core.services import audit_record
from releases.models import (
    FailureMode,
    RehearsalRole,
    Release,
    ReleaseEvent,
    ReleaseStatus,
    RollbackPlan,
    TemplateKind,
    Train,
    TrainRollbackDefaults,
)
from releases.permissions import is_manager, require_manager, require_member
from releases.services.checklists import checklist_snapshot, default_template
from releases.timetable import zone

FINISHED = (ReleaseStatus.CANCELLED, ReleaseStatus.ROLLED_BACK)


def _require_unfinished(release: Release, what: str) -> None:
    """A cancelled or rolled-back release is a record: its plan and rehearsal stay as they were."""
    if release.status in FINISHED:
        raise ValidationError(
            f"{release} is {release.get_status_display().lower()}; {what} is kept as it was."
        )


@dataclass
class RollbackAnswersInput:
    """The three answers, as a person types them."""

    detection: str = ""
    revert_method: str = ""
    revert_minutes: int | None = None
    revert_notes: str = ""
    data_impact: str = ""


def _copy_answers(target, answers: RollbackAnswersInput) -> None:
    for field in fields(answers):
        value = getattr(answers, field.name)
        setattr(target, field.name, value.strip() if isinstance(value, str) else value)


def rollback_plan_for_new_release(release: Release) -> RollbackPlan:
    """At cut: the release starts from its train's default plan."""
    plan = RollbackPlan(release=release)
    defaults = TrainRollbackDefaults.objects.filter(train_id=release.train_id).first()
    if defaults:
        for name in ("detection", "revert_method", "revert_minutes", "revert_notes", "data_impact"):
            setattr(plan, name, getattr(defaults, name))
    plan.save()
    return plan


def prepare_release(release: Release, train: Train) -> None:
    """Everything a freshly cut release carries: its checklist snapshot and its rollback plan."""
    checklist_snapshot(release, train.checklist_template)
    rollback_plan_for_new_release(release)


@transaction.atomic
def rollback_plan_update(
    *, actor: User, release: Release, answers: RollbackAnswersInput, now: datetime | None = None
) -> RollbackPlan:
    now = now or timezone.now()
    require_member(actor, release.train.team_id)
    _require_unfinished(release, "its rollback plan")
    plan, _ = RollbackPlan.objects.select_for_update().get_or_create(release=release)
    _copy_answers(plan, answers)
    if plan.revert_minutes is not None and plan.revert_minutes > 24 * 60:
        raise ValidationError({"revert_minutes": ["A revert longer than a day is not a plan."]})
    plan.updated_by = actor
    plan.full_clean()
    plan.save()
    ReleaseEvent.objects.create(
        release=release,
        kind=ReleaseEvent.Kind.ROLLBACK_PLAN,
        actor=actor,
        note="Rollback plan complete."
        if plan.is_complete
        else f"Rollback plan updated; still open: {', '.join(plan.missing_answers)}.",
        created_at=now,
    )
    return plan


@transaction.atomic
def rollback_rehearsed(
    *, actor: User, release: Release, on: date, now: datetime | None = None
) -> RollbackPlan:
    now = now or timezone.now()
    require_member(actor, release.train.team_id)
    _require_unfinished(release, "its rollback plan")
    if on > timezone.localdate(now):
        raise ValidationError({"rehearsed_on": ["A rehearsal cannot be in the future."]})
    plan, _ = RollbackPlan.objects.select_for_update().get_or_create(release=release)
    plan.rehearsed_on, plan.rehearsed_by, plan.updated_by = on, actor, actor
    plan.save()
    ReleaseEvent.objects.create(
        release=release,
        kind=ReleaseEvent.Kind.ROLLBACK_PLAN,
        actor=actor,
        note=f"Rollback rehearsed on {on:%Y-%m-%d}.",
        created_at=now,
    )
    return plan


@transaction.atomic
def train_rollback_defaults_update(
    *, actor: User, train: Train, answers: RollbackAnswersInput, requires_plan: bool
) -> TrainRollbackDefaults:
    require_manager(actor, train.team_id, action="change trains")
    defaults, _ = TrainRollbackDefaults.objects.get_or_create(train=train)
    _copy_answers(defaults, answers)
    defaults.full_clean()
    defaults.save()
    train.requires_rollback_plan = requires_plan
    train.save(update_fields=["requires_rollback_plan", "updated_at"])
    audit_record(actor=actor, action="train.rollback_defaults_updated", target=train)
    return defaults


# --- critical releases ---------------------------------------------------------------------


def _require_captain_or_manager(actor: User, release: Release, action: str) -> None:
    require_member(actor, release.train.team_id)
    if release.captain_id != actor.pk and not is_manager(actor, release.train.team_id):
        raise PermissionDenied(f"Only the release captain or a manager can {action}.")


@transaction.atomic
def release_set_critical(
    *, actor: User, release: Release, critical: bool, reason: str = "", now=None
) -> Release:
    """Marking a release critical adds the team's rehearsal checklist; unmarking removes the
    rehearsal items nobody has ticked yet."""
    now = now or timezone.now()
    _require_captain_or_manager(actor, release, "mark a release critical")
    release = Release.objects.select_for_update().select_related("train").get(pk=release.pk)
    if release.status in FINISHED or release.status == ReleaseStatus.RELEASED:
        raise ValidationError("Only a release still in flight can be marked critical.")
    reason = reason.strip()
    if critical and not reason:
        raise ValidationError(
            {"critical_reason": ["Say what makes it critical, e.g. a database migration."]}
        )
    if critical == release.is_critical and reason == release.critical_reason:
        return release
    was_critical = release.is_critical
    release.is_critical, release.critical_reason = critical, reason if critical else ""
    release.save(update_fields=["is_critical", "critical_reason", "updated_at"])
    if critical and not was_critical:
        checklist_snapshot(
            release, default_template(release.train.team_id, TemplateKind.REHEARSAL), rehearsal=True
        )
    elif not critical:
        release.checklist_items.filter(is_rehearsal=True, ticked_at__isnull=True).delete()
    if critical != was_critical:
        # Pollers compare revisions: others' pages pick up the added or removed items.
        Release.objects.filter(pk=release.pk).update(checklist_revision=F("checklist_revision") + 1)
    ReleaseEvent.objects.create(
        release=release,
        kind=ReleaseEvent.Kind.CRITICAL,
        actor=actor,
        note=f"Marked critical: {reason}" if critical else "No longer marked critical.",
        created_at=now,
    )
    return release


@transaction.atomic
def rehearsal_schedule(
    *, actor: User, release: Release, at: datetime | None, now: datetime | None = None
) -> Release:
    now = now or timezone.now()
    _require_captain_or_manager(actor, release, "schedule the rehearsal")
    _require_unfinished(release, "its rehearsal")
    if not release.is_critical:
        raise ValidationError("Mark the release critical before scheduling a rehearsal.")
    if at is not None and release.target_at and at > release.target_at:
        raise ValidationError({"rehearsal_at": ["Rehearse before the release's target time."]})
    release.rehearsal_at = at
    release.save(update_fields=["rehearsal_at", "updated_at"])
    ReleaseEvent.objects.create(
        release=release,
        kind=ReleaseEvent.Kind.CRITICAL,
        actor=actor,
        note=_rehearsal_note(at, release.train.timezone),
        created_at=now,
    )
    return release


def _rehearsal_note(at: datetime | None, train_timezone: str) -> str:
    """Timeline notes are read by the whole team: the time in the train's own timezone."""
    if at is None:
        return "Rehearsal unscheduled."
    local = at.astimezone(zone(train_timezone))
    return f"Rehearsal scheduled for {local:%a} {local.day} {local:%b %Y, %H:%M %Z} (train time)."


@transaction.atomic
def failure_mode_add(
    *, actor: User, release: Release, description: str, response: str = ""
) -> FailureMode:
    require_member(actor, release.train.team_id)
    _require_unfinished(release, "its list of failure modes")
    mode = FailureMode(
        release=release,
        description=description.strip(),
        response=response.strip(),
        created_by=actor,
    )
    mode.full_clean()
    mode.save()
    return mode


@transaction.atomic
def failure_mode_remove(*, actor: User, mode: FailureMode) -> None:
    require_member(actor, mode.release.train.team_id)
    _require_unfinished(mode.release, "its list of failure modes")
    mode.delete()


@transaction.atomic
def rehearsal_role_assign(
    *, actor: User, release: Release, role: str, person: User
) -> RehearsalRole:
    _require_captain_or_manager(actor, release, "assign rehearsal roles")
    _require_unfinished(release, "who does what")
    if not person.memberships.filter(team_id=release.train.team_id).exists():
        raise ValidationError({"person": ["Choose a member of the train's team."]})
    role = role.strip()
    if not role:
        raise ValidationError({"role": ["Say what this person does if it goes wrong."]})
    assignment, _ = RehearsalRole.objects.update_or_create(
        release=release, role=role, defaults={"person": person}
    )
    return assignment


@transaction.atomic
def rehearsal_role_remove(*, actor: User, assignment: RehearsalRole) -> None:
    _require_captain_or_manager(actor, assignment.release, "assign rehearsal roles")
    _require_unfinished(assignment.release, "who does what")
    assignment.delete()
