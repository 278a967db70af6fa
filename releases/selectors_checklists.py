"""Reads for the release page's checklist panel and its gates, scoped to the viewer.

Every read here costs a fixed number of queries whatever the checklist's length: the items come
in one query with who ticked them, progress is one GROUP BY, the viewer's role one row.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q

from accounts.models import User
from accounts.selectors import role_in_team
from releases.models import (
    ChecklistItem,
    GateOverride,
    Release,
    ReleaseStatus,
    Stage,
    TickableBy,
)
from releases.models.releases import IN_FLIGHT
from releases.services.checklists import GATED_STAGES, can_tick, gate_blockers

# A release in these statuses has never been past a gate, so it has no overrides to show.
_BEFORE_ANY_GATE = (ReleaseStatus.PLANNED, ReleaseStatus.CUT, ReleaseStatus.STABILIZING)


@dataclass
class Row:
    """One checklist item as this viewer sees it."""

    item: ChecklistItem
    # Why the viewer cannot tick it; empty when they can.
    refusal: str = ""
    # Set on the answer to a tick: someone else was first, or the tick was refused.
    conflict: str = ""
    error: str = ""


@dataclass
class Progress:
    total: int = 0
    ticked: int = 0
    required_open: int = 0

    @property
    def is_complete(self) -> bool:
        return self.total > 0 and self.ticked == self.total


@dataclass
class StageGroup(Progress):
    stage: str = ""
    label: str = ""
    rows: list[Row] = field(default_factory=list)


@dataclass
class Checklist:
    stages: list[StageGroup]
    overall: Progress
    # The poll URL's parameters: the panel is re-rendered only when one of them changed.
    revision: int = 0
    status: str = ""
    captain_id: int | None = None
    # Poll while ticks still matter: in flight, or released with after-release items open.
    is_live: bool = False


@dataclass(frozen=True)
class Gate:
    """A move the viewer may make that open required work still blocks."""

    to_status: str
    action: str
    blockers: list[str]


@dataclass(frozen=True)
class ChecklistState:
    revision: int
    status: str
    captain_id: int | None


def release_for_checklist(user: User, pk: int) -> Release:
    """The release with what the panel needs, or DoesNotExist for outsiders (a 404)."""
    return (
        Release.objects.filter(train__team__memberships__user=user)
        .select_related("train", "captain")
        .get(pk=pk)
    )


def checklist_item_for_user(user: User, release_pk: int, item_pk: int) -> ChecklistItem:
    """One item of a release in the viewer's teams, or DoesNotExist (a 404)."""
    return ChecklistItem.objects.select_related("release__train", "ticked_by").get(
        pk=item_pk,
        release_id=release_pk,
        release__train__team__memberships__user=user,
    )


def checklist_state(user: User, pk: int) -> ChecklistState | None:
    """What a polling page compares with what it shows: one row, or None for outsiders."""
    row = (
        Release.objects.filter(pk=pk, train__team__memberships__user=user)
        .values_list("checklist_revision", "status", "captain_id")
        .first()
    )
    return ChecklistState(*row) if row else None


def tick_refusal(user: User, item: ChecklistItem, *, role: str | None) -> str:
    """Why this viewer cannot tick the item, in words for the disabled control; "" if they can."""
    if can_tick(user, item, role=role):
        return ""
    if item.release.status == ReleaseStatus.CANCELLED:
        return "The release was cancelled; its checklist is closed."
    if role is None:
        return "Only members of the team can tick this."
    if item.tickable_by == TickableBy.CAPTAIN:
        return "Only the captain can tick this."
    return "You cannot tick this."


def _stage_groups() -> dict[str, StageGroup]:
    """One empty group per stage, in the order a release meets them."""
    return {value: StageGroup(stage=value, label=label) for value, label in Stage.choices}


def checklist_for_viewer(user: User, release: Release) -> Checklist:
    """The release's items grouped by stage in stage order, each with progress and whether the
    viewer may tick it. Two queries (items with who ticked them, the viewer's role)."""
    items = list(release.checklist_items.select_related("ticked_by"))
    role = role_in_team(user, release.train.team_id) if items else None
    groups = _stage_groups()
    overall = Progress()
    for item in items:
        item.release = release  # already known: no query per row
        group = groups[item.stage]
        group.rows.append(Row(item, refusal=tick_refusal(user, item, role=role)))
        for progress in (group, overall):
            progress.total += 1
            progress.ticked += item.is_ticked
            progress.required_open += item.is_required and not item.is_ticked
    after_release_open = any(
        item.stage == Stage.AFTER_RELEASE and not item.is_ticked for item in items
    )
    return Checklist(
        stages=[group for group in groups.values() if group.rows],
        overall=overall,
        revision=release.checklist_revision,
        status=release.status,
        captain_id=release.captain_id,
        is_live=release.status in IN_FLIGHT
        or (release.status == ReleaseStatus.RELEASED and after_release_open),
    )


def checklist_progress(release_id: int) -> tuple[dict[str, StageGroup], Progress]:
    """Progress per stage and overall after a tick, from one GROUP BY."""
    counts = (
        ChecklistItem.objects.filter(release_id=release_id)
        .order_by()
        .values("stage")
        .annotate(
            total=Count("id"),
            ticked=Count("id", filter=Q(ticked_at__isnull=False)),
            required_open=Count("id", filter=Q(is_required=True, ticked_at__isnull=True)),
        )
    )
    groups = _stage_groups()
    overall = Progress()
    for row in counts:
        group = groups[row["stage"]]
        for progress in (group, overall):
            progress.total += row["total"]
            progress.ticked += row["ticked"]
            progress.required_open += row["required_open"]
    return groups, overall


def gate_overrides(release: Release) -> list[GateOverride]:
    """Who moved the release on with work undone, when, why and what was open."""
    if release.status in _BEFORE_ANY_GATE:
        return []
    overrides = list(release.gate_overrides.select_related("actor"))
    for override in overrides:
        override.to_label = ReleaseStatus(override.to_status).label
    return overrides


def release_gates(release: Release, actions: Iterable[tuple[str, str]]) -> list[Gate]:
    """For each (status, action label) the viewer may move to, what still blocks it."""
    gates = []
    for to_status, action in actions:
        if to_status not in GATED_STAGES:
            continue
        blockers = gate_blockers(release, to_status)
        if blockers:
            gates.append(Gate(to_status, action, blockers))
    return gates
