"""Checklist templates, the snapshot each release gets at cut, and ticking on departure day."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from accounts.models import Team, User
from core.services import audit_record
from releases.models import (
    ChecklistItem,
    ChecklistTemplate,
    ChecklistTemplateItem,
    Release,
    ReleaseEvent,
    ReleaseStatus,
    TemplateKind,
    TickableBy,
    Train,
)
from releases.permissions import is_manager, require_manager, require_member
from releases.starter_checklists import STARTERS

# --- templates -------------------------------------------------------------------------------


def starter_templates_create(team: Team) -> list[ChecklistTemplate]:
    """Give a team the starter checklists once; the team edits them as its own afterwards."""
    if team.checklist_templates.exists():
        return []
    created = []
    for starter in STARTERS:
        template = ChecklistTemplate.objects.create(
            team=team,
            name=starter["name"],
            kind=starter["kind"],
            description=starter["description"],
        )
        ChecklistTemplateItem.objects.bulk_create(
            ChecklistTemplateItem(
                template=template,
                stage=stage,
                position=position,
                text=text,
                help_text=help_text,
                is_required=required,
                tickable_by=tickable_by,
            )
            for position, (stage, text, help_text, required, tickable_by) in enumerate(
                starter["items"], start=1
            )
        )
        created.append(template)
    return created


def default_template(team_id: int, kind: str = TemplateKind.STANDARD) -> ChecklistTemplate | None:
    return ChecklistTemplate.objects.filter(team_id=team_id, kind=kind).order_by("id").first()


@transaction.atomic
def template_create(
    *, actor: User, team: Team, name: str, kind: str = TemplateKind.STANDARD, description=""
) -> ChecklistTemplate:
    require_manager(actor, team.pk, action="create checklists")
    template = ChecklistTemplate(
        team=team, name=name.strip(), kind=kind, description=description.strip()
    )
    _validate_template(template)
    template.save()
    audit_record(actor=actor, action="checklist_template.created", target=template)
    return template


@transaction.atomic
def template_update(
    *, actor: User, template: ChecklistTemplate, name: str, kind: str, description: str = ""
) -> ChecklistTemplate:
    require_manager(actor, template.team_id, action="edit checklists")
    template.name, template.kind, template.description = name.strip(), kind, description.strip()
    _validate_template(template)
    template.save()
    audit_record(actor=actor, action="checklist_template.updated", target=template)
    return template


def _validate_template(template: ChecklistTemplate) -> None:
    clash = ChecklistTemplate.objects.filter(team_id=template.team_id, name__iexact=template.name)
    if clash.exclude(pk=template.pk).exists():
        raise ValidationError({"name": [f"The team already has a checklist called {template}."]})
    template.full_clean()


@transaction.atomic
def template_delete(*, actor: User, template: ChecklistTemplate) -> None:
    """Releases keep their snapshots; trains that used the template fall back to none."""
    require_manager(actor, template.team_id, action="delete checklists")
    audit_record(actor=actor, action="checklist_template.deleted", target=template)
    template.delete()


@transaction.atomic
def template_item_add(
    *,
    actor: User,
    template: ChecklistTemplate,
    text: str,
    stage: str,
    help_text: str = "",
    is_required: bool = True,
    tickable_by: str = TickableBy.MEMBER,
) -> ChecklistTemplateItem:
    require_manager(actor, template.team_id, action="edit checklists")
    last = template.items.aggregate(last=Max("position"))["last"] or 0
    item = ChecklistTemplateItem(
        template=template,
        stage=stage,
        position=last + 1,
        text=text.strip(),
        help_text=help_text.strip(),
        is_required=is_required,
        tickable_by=tickable_by,
    )
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def template_item_update(
    *,
    actor: User,
    item: ChecklistTemplateItem,
    text: str,
    stage: str,
    help_text: str = "",
    is_required: bool = True,
    tickable_by: str = TickableBy.MEMBER,
) -> ChecklistTemplateItem:
    require_manager(actor, item.template.team_id, action="edit checklists")
    if stage != item.stage:
        # An item moved to another stage goes to the end of it, as a new one would.
        last = item.template.items.aggregate(last=Max("position"))["last"] or 0
        item.position = last + 1
    item.text, item.stage, item.help_text = text.strip(), stage, help_text.strip()
    item.is_required, item.tickable_by = is_required, tickable_by
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def template_item_remove(*, actor: User, item: ChecklistTemplateItem) -> None:
    require_manager(actor, item.template.team_id, action="edit checklists")
    item.delete()


@transaction.atomic
def template_item_move(*, actor: User, item: ChecklistTemplateItem, direction: str) -> None:
    """Swap the item with its neighbour within its stage ("up" or "down")."""
    require_manager(actor, item.template.team_id, action="edit checklists")
    if direction not in ("up", "down"):
        raise ValidationError({"direction": ["Move an item up or down."]})
    siblings = list(
        ChecklistTemplateItem.objects.select_for_update()
        .filter(template_id=item.template_id, stage=item.stage)
        .order_by("position", "id")
    )
    index = next(i for i, sibling in enumerate(siblings) if sibling.pk == item.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(siblings):
        return  # already first or last: nothing to do
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings, start=1):
        sibling.position = position
    ChecklistTemplateItem.objects.bulk_update(siblings, ["position"])


@transaction.atomic
def train_set_checklist_template(
    *, actor: User, train: Train, template: ChecklistTemplate | None
) -> Train:
    require_manager(actor, train.team_id, action="change trains")
    if template is not None and template.team_id != train.team_id:
        raise ValidationError({"checklist_template": ["Choose one of the team's own checklists."]})
    train.checklist_template = template
    train.save(update_fields=["checklist_template", "updated_at"])
    audit_record(actor=actor, action="train.checklist_changed", target=train)
    return train


# --- the snapshot at cut -----------------------------------------------------------------------


def checklist_snapshot(release: Release, template: ChecklistTemplate | None, *, rehearsal=False):
    """Copy the template's items onto the release; later template edits never reach them."""
    if template is None:
        return []
    last = release.checklist_items.aggregate(last=Max("position"))["last"] or 0
    return ChecklistItem.objects.bulk_create(
        ChecklistItem(
            release=release,
            stage=item.stage,
            position=last + index,
            text=item.text,
            help_text=item.help_text,
            is_required=item.is_required,
            tickable_by=item.tickable_by,
            is_rehearsal=rehearsal,
        )
        for index, item in enumerate(template.items.order_by("position", "id"), start=1)
    )


