from typing import Any

from django.db import models
from django.utils import timezone

from core.models import AuditEntry, Heartbeat


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    data: dict | None = None,
) -> AuditEntry:
    """Record who did what. Call it inside the service's transaction so both land or neither."""
    entry = AuditEntry(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        data=data or {},
    )
    if target is not None:
        entry.target_type = target._meta.label_lower
        entry.target_id = str(target.pk)
        entry.target_repr = str(target)[:200]
    entry.save()
    return entry


def heartbeat_record(*, name: str, hostname: str = "", now=None) -> Heartbeat:
    heartbeat, _ = Heartbeat.objects.update_or_create(
        name=name,
        defaults={"last_seen_at": now or timezone.now(), "hostname": hostname[:200]},
    )
    return heartbeat
