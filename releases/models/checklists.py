"""Checklists, rollback plans and rehearsals: what the captain works from on departure day."""

from django.conf import settings
from django.db import models

from accounts.models import Team
from core.models import TimeStampedModel


class Stage(models.TextChoices):
    """Checklist stages in the order a release meets them."""

    BEFORE_CUT = "before_cut", "Before cut"
    BEFORE_APPROVAL = "before_approval", "Before approval"
    DURING_DEPLOY = "during_deploy", "During deploy"
    AFTER_RELEASE = "after_release", "After release / monitoring"


STAGE_ORDER = {stage: index for index, stage in enumerate(Stage.values)}


class TickableBy(models.TextChoices):
    CAPTAIN = "captain", "Captain only"
    MEMBER = "member", "Any team member"


class TemplateKind(models.TextChoices):
    STANDARD = "standard", "Release"
    HOTFIX = "hotfix", "Hotfix"
    REHEARSAL = "rehearsal", "Rehearsal (critical releases)"


class ChecklistTemplate(TimeStampedModel):
    """A team's reusable checklist; trains point at one, releases get a snapshot of it at cut."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="checklist_templates")
    name = models.CharField(max_length=100)
    kind = models.CharField(
        max_length=16, choices=TemplateKind.choices, default=TemplateKind.STANDARD
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["team__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="checklisttemplate_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ChecklistTemplateItem(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items")
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.BEFORE_APPROVAL)
    position = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=200)
    help_text = models.CharField(max_length=500, blank=True)
    is_required = models.BooleanField("required", default=True)
    tickable_by = models.CharField(
        max_length=16, choices=TickableBy.choices, default=TickableBy.MEMBER
    )

    class Meta:
        ordering = ["template_id", "position", "id"]

    def __str__(self) -> str:
        return self.text


class ChecklistItem(models.Model):
    """One item of a release's own checklist: a snapshot, never rewritten by template edits.

    A tick is a conditional UPDATE of this row alone (see services.checklists), so two people
    ticking different items never touch the same row, and a tick on an item someone else just
    ticked is detected instead of overwritten.
    """

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="checklist_items"
    )
    stage = models.CharField(max_length=16, choices=Stage.choices)
    position = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=200)
    help_text = models.CharField(max_length=500, blank=True)
    is_required = models.BooleanField("required", default=True)
    tickable_by = models.CharField(max_length=16, choices=TickableBy.choices)
    # Items from the rehearsal checklist that a critical release gets on top of its own.
    is_rehearsal = models.BooleanField(default=False)
    ticked_at = models.DateTimeField(null=True, blank=True)
    ticked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["release_id", "position", "id"]
        indexes = [models.Index(fields=["release", "stage"])]

    def __str__(self) -> str:
        return self.text

    @property
    def is_ticked(self) -> bool:
        return self.ticked_at is not None


class RevertMethod(models.TextChoices):
    REDEPLOY_PREVIOUS = "redeploy_previous", "Redeploy the previous version"
    FLAG_OFF = "flag_off", "Switch a feature flag off"
    REVERT_COMMIT = "revert_commit", "Revert the commit and release again"
    OTHER = "other", "Other (describe it)"


class RollbackAnswers(models.Model):
    """The three questions every release answers before it goes out."""

    detection = models.TextField(
        "how will we know it is wrong",
        blank=True,
        help_text="Signals, dashboards and alerts to watch. Put one link per line.",
    )
    revert_method = models.CharField(
        "how do we revert", max_length=32, choices=RevertMethod.choices, blank=True
    )
    revert_minutes = models.PositiveIntegerField(
        "minutes to revert", null=True, blank=True, help_text="How long a revert takes, roughly."
    )
    revert_notes = models.TextField("revert steps", blank=True)
    data_impact = models.TextField(
        "what data might be affected",
        blank=True,
        help_text="Migrations, irreversible changes, external side effects. Say “none” if none.",
    )

    class Meta:
        abstract = True

    @property
    def missing_answers(self) -> list[str]:
        missing = []
        if not self.detection.strip():
            missing.append("how we will know it is wrong")
        if not self.revert_method or self.revert_minutes is None:
            missing.append("how quickly we can revert")
        if self.revert_method == RevertMethod.OTHER and not self.revert_notes.strip():
            missing.append("the revert steps")
        if not self.data_impact.strip():
            missing.append("what data might be affected")
        return missing

    @property
    def is_complete(self) -> bool:
        return not self.missing_answers

    @property
    def detection_links(self) -> list[str]:
        return [
            word
            for line in self.detection.splitlines()
            for word in line.split()
            if word.startswith(("https://", "http://"))
        ]


class TrainRollbackDefaults(RollbackAnswers, TimeStampedModel):
    """A train's default rollback plan, copied into each release it cuts."""

    train = models.OneToOneField(
        "releases.Train", on_delete=models.CASCADE, related_name="rollback_defaults"
    )

    class Meta:
        verbose_name_plural = "train rollback defaults"

    def __str__(self) -> str:
        return f"Rollback defaults for {self.train}"


class RollbackPlan(RollbackAnswers, TimeStampedModel):
    release = models.OneToOneField(
        "releases.Release", on_delete=models.CASCADE, related_name="rollback_plan"
    )
    rehearsed_on = models.DateField("rollback rehearsed on", null=True, blank=True)
    rehearsed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Rollback plan for {self.release}"


class FailureMode(models.Model):
    """What could go wrong with a critical release, and what the team will do then."""

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="failure_modes"
    )
    description = models.CharField("what could go wrong", max_length=300)
    response = models.CharField("what we do then", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["release_id", "id"]

    def __str__(self) -> str:
        return self.description


class RehearsalRole(models.Model):
    """Who does what if a critical release goes wrong."""

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="rehearsal_roles"
    )
    role = models.CharField(max_length=100, help_text="e.g. Runs the database restore")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["release_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["release", "role"], name="rehearsalrole_unique_role")
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.person}"


class GateOverride(models.Model):
    """A manager moved a release on with required work undone, and wrote down why."""

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="gate_overrides"
    )
    to_status = models.CharField(max_length=16)
    reason = models.TextField()
    open_items = models.JSONField(default=list, help_text="What was still open, by name.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["release_id", "created_at"]

    def __str__(self) -> str:
        return f"Override to {self.to_status} on {self.release_id}"
