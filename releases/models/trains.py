from django.conf import settings
from django.db import models
from django.urls import reverse

from accounts.models import Team, validate_timezone
from core.models import TimeStampedModel
from releases.timetable import Timetable, VersionScheme


class EmptyDeparturePolicy(models.TextChoices):
    DEPART_EMPTY = "depart_empty", "Depart empty and record it"
    SKIP = "skip", "Skip the departure and record it"


TRAIN_COLOURS = [
    ("blue", "Blue"), ("teal", "Teal"), ("violet", "Violet"), ("orange", "Orange"),
    ("pink", "Pink"), ("green", "Green"), ("slate", "Slate"),
]  # fmt: skip


def default_reminder_hours() -> list[int]:
    return [24, 1]


class Train(TimeStampedModel):
    """A release train: departs on its timetable whatever is ready."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="trains")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    colour = models.CharField(max_length=16, choices=TRAIN_COLOURS, default="blue")
    rrule = models.CharField(
        "timetable (RRULE)",
        max_length=500,
        help_text="RFC 5545 recurrence rule, e.g. FREQ=WEEKLY;BYDAY=TU;BYHOUR=14;BYMINUTE=0",
    )
    starts_on = models.DateField(help_text="First day the timetable applies.")
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    freeze_lead_hours = models.PositiveIntegerField(
        default=24, help_text="Code freeze starts this many hours before the cut."
    )
    release_lead_hours = models.PositiveIntegerField(
        default=48, help_text="Hours from the cut to the target release time."
    )
    version_scheme = models.CharField(
        max_length=16, choices=VersionScheme.CHOICES, default=VersionScheme.SEMVER_MINOR
    )
    initial_version = models.CharField(
        max_length=32, default="1.0.0", help_text="The first release's version (SemVer)."
    )
    empty_departure = models.CharField(
        max_length=16,
        choices=EmptyDeparturePolicy.choices,
        default=EmptyDeparturePolicy.DEPART_EMPTY,
    )
    is_paused = models.BooleanField(default=False)
    checklist_template = models.ForeignKey(
        "releases.ChecklistTemplate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="trains",
        help_text="Each release gets a copy of it at cut.",
    )
    rotation = models.ForeignKey(
        "releases.Rotation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="trains",
        help_text="Who captains its departures.",
    )
    reminder_hours = models.JSONField(
        default=default_reminder_hours,
        blank=True,
        help_text="Remind the captain this many hours before each cut.",
    )
    requires_rollback_plan = models.BooleanField(
        default=False,
        help_text="A release cannot be approved before its rollback plan is complete.",
    )
    # Slots at or before this instant have been dealt with (cut, skipped or recorded as missed).
    handled_through = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["team__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "slug"], name="train_unique_team_slug"),
            models.UniqueConstraint(fields=["team", "name"], name="train_unique_team_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("releases:train_detail", args=[self.team.slug, self.slug])

    @property
    def timetable(self) -> Timetable:
        return Timetable(rule=self.rrule, starts_on=self.starts_on, timezone=self.timezone)


class ExceptionKind(models.TextChoices):
    SKIP = "skip", "Skip"
    POSTPONE = "postpone", "Postpone"


class DepartureException(TimeStampedModel):
    """Skip or postpone one departure. The cadence never shifts: later slots stay as they were."""

    train = models.ForeignKey(Train, on_delete=models.CASCADE, related_name="exceptions")
    slot = models.DateTimeField(help_text="The departure as the timetable has it (UTC).")
    kind = models.CharField(max_length=16, choices=ExceptionKind.choices)
    postpone_hours = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["slot"]
        constraints = [
            models.UniqueConstraint(fields=["train", "slot"], name="exception_unique_train_slot"),
            models.CheckConstraint(
                condition=models.Q(kind="skip", postpone_hours__isnull=True)
                | models.Q(kind="postpone", postpone_hours__gte=1),
                name="exception_postpone_needs_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.train} {self.slot:%Y-%m-%d %H:%M}"


class BlackoutPeriod(TimeStampedModel):
    """Days on which nothing departs: for one team, or for everyone when team is empty."""

    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="blackouts"
    )
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="Inclusive.")
    reason = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="blackout_ends_after_start",
                violation_error_message="A blackout cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        scope = self.team.name if self.team_id else "Everyone"
        return f"{scope}: {self.starts_on} – {self.ends_on} ({self.reason})"

    def covers(self, day) -> bool:
        return self.starts_on <= day <= self.ends_on


class DepartureOutcome(models.TextChoices):
    CUT = "cut", "Cut"
    SKIPPED = "skipped", "Skipped"
    SKIPPED_EMPTY = "skipped_empty", "Skipped: nothing was ready"
    BLACKOUT = "blackout", "Did not depart: blackout"
    MISSED = "missed", "Missed during downtime"


class DepartureLog(models.Model):
    """What happened to each timetable slot; unique (train, slot) makes every cut happen once."""

    train = models.ForeignKey(Train, on_delete=models.CASCADE, related_name="departure_logs")
    slot = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=DepartureOutcome.choices)
    release = models.OneToOneField(
        "releases.Release", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-slot"]
        constraints = [
            models.UniqueConstraint(
                fields=["train", "slot"], name="departurelog_unique_train_slot"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.train} {self.slot:%Y-%m-%d %H:%M}: {self.get_outcome_display()}"