# --- ticking --------------------------------------------------------------------------------


@dataclass
class TickResult:
    item: ChecklistItem
    # Someone else got there first: the item is already in the state asked for, by them.
    conflict: str = ""


def can_tick(user: User, item: ChecklistItem, *, role: str | None) -> bool:
    """For templates: `role` is the viewer's role in the release's team (None: not a member)."""
    if role is None or item.release.status == ReleaseStatus.CANCELLED:
        return False
    if item.tickable_by == TickableBy.CAPTAIN:
        return item.release.captain_id == user.pk or role in ("manager", "admin")
    return True


def checklist_tick(
    *,
    actor: User,
    item: ChecklistItem,
    ticked: bool,
    note: str = "",
    now: datetime | None = None,
) -> TickResult:
    """Tick or untick one item with a conditional UPDATE of its row alone.

    The UPDATE only matches while the item is still in the opposite state, so concurrent ticks
    never overwrite each other: the second one finds nothing to change and reports who was first.
    A fixed number of queries whatever the checklist's length.
    """
    now = now or timezone.now()
    release = item.release
    role = require_member(actor, release.train.team_id)
    if release.status == ReleaseStatus.CANCELLED:
        raise ValidationError("This release was cancelled; its checklist is closed.")
    if not can_tick(actor, item, role=role):
        raise PermissionDenied(f"Only the release captain can tick “{item.text}”.")
    note = note.strip()
    if len(note) > 500:
        raise ValidationError({"note": ["Keep the note under 500 characters."]})
    with transaction.atomic():
        if ticked:
            changed = ChecklistItem.objects.filter(pk=item.pk, ticked_at__isnull=True).update(
                ticked_at=now, ticked_by=actor, note=note
            )
        else:
            changed = ChecklistItem.objects.filter(pk=item.pk, ticked_at__isnull=False).update(
                ticked_at=None, ticked_by=None, note=note
            )
        if changed:
            Release.objects.filter(pk=release.pk).update(
                checklist_revision=F("checklist_revision") + 1
            )
            ReleaseEvent.objects.create(
                release=release,
                kind=ReleaseEvent.Kind.CHECKLIST,
                actor=actor,
                note=f"{'Ticked' if ticked else 'Unticked'}: {item.text}"
                + (f" ({note})" if note else ""),
                data={"item": item.pk, "ticked": ticked},
                created_at=now,
            )
    fresh = ChecklistItem.objects.select_related("ticked_by", "release__train").get(pk=item.pk)
    if changed:
        return TickResult(fresh)
    if ticked:
        who = fresh.ticked_by.display_name if fresh.ticked_by else "someone"
        return TickResult(fresh, conflict=f"{who} already ticked this.")
    return TickResult(fresh, conflict="Someone already unticked this.")


# --- gates -----------------------------------------------------------------------------------

# Moving a release into a status needs the required items of these stages ticked.
GATED_STAGES = {
    ReleaseStatus.APPROVED: ("before_cut", "before_approval"),
    ReleaseStatus.DEPLOYING: ("before_cut", "before_approval"),
    ReleaseStatus.RELEASED: ("before_cut", "before_approval", "during_deploy"),
}


def gate_blockers(release: Release, to_status: str) -> list[str]:
    """What keeps the release from moving to `to_status`, by name; empty when nothing does."""
    stages = GATED_STAGES.get(to_status)
    if not stages:
        return []
    blockers = list(
        release.checklist_items.filter(
            stage__in=stages, is_required=True, ticked_at__isnull=True
        ).values_list("text", flat=True)
    )
    if release.train.requires_rollback_plan:
        plan = getattr(release, "rollback_plan", None)
        missing = plan.missing_answers if plan else ["the whole plan"]
        if missing:
            blockers.append(f"Rollback plan: {', '.join(missing)}")
    return blockers


def can_override_gates(user: User, release: Release) -> bool:
    return is_manager(user, release.train.team_id)
