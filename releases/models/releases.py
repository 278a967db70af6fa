from django.conf import settings
from django.db import models
from django.urls import reverse

from core.models import TimeStampedModel


class ReleaseKind(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    ADHOC = "adhoc", "Ad hoc"
    HOTFIX = "hotfix", "Hotfix"


class ReleaseStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    CUT = "cut", "Cut"
    STABILIZING = "stabilizing", "Stabilizing"
    APPROVED = "approved", "Approved"
    DEPLOYING = "deploying", "Deploying"
    RELEASED = "released", "Released"
    ROLLED_BACK = "rolled_back", "Rolled back"
    CANCELLED = "cancelled", "Cancelled"


S = ReleaseStatus
# The lifecycle. Anything not listed is illegal and is refused with nothing written.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.PLANNED: (S.CUT, S.CANCELLED),
    S.CUT: (S.STABILIZING, S.CANCELLED),
    S.STABILIZING: (S.APPROVED, S.CANCELLED),
    S.APPROVED: (S.DEPLOYING, S.CANCELLED),
    S.DEPLOYING: (S.RELEASED, S.CANCELLED),
    S.RELEASED: (S.ROLLED_BACK,),
    S.ROLLED_BACK: (),
    S.CANCELLED: (),
}
IN_FLIGHT = (S.CUT, S.STABILIZING, S.APPROVED, S.DEPLOYING)
# Moving into these needs the release captain or a team manager; the rest any team member.
NEEDS_CAPTAIN_OR_MANAGER = (S.APPROVED, S.DEPLOYING, S.RELEASED, S.CANCELLED)


class Release(TimeStampedModel):
    train = models.ForeignKey("releases.Train", on_delete=models.PROTECT, related_name="releases")
    kind = models.CharField(max_length=16, choices=ReleaseKind.choices)
    version = models.CharField(max_length=32)
    # The timetable slot a scheduled release departed for; empty for ad-hoc and hotfix releases.
    slot = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ReleaseStatus.choices, default=S.PLANNED)
    captain = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="captained_releases",
    )
    cut_at = models.DateTimeField(null=True, blank=True)
    target_at = models.DateTimeField(null=True, blank=True, help_text="Target release time.")
    released_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was rolled back or cancelled."
    )
    is_critical = models.BooleanField(
        default=False,
        help_text="Database migrations, infrastructure changes, or hard to roll back.",
    )
    critical_reason = models.CharField(max_length=300, blank=True)
    rehearsal_at = models.DateTimeField(null=True, blank=True, help_text="When it is rehearsed.")
    # Bumped by every tick, so open pages can ask "anything new?" for the price of one row.
    checklist_revision = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-cut_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["train", "slot"],
                condition=models.Q(slot__isnull=False),
                name="release_unique_train_slot",
            ),
            models.UniqueConstraint(fields=["train", "version"], name="release_unique_version"),
        ]
        indexes = [models.Index(fields=["train", "status"]), models.Index(fields=["target_at"])]

    def __str__(self) -> str:
        return f"{self.train.name} {self.version}"

    def get_absolute_url(self) -> str:
        return reverse("releases:release_detail", args=[self.pk])

    @property
    def is_in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    def allowed_next(self) -> tuple[str, ...]:
        return TRANSITIONS[self.status]


class ReleaseEvent(models.Model):
    """The release timeline and its audit: every cut, transition, change and deployment."""

    class Kind(models.TextChoices):
        CUT = "cut", "Cut"
        TRANSITION = "transition", "Status changed"
        CHANGE_ADDED = "change_added", "Change added"
        CAPTAIN = "captain", "Captain assigned"
        DEPLOYMENT = "deployment", "Deployment recorded"
        NOTE = "note", "Note"
        CHECKLIST = "checklist", "Checklist"
        GATE_OVERRIDE = "gate_override", "Gate overridden"
        ROLLBACK_PLAN = "rollback_plan", "Rollback plan"
        CRITICAL = "critical", "Critical release"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=16, choices=ReleaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=ReleaseStatus.choices, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.release}: {self.get_kind_display()}"


class ChangeItem(TimeStampedModel):
    """A change that wants to ride a train. Waiting items have no release yet."""

    train = models.ForeignKey("releases.Train", on_delete=models.CASCADE, related_name="changes")
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    title = models.CharField(max_length=200)
    link = models.URLField(blank=True, max_length=500)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=100, blank=True, help_text="For changes from CI.")
    is_ready = models.BooleanField(default=False)
    # CI can send the same change twice (a retried pipeline); its id makes that harmless.
    external_id = models.CharField(max_length=100, blank=True)
    carried_over = models.PositiveIntegerField(
        default=0, help_text="How many departures left without it."
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["train", "external_id"],
                condition=~models.Q(external_id=""),
                name="changeitem_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def author_display(self) -> str:
        return self.author.display_name if self.author_id else (self.author_name or "—")


class DeploymentStatus(models.TextChoices):
    STARTED = "started", "Started"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Deployment(TimeStampedModel):
    """What CI reports: this release went to this environment. Feeds the delivery metrics."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="deployments")
    environment = models.CharField(max_length=50)
    status = models.CharField(max_length=16, choices=DeploymentStatus.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    external_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "environment", "external_id"],
                condition=~models.Q(external_id=""),
                name="deployment_unique_external_id",
            ),
        ]
        indexes = [models.Index(fields=["environment", "status", "started_at"])]

    def __str__(self) -> str:
        return f"{self.release} → {self.environment} ({self.status})"
