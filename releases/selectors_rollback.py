"""Reads for rollback plans, critical releases and the printable release sheet.

Every read is scoped to the viewer through `releases_for_user`: a release of a team the viewer is
not in does not exist for them (a 404, never a 403).
"""

import re
from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import User
from releases.models import (
    STAGE_ORDER,
    ChecklistItem,
    FailureMode,
    RehearsalRole,
    Release,
    RollbackPlan,
    Stage,
)
from releases.selectors import releases_for_user

# A link in the detection answer: http(s) only, so nothing else ever becomes an href.
_LINK = re.compile(r"https?://\S+")
# Sentence punctuation typed right after a link is not part of it.
_TRAILING = ".,;:!?)]}'\""


def release_for_viewer(user: User, pk: int) -> Release:
    """The release with its train, team and captain; Release.DoesNotExist for outsiders."""
    return releases_for_user(user).get(pk=pk)


def rollback_plan_of(release: Release) -> RollbackPlan:
    """The release's plan, or an unsaved empty one (releases made before plans existed)."""
    plan = (
        RollbackPlan.objects.filter(release=release)
        .select_related("rehearsed_by", "updated_by")
        .first()
    )
    return plan or RollbackPlan(release=release)


def failure_modes_of(release: Release) -> list[FailureMode]:
    return list(FailureMode.objects.filter(release=release).select_related("created_by"))


def rehearsal_roles_of(release: Release) -> list[RehearsalRole]:
    return list(RehearsalRole.objects.filter(release=release).select_related("person"))


def team_members(team_id: int) -> QuerySet[User]:
    """Who can be given a rehearsal role: the members of the release's team."""
    return User.objects.filter(memberships__team_id=team_id, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


# --- the detection answer, with its links --------------------------------------------------


@dataclass(frozen=True)
class Segment:
    text: str
    href: str = ""


def detection_lines(text: str) -> list[list[Segment]]:
    """Each non-empty line of the answer as text and link segments, for rendering links as links."""
    lines = []
    for line in text.splitlines():
        if not line.strip():
            continue
        segments: list[Segment] = []
        position = 0
        for match in _LINK.finditer(line):
            url = match.group(0).rstrip(_TRAILING)
            if match.start() > position:
                segments.append(Segment(line[position : match.start()]))
            segments.append(Segment(url, url))
            position = match.start() + len(url)
        if position < len(line):
            segments.append(Segment(line[position:]))
        lines.append(segments)
    return lines


# --- the printable sheet -------------------------------------------------------------------


@dataclass
class StageItems:
    stage: str
    label: str
    items: list[ChecklistItem]

    @property
    def done(self) -> int:
        return sum(1 for item in self.items if item.is_ticked)


def checklist_by_stage(release: Release) -> list[StageItems]:
    """The release's checklist in stage order, each stage's items in their own order."""
    items = ChecklistItem.objects.filter(release=release).select_related("ticked_by")
    groups: dict[str, list[ChecklistItem]] = {}
    for item in items:
        groups.setdefault(item.stage, []).append(item)
    return [
        StageItems(stage, Stage(stage).label, groups[stage])
        for stage in sorted(groups, key=lambda s: STAGE_ORDER.get(s, len(STAGE_ORDER)))
    ]
