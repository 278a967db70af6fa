"""Change items that ride trains, and the deployments CI reports."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from releases.models import (
    ChangeItem,
    Deployment,
    DeploymentStatus,
    Release,
    ReleaseEvent,
    Train,
)
from releases.permissions import require_member


@transaction.atomic
def change_item_add(
    *,
    actor: User,
    train: Train,
    title: str,
    link: str = "",
    is_ready: bool = False,
    external_id: str = "",
    author_name: str = "",
) -> ChangeItem:
    """Add a change to the next departure. With an external_id, sending it again updates it."""
    require_member(actor, train.team_id)
    external_id = external_id.strip()
    item = None
    if external_id:
        item = (
            ChangeItem.objects.select_for_update()
            .filter(train=train, external_id=external_id)
            .first()
        )
    if item is None:
        item = ChangeItem(train=train, author=actor, external_id=external_id)
    elif item.release_id is not None:
        raise ValidationError(
            {"external_id": [f"This change already departed with {item.release.version}."]}
        )
    item.title = title.strip()
    item.link = link.strip()
    item.is_ready = is_ready
    item.author_name = author_name.strip()
    item.full_clean()
    try:
        # Two CI jobs sending the same new external_id at once: the unique constraint decides.
        with transaction.atomic():
            item.save()
    except IntegrityError:
        raise ValidationError(
            {"external_id": ["This change is being added by another request; send it again."]}
        ) from None
    return item


@transaction.atomic
def change_item_set_ready(*, actor: User, item: ChangeItem, ready: bool) -> ChangeItem:
    require_member(actor, item.train.team_id)
    item = ChangeItem.objects.select_for_update().get(pk=item.pk)
    if item.release_id is not None:
        raise ValidationError("This change already departed; it cannot change readiness.")
    item.is_ready = ready
    item.save(update_fields=["is_ready", "updated_at"])
    return item


@transaction.atomic
def deployment_record(
    *,
    actor: User,
    release: Release,
    environment: str,
    status: str,
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    external_id: str = "",
    now: datetime | None = None,
) -> Deployment:
    """Record (or, with the same external_id, update) a deployment of a release."""
    now = now or timezone.now()
    require_member(actor, release.train.team_id)
    environment = (environment or "").strip().lower()
    errors = {}
    if not environment:
        errors["environment"] = ["Name the environment, such as production or staging."]
    if status not in DeploymentStatus.values:
        errors["status"] = [f"Use one of: {', '.join(DeploymentStatus.values)}."]
    if started_at and finished_at and finished_at < started_at:
        errors["finished_at"] = ["A deployment cannot finish before it starts."]
    if errors:
        raise ValidationError(errors)
    deployment = None
    if external_id:
        deployment = (
            Deployment.objects.select_for_update()
            .filter(release=release, environment=environment, external_id=external_id)
            .first()
        )
    if deployment is None:
        deployment = Deployment(
            release=release, environment=environment, external_id=external_id, reported_by=actor
        )
    deployment.status = status
    deployment.started_at = started_at or deployment.started_at or now
    if finished_at or status != DeploymentStatus.STARTED:
        deployment.finished_at = finished_at or now
    deployment.full_clean()
    try:
        with transaction.atomic():
            deployment.save()
    except IntegrityError:
        raise ValidationError(
            {"external_id": ["Another request is recording this deployment; send it again."]}
        ) from None
    ReleaseEvent.objects.create(
        release=release,
        kind=ReleaseEvent.Kind.DEPLOYMENT,
        actor=actor,
        note=f"{environment}: {deployment.get_status_display().lower()}",
        data={"deployment": deployment.pk, "environment": environment, "status": status},
        created_at=now,
    )
    return deployment
