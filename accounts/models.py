import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models

from core.models import TimeStampedModel


def validate_timezone(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(
            "“%(value)s” is not a known IANA timezone, such as Europe/Berlin or America/New_York.",
            params={"value": value},
            code="invalid_timezone",
        )


class User(AbstractUser):
    """A person. Roles live on team memberships; "captain" is a duty, not a role."""

    timezone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text="Times are shown in this timezone. Empty means the server default.",
    )
    notification_email = models.EmailField(
        blank=True,
        help_text="Where notifications go. Empty means the account email.",
    )

    # {kind: [channel, ...]} for the kinds a person has changed; the rest use the defaults.
    notification_settings = models.JSONField(default=dict, blank=True)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def initials(self) -> str:
        parts = [self.first_name, self.last_name] if self.first_name else [self.username]
        return "".join(part[:1] for part in parts if part).upper()[:2]

    @property
    def email_for_notifications(self) -> str:
        return self.notification_email or self.email


class Team(TimeStampedModel):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone], help_text="IANA timezone."
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ENGINEER = "engineer", "Engineer"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


class Membership(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ENGINEER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="membership_unique_user_team"),
        ]
        ordering = ["team__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.get_role_display()})"

    @property
    def can_manage(self) -> bool:
        return self.role in (Role.MANAGER, Role.ADMIN)


class ApiScope(models.TextChoices):
    READ = "read", "Read: everything your teams can see"
    WRITE = "write", "Write: change trains, releases and change items"
    DEPLOYMENTS = "deployments", "Deployments: CI records deployments"
    CALENDAR = "calendar", "Calendar: read the iCalendar feed"


class ApiToken(TimeStampedModel):
    """A bearer token for the JSON API. Only a SHA-256 hash is stored; the prefix identifies it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="apitoken_unique_active_name",
                violation_error_message="You already have an active token with this name.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_active_at(self, moment) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > moment
