"""Captain rotations: who runs which departure, with cover, swaps and time off.

Turns are materialised as `RotationTurn` rows for the planning horizon. A turn that has started is
history and is never rewritten; editing a rotation replans only the turns still to come.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team, validate_timezone
from core.models import TimeStampedModel


class TurnLength(models.TextChoices):
    PER_DEPARTURE = "per_departure", "One departure per captain"
    WEEKS = "weeks", "Every N weeks"


WEEKDAYS = [
    (0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"),
    (4, "Friday"), (5, "Saturday"), (6, "Sunday"),
]  # fmt: skip


class Rotation(TimeStampedModel):
    """The captain duty of a team, serving the trains that point at it."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="rotations")
    name = models.CharField(max_length=100)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    turn_length = models.CharField(
        max_length=16, choices=TurnLength.choices, default=TurnLength.WEEKS
    )
    weeks = models.PositiveSmallIntegerField(
        default=1, help_text="Weeks per turn, when turns last a number of weeks."
    )
    handoff_weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS, default=0)
    handoff_time = models.TimeField(default="10:00", help_text="In the rotation's timezone.")
    starts_on = models.DateField(help_text="The first turn starts on or after this day.")
    # Turns before this instant are history: replanning after an edit starts here.
    planned_from = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["team__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="rotation_unique_team_name"),
            models.CheckConstraint(
                condition=Q(weeks__gte=1) & Q(weeks__lte=12), name="rotation_weeks_1_to_12"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("releases:rotation_detail", args=[self.pk])


class RotationMember(models.Model):
    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rotation_memberships"
    )
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["rotation", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["rotation", "user"], name="rotation_member_unique_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rotation} #{self.position}: {self.user}"


class TurnSource(models.TextChoices):
    ROTATION = "rotation", "Rotation"
    SKIP = "skip", "Next eligible (the member was unavailable)"
    COVER = "cover", "Cover"
    SWAP = "swap", "Swap"
    NOBODY = "nobody", "Nobody eligible"


class RotationTurn(models.Model):
    """One turn of duty. `member` is the rotation's pick; `captain` is who actually holds it."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="turns")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Per-departure turns: the departure they serve.
    train = models.ForeignKey(
        "releases.Train", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    slot = models.DateTimeField(null=True, blank=True)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    captain = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="captain_turns",
    )
    source = models.CharField(
        max_length=16, choices=TurnSource.choices, default=TurnSource.ROTATION
    )
    # Why the captain is not the rotation's pick: "Ana is out of office (holiday)", "Swap: …".
    reason = models.CharField(max_length=300, blank=True)
    handoff_note = models.TextField(blank=True)
    handoff_note_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handoff_note_at = models.DateTimeField(null=True, blank=True)
    # Set by planning and by the handoff note, so calendar apps notice a changed duty.
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rotation", "starts_at"]
        constraints = [
            # Week-based turns are keyed by their start, per-departure turns by their departure.
            models.UniqueConstraint(
                fields=["rotation", "starts_at"],
                condition=Q(slot__isnull=True),
                name="rotation_turn_unique_start",
            ),
            models.UniqueConstraint(
                fields=["rotation", "train", "slot"],
                condition=Q(slot__isnull=False),
                name="rotation_turn_unique_departure",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="rotation_turn_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["captain", "starts_at"], name="turn_captain_start")]

    def __str__(self) -> str:
        return f"{self.rotation} from {self.starts_at:%Y-%m-%d %H:%M}"


class CaptainCover(TimeStampedModel):
    """A manager's override: this person is captain for the period (or one turn)."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="covers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="captain_covers"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="cover_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} covers {self.rotation} from {self.starts_at:%Y-%m-%d}"


class Unavailability(TimeStampedModel):
    """Out of office: the rotation skips the person for turns that overlap it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="unavailabilities"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = "unavailabilities"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="unavailability_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} away from {self.starts_at:%Y-%m-%d}"


class SwapState(models.TextChoices):
    OPEN = "open", "Open"
    TAKEN = "taken", "Taken"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


class SwapRequest(TimeStampedModel):
    """A captain offers a turn; another member takes it (or a manager arranges it)."""

    turn = models.ForeignKey(RotationTurn, on_delete=models.CASCADE, related_name="swap_requests")
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="swaps_offered"
    )
    reason = models.CharField(max_length=500)
    state = models.CharField(max_length=16, choices=SwapState.choices, default=SwapState.OPEN)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="swaps_taken",
    )
    arranged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["turn"], condition=Q(state="open"), name="swap_one_open_per_turn"
            ),
        ]

    def __str__(self) -> str:
        return f"Swap of {self.turn} offered by {self.offered_by}"
