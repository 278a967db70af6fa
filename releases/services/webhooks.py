"""A team's outgoing webhooks: only the team's managers add, change, delete them or rotate the
secret that signs their JSON payloads. The audit log records who did it, never the secret."""

import secrets
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team, User
from core.services import audit_record
from releases.channels import DeliveryError, send_webhook
from releases.models import Channel, Delivery, NotificationKind, TeamWebhook, WebhookFormat
from releases.permissions import require_manager

ACTION = "manage its webhooks"
EDITABLE = ("name", "url", "payload_format", "kinds", "is_active")


def _kinds(kinds: Iterable[str]) -> list[str]:
    """Known kinds only, once each, in a stable order; empty means every kind."""
    kinds = list(kinds)
    unknown = sorted(set(kinds) - set(NotificationKind.values))
    if unknown:
        names = ", ".join(f"“{kind}”" for kind in unknown)
        raise ValidationError({"kinds": [f"There is no notification kind {names}."]})
    return [kind for kind in NotificationKind.values if kind in kinds]


def _validate(webhook: TeamWebhook) -> None:
    # URLField also accepts ftp://; a webhook is an HTTP POST.
    if urlsplit(webhook.url).scheme.lower() not in ("http", "https"):
        message = "The URL must start with https:// (or http://), e.g. https://hooks.slack.com/…"
        raise ValidationError({"url": [message]})
    clash = TeamWebhook.objects.filter(team_id=webhook.team_id, name__iexact=webhook.name)
    if clash.exclude(pk=webhook.pk).exists():
        message = f"The team already has a webhook called “{webhook.name}”."
        raise ValidationError({"name": [message]})
    webhook.full_clean()


def _described(webhook: TeamWebhook) -> dict:
    return {
        "team": webhook.team_id,
        "name": webhook.name,
        "url": webhook.url,
        "payload_format": webhook.payload_format,
        "kinds": webhook.kinds,
        "is_active": webhook.is_active,
    }


@transaction.atomic
def webhook_create(
    *,
    actor: User,
    team: Team,
    name: str,
    url: str,
    payload_format: str = WebhookFormat.SLACK,
    kinds: Iterable[str] = (),
    is_active: bool = True,
) -> TeamWebhook:
    require_manager(actor, team.pk, action=ACTION)
    webhook = TeamWebhook(
        team=team,
        name=name.strip(),
        url=url.strip(),
        payload_format=payload_format,
        kinds=_kinds(kinds),
        is_active=is_active,
        created_by=actor,
    )
    _validate(webhook)
    webhook.save()
    audit_record(actor=actor, action="webhook.created", target=webhook, data=_described(webhook))
    return webhook


@transaction.atomic
def webhook_update(
    *,
    actor: User,
    webhook: TeamWebhook,
    name: str,
    url: str,
    payload_format: str,
    kinds: Iterable[str],
    is_active: bool,
) -> TeamWebhook:
    require_manager(actor, webhook.team_id, action=ACTION)
    before = {field: getattr(webhook, field) for field in EDITABLE}
    try:
        webhook.name, webhook.url = name.strip(), url.strip()
        webhook.payload_format, webhook.is_active = payload_format, is_active
        webhook.kinds = _kinds(kinds)
        _validate(webhook)
    except ValidationError:
        for field, value in before.items():  # the caller's object stays as saved
            setattr(webhook, field, value)
        raise
    webhook.save(update_fields=[*EDITABLE, "updated_at"])
    audit_record(actor=actor, action="webhook.updated", target=webhook, data=_described(webhook))
    return webhook


@transaction.atomic
def webhook_delete(*, actor: User, webhook: TeamWebhook) -> None:
    """Its delivery log goes with it (the deliveries cascade)."""
    require_manager(actor, webhook.team_id, action=ACTION)
    audit_record(actor=actor, action="webhook.deleted", target=webhook, data=_described(webhook))
    webhook.delete()


@transaction.atomic
def webhook_rotate_secret(*, actor: User, webhook: TeamWebhook) -> TeamWebhook:
    """A new signing secret; deliveries from now on are signed with it, the old one stops."""
    require_manager(actor, webhook.team_id, action=ACTION)
    webhook.secret = secrets.token_hex(32)
    webhook.save(update_fields=["secret", "updated_at"])
    audit_record(actor=actor, action="webhook.secret_rotated", target=webhook)
    return webhook


def webhook_send_test(*, actor: User, webhook: TeamWebhook, now: datetime | None = None) -> None:
    """Send a sample notification now, in the webhook's own format and signature, so a manager
    sees at once whether the receiving side works. It is not a reminder: no delivery is logged.
    A failure is a ValidationError with what went wrong ("Webhook: HTTP 500")."""
    require_manager(actor, webhook.team_id, action=ACTION)
    now = now or timezone.now()
    sample = Delivery(
        kind=NotificationKind.DEPARTURE_COMING,
        subject=f"webhook-test:{webhook.pk}",
        occurrence=now.isoformat(),
        recipient_key=f"webhook:{webhook.pk}",
        channel=Channel.WEBHOOK,
        webhook=webhook,
        team=webhook.team,
        title=f"Test from Stationmaster for {webhook.team.name}",
        body=f"If you can read this, the webhook “{webhook.name}” works.",
        url=reverse("releases:webhook_detail", args=[webhook.pk]),
        created_at=now,
    )
    try:
        send_webhook(sample, now=now)
    except DeliveryError as exc:
        audit_record(
            actor=actor, action="webhook.test_failed", target=webhook, data={"error": str(exc)}
        )
        raise ValidationError(str(exc)) from exc
    audit_record(actor=actor, action="webhook.tested", target=webhook)
