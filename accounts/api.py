from django.http import HttpRequest
from ninja import Router, Schema

from accounts.auth import ApiTokenAuth
from accounts.models import ApiScope
from accounts.selectors import memberships_for_user
from accounts.services import user_update_profile

router = Router(tags=["accounts"])


class MembershipOut(Schema):
    team: str
    team_name: str
    role: str


class MeOut(Schema):
    username: str
    name: str
    email: str
    timezone: str
    teams: list[MembershipOut]
    token_scopes: list[str]


class MeUpdateIn(Schema):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    timezone: str | None = None
    notification_email: str | None = None


def _me(request: HttpRequest) -> MeOut:
    user = request.user
    return MeOut(
        username=user.username,
        name=user.display_name,
        email=user.email,
        timezone=user.timezone,
        teams=[
            MembershipOut(team=m.team.slug, team_name=m.team.name, role=m.role)
            for m in memberships_for_user(user)
        ],
        token_scopes=request.auth.scopes,
    )


@router.get("/me", response=MeOut, auth=ApiTokenAuth(ApiScope.READ), summary="Who am I")
def me(request: HttpRequest):
    """The token's user, their teams and roles, and the token's scopes."""
    return _me(request)


@router.patch("/me", response=MeOut, auth=ApiTokenAuth(ApiScope.WRITE), summary="Update my profile")
def me_update(request: HttpRequest, payload: MeUpdateIn):
    user = request.user
    changes = payload.dict(exclude_unset=True)
    user_update_profile(
        actor=user,
        user=user,
        first_name=changes.get("first_name", user.first_name) or "",
        last_name=changes.get("last_name", user.last_name) or "",
        email=changes.get("email", user.email) or "",
        timezone_name=changes.get("timezone", user.timezone) or "",
        notification_email=changes.get("notification_email", user.notification_email) or "",
    )
    return _me(request)
