"""Release lifecycle: validated transitions, the timeline, captains."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from releases.models import GateOverride, Release, ReleaseEvent, ReleaseStatus
from releases.models.releases import NEEDS_CAPTAIN_OR_MANAGER, TRANSITIONS
from releases.permissions import is_manager, require_manager, require_member
from releases.services.checklists import can_override_gates, gate_blockers


def can_transition(user: User, release: Release, to_status: str) -> bool:
    """For templates: may this viewer move the release to `to_status` right now?"""
    if to_status not in TRANSITIONS.get(release.status, ()):
        return False
    if to_status in NEEDS_CAPTAIN_OR_MANAGER:
        return release.captain_id == user.pk or is_manager(user, release.train.team_id)
    return True


@transaction.atomic
def release_transition(
    *,
    actor: User,
    release: Release,
    to_status: str,
    note: str = "",
    override_reason: str = "",
    now: datetime | None = None,
) -> Release:
    """Move a release on. Gates (open required checklist items, an incomplete rollback plan the
    train requires) refuse the move unless a manager overrides them with a written reason."""
    now = now or timezone.now()
    require_member(actor, release.train.team_id)
    # Lock and re-read: two people pressing buttons at once must not both win.
    release = Release.objects.select_for_update().select_related("train").get(pk=release.pk)
    if to_status not in ReleaseStatus.values:
        raise ValidationError({"to": [f"“{to_status}” is not a release status."]})
    allowed = TRANSITIONS[release.status]
    if to_status not in allowed:
        options = ", ".join(allowed) if allowed else "none: this release is finished"
        raise ValidationError(
            {"to": [
                f"A {release.get_status_display().lower()} release cannot move to "
                f"{ReleaseStatus(to_status).label.lower()}. Allowed next: {options}."
            ]}
        )  # fmt: skip
    if to_status in NEEDS_CAPTAIN_OR_MANAGER and not (
        release.captain_id == actor.pk or is_manager(actor, release.train.team_id)
    ):
        raise PermissionDenied(
            f"Only the release captain or a manager can move a release to "
            f"{ReleaseStatus(to_status).label.lower()}."
        )
    if to_status == ReleaseStatus.CANCELLED and not note.strip():
        raise ValidationError({"note": ["Say why the release is cancelled."]})
    blockers = gate_blockers(release, to_status)
    override_reason = override_reason.strip()
    if blockers and not override_reason:
        label = ReleaseStatus(to_status).label.lower()
        raise ValidationError(
            {"to": [f"The release cannot move to {label} while these are open: "
                    + "; ".join(blockers) + "."]}
        )  # fmt: skip
    if blockers:
        if not can_override_gates(actor, release):
            raise PermissionDenied("Only a manager of this team can override a release gate.")
        GateOverride.objects.create(
            release=release,
            to_status=to_status,
            reason=override_reason,
            open_items=blockers,
            actor=actor,
            created_at=now,
        )
        ReleaseEvent.objects.create(
            release=release,
            kind=ReleaseEvent.Kind.GATE_OVERRIDE,
            actor=actor,
            note=f"Moved on with open items ({'; '.join(blockers)}): {override_reason}",
            data={"open_items": blockers, "to": to_status},
            created_at=now,
        )
    from_status = release.status
    release.status = to_status
    changed = ["status", "updated_at"]
    if to_status == ReleaseStatus.CUT and release.cut_at is None:
        release.cut_at, changed = now, [*changed, "cut_at"]
    elif to_status == ReleaseStatus.RELEASED:
        release.released_at, changed = now, [*changed, "released_at"]
    elif to_status in (ReleaseStatus.ROLLED_BACK, ReleaseStatus.CANCELLED):
        release.finished_at, changed = now, [*changed, "finished_at"]
    release.save(update_fields=changed)
    ReleaseEvent.objects.create(
        release=release,
        kind=ReleaseEvent.Kind.TRANSITION,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        note=note.strip(),
        created_at=now,
    )
    return release


@transaction.atomic
def release_assign_captain(
    *, actor: User, release: Release, captain: User | None, now: datetime | None = None
) -> Release:
    now = now or timezone.now()
    require_manager(actor, release.train.team_id, action="assign the captain")
    if (
        captain is not None
        and not captain.memberships.filter(team_id=release.train.team_id).exists()
    ):
        raise ValidationError({"captain": ["The captain must be a member of the train's team."]})
    release = Release.objects.select_for_update().get(pk=release.pk)
    release.captain = captain
    release.save(update_fields=["captain", "updated_at"])
    ReleaseEvent.objects.create(
        release=release,
        kind=ReleaseEvent.Kind.CAPTAIN,
        actor=actor,
        note=f"Captain: {captain.display_name}" if captain else "Captain removed",
        created_at=now,
    )
    return release
