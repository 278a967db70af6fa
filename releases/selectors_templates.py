"""Reads for checklist templates, scoped to the viewer's teams.

Outsiders find nothing (DoesNotExist, a 404), so a template's existence never leaks across teams.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import User
from releases.models import (
    ChecklistTemplate,
    ChecklistTemplateItem,
    Stage,
    Train,
    TrainRollbackDefaults,
)


def _trains_using() -> Prefetch:
    # The trains a template is used by, with their team for the link to the train page.
    return Prefetch("trains", queryset=Train.objects.select_related("team").order_by("name"))


def templates_for_user(user: User) -> QuerySet[ChecklistTemplate]:
    return ChecklistTemplate.objects.filter(team__memberships__user=user).select_related("team")


def template_list_for_user(user: User) -> list[ChecklistTemplate]:
    """Every template of the viewer's teams, with item counts and the trains using each.

    Two queries whatever the number of templates, items and trains.
    """
    return list(
        templates_for_user(user)
        .annotate(
            item_count=Count("items", distinct=True),
            required_count=Count("items", filter=Q(items__is_required=True), distinct=True),
        )
        .prefetch_related(_trains_using())
        .order_by("team__name", "name")
    )


def template_detail(user: User, pk: int) -> ChecklistTemplate:
    """The template with its items in order and the trains using it, or DoesNotExist."""
    return (
        templates_for_user(user)
        .prefetch_related(
            Prefetch("items", queryset=ChecklistTemplateItem.objects.order_by("position", "id")),
            _trains_using(),
        )
        .get(pk=pk)
    )


def template_item(template: ChecklistTemplate, item_pk: int) -> ChecklistTemplateItem:
    """One item of a template the viewer can see, or DoesNotExist."""
    return ChecklistTemplateItem.objects.select_related("template").get(
        pk=item_pk, template=template
    )


def templates_for_team(team_id: int) -> QuerySet[ChecklistTemplate]:
    return ChecklistTemplate.objects.filter(team_id=team_id).order_by("name")


def train_rollback_defaults(train: Train) -> TrainRollbackDefaults | None:
    return TrainRollbackDefaults.objects.filter(train=train).first()


@dataclass
class StageGroup:
    """One stage of a checklist and its items in order; stages without items are kept."""

    stage: str
    label: str
    items: list[ChecklistTemplateItem] = field(default_factory=list)


def items_by_stage(items: Iterable[ChecklistTemplateItem]) -> list[StageGroup]:
    groups = {stage: StageGroup(stage, label) for stage, label in Stage.choices}
    for item in sorted(items, key=lambda item: (item.position, item.pk)):
        groups[item.stage].items.append(item)
    return list(groups.values())
