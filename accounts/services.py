"""The only code that changes accounts, teams and tokens. Each function is one transaction."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiScope, ApiToken, Membership, Role, Team, User
from core.services import audit_record

TOKEN_PREFIX = "smk"
# Recording every request's use would turn each API read into a write; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str  # shown to the user once, never stored


@transaction.atomic
def api_token_issue(
    *,
    actor: User | None,
    user: User,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> IssuedToken:
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the token a name, such as “CI deploys”."]
    valid_scopes = set(ApiScope.values)
    unknown = [scope for scope in scopes if scope not in valid_scopes]
    if unknown:
        errors["scopes"] = [
            f"Unknown scope(s): {', '.join(unknown)}. Choose from {', '.join(ApiScope.values)}."
        ]
    elif not scopes:
        errors["scopes"] = ["Choose at least one scope."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if not errors and user.api_tokens.filter(name=name, revoked_at__isnull=True).exists():
        errors["name"] = ["You already have an active token with this name."]
    if errors:
        raise ValidationError(errors)

    key_id = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user=user,
        name=name,
        prefix=f"{TOKEN_PREFIX}_{key_id}",
        token_hash=_hash_token(raw),
        scopes=sorted(set(scopes), key=ApiScope.values.index),
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    audit_record(
        actor=actor, action="api_token.issued", target=token, data={"scopes": token.scopes}
    )
    return IssuedToken(token=token, raw=raw)


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    if token.user_id != actor.pk and not actor.is_staff:
        raise PermissionError("You can only revoke your own tokens.")
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_record(actor=actor, action="api_token.revoked", target=token)
    return token


def api_token_authenticate(*, raw: str, now: datetime | None = None) -> ApiToken | None:
    """The active token for a raw bearer value, or None. Records when it was last used."""
    now = now or timezone.now()
    # The secret part may itself contain "_" (URL-safe base64), so split off two fields only.
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=f"{parts[0]}_{parts[1]}").first()
    if token is None or not secrets.compare_digest(token.token_hash, _hash_token(raw)):
        return None
    if not token.is_active_at(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


@transaction.atomic
def user_update_profile(
    *,
    actor: User,
    user: User,
    first_name: str,
    last_name: str,
    email: str,
    timezone_name: str,
    notification_email: str,
) -> User:
    if actor.pk != user.pk and not actor.is_staff:
        raise PermissionError("You can only change your own profile.")
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    user.email = email.strip()
    user.timezone = timezone_name.strip()
    user.notification_email = notification_email.strip()
    user.full_clean(exclude=["password"])
    user.save(update_fields=["first_name", "last_name", "email", "timezone", "notification_email"])
    audit_record(actor=actor, action="user.profile_updated", target=user)
    return user


@transaction.atomic
def team_create(*, actor: User | None, name: str, slug: str, timezone_name: str = "UTC") -> Team:
    team = Team(name=name.strip(), slug=slug.strip(), timezone=timezone_name)
    team.full_clean()
    team.save()
    audit_record(actor=actor, action="team.created", target=team)
    return team


@transaction.atomic
def membership_set(*, actor: User | None, team: Team, user: User, role: str) -> Membership:
    """Add someone to a team, or change their role there."""
    if role not in Role.values:
        raise ValidationError({"role": [f"Unknown role “{role}”."]})
    membership, created = Membership.objects.select_for_update().get_or_create(
        team=team, user=user, defaults={"role": role}
    )
    if not created:
        if membership.role == role:
            return membership
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
    audit_record(
        actor=actor,
        action="membership.added" if created else "membership.role_changed",
        target=membership,
        data={"role": role},
    )
    return membership
