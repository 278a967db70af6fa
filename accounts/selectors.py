from django.db.models import F, QuerySet

from accounts.models import ApiToken, Membership, Team, User


def memberships_for_user(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("team").order_by("team__name")


def teams_for_user(user: User) -> QuerySet[Team]:
    return Team.objects.filter(memberships__user=user).order_by("name")


def api_tokens_for_user(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by(
        F("revoked_at").asc(nulls_first=True), "-created_at"
    )


def role_in_team(user: User, team_id: int) -> str | None:
    """The viewer's role in a team, or None for outsiders (who then see nothing of it)."""
    if not getattr(user, "is_authenticated", False):
        return None
    # A page asks several times (panels, gates, forms); like Django's _perm_cache, remember the
    # answer on this user object, which lives for one request.
    roles = user.__dict__.setdefault("_team_role_cache", {})
    if team_id not in roles:
        roles[team_id] = (
            Membership.objects.filter(user=user, team_id=team_id)
            .values_list("role", flat=True)
            .first()
        )
    return roles[team_id]
