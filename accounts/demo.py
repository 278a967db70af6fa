"""Demo people and teams for seed_demo. Idempotent: running it again changes nothing."""

from accounts.models import Role, Team, User
from accounts.services import membership_set, team_create

DEMO_PASSWORD = "stationmaster-demo"

DEMO_TEAMS = [
    ("Checkout", "checkout", "Europe/Berlin"),
    ("Platform", "platform", "UTC"),
    ("Mobile", "mobile", "America/New_York"),
]

# username, first, last, timezone, {team slug: role}
DEMO_USERS = [
    ("captain", "Casey", "Carter", "Europe/Berlin", {"checkout": Role.ENGINEER}),
    (
        "manager",
        "Morgan",
        "Miles",
        "Europe/Berlin",
        {"checkout": Role.MANAGER, "platform": Role.MANAGER},
    ),
    ("engineer", "Erin", "Ellis", "Europe/Berlin", {"checkout": Role.ENGINEER}),
    ("alice", "Alice", "Arendt", "Europe/Berlin", {"checkout": Role.ENGINEER}),
    ("bob", "Bob", "Brandt", "Europe/London", {"checkout": Role.ENGINEER}),
    ("chen", "Chen", "Li", "UTC", {"platform": Role.ENGINEER}),
    ("dara", "Dara", "Okafor", "UTC", {"platform": Role.ENGINEER, "mobile": Role.ENGINEER}),
    ("emeka", "Emeka", "Obi", "America/New_York", {"mobile": Role.MANAGER}),
    ("fatima", "Fatima", "Haddad", "America/New_York", {"mobile": Role.ENGINEER}),
    ("goran", "Goran", "Petrović", "America/Chicago", {"mobile": Role.ENGINEER}),
]


def _demo_user(username: str, first: str, last: str, tz: str, *, staff: bool = False) -> User:
    user, _ = User.objects.get_or_create(username=username)
    user.first_name, user.last_name, user.timezone = first, last, tz
    user.email = f"{username}@example.com"
    user.is_staff = user.is_superuser = staff
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def seed_accounts() -> list[User]:
    teams = {}
    for name, slug, tz in DEMO_TEAMS:
        teams[slug] = Team.objects.filter(slug=slug).first() or team_create(
            actor=None, name=name, slug=slug, timezone_name=tz
        )
    admin = _demo_user("admin", "Ada", "Admin", "UTC", staff=True)
    users = [admin]
    for username, first, last, tz, roles in DEMO_USERS:
        user = _demo_user(username, first, last, tz)
        for slug, role in roles.items():
            if not user.memberships.filter(team=teams[slug], role=role).exists():
                membership_set(actor=None, team=teams[slug], user=user, role=role)
        users.append(user)
    membership_set(actor=None, team=teams["platform"], user=admin, role=Role.ADMIN)
    return users


def seed_accounts_at_scale(*, teams: int, users_per_team: int) -> None:
    """Benchmark volumes: many teams with many members, created in bulk."""
    from accounts.models import Membership

    existing = set(Team.objects.values_list("slug", flat=True))
    Team.objects.bulk_create(
        [
            Team(name=f"Team {n:03d}", slug=f"team-{n:03d}", timezone="Europe/Berlin")
            for n in range(teams)
            if f"team-{n:03d}" not in existing
        ]
    )
    usernames = {f"user-{t:03d}-{u:03d}" for t in range(teams) for u in range(users_per_team)}
    have = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    template = User(username="template")
    template.set_password(DEMO_PASSWORD)  # hash once; the same hash serves every bulk user
    User.objects.bulk_create(
        [User(username=name, password=template.password) for name in sorted(usernames - have)]
    )
    team_ids = dict(Team.objects.filter(slug__startswith="team-").values_list("slug", "id"))
    user_ids = dict(User.objects.filter(username__in=usernames).values_list("username", "id"))
    Membership.objects.bulk_create(
        [
            Membership(
                team_id=team_ids[f"team-{t:03d}"],
                user_id=user_ids[f"user-{t:03d}-{u:03d}"],
                role=Role.MANAGER if u == 0 else Role.ENGINEER,
            )
            for t in range(teams)
            for u in range(users_per_team)
        ],
        ignore_conflicts=True,
    )
