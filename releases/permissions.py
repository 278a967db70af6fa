"""Who may do what with a team's trains and releases. Refusals raise PermissionDenied."""

from django.core.exceptions import PermissionDenied

from accounts.models import Role, User
from accounts.selectors import role_in_team

MANAGING_ROLES = (Role.MANAGER, Role.ADMIN)


def require_member(user: User, team_id: int) -> str:
    role = role_in_team(user, team_id)
    if role is None:
        raise PermissionDenied("You are not a member of this team.")
    return role


def require_manager(user: User, team_id: int, *, action: str) -> None:
    if require_member(user, team_id) not in MANAGING_ROLES:
        raise PermissionDenied(f"Only a manager of this team can {action}.")


def is_manager(user: User, team_id: int) -> bool:
    return role_in_team(user, team_id) in MANAGING_ROLES
