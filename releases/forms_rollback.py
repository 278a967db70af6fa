"""Forms for the rollback plan and critical-release panels.

They parse and check what a person typed; releases/services/rollback.py decides and writes.
Field names match the services' ValidationError keys, so `core.forms.add_service_errors` puts
a refusal next to the field it is about.
"""

from datetime import date, datetime

from django import forms
from django.utils import timezone

from releases.models import FailureMode, RehearsalRole, Release, RevertMethod
from releases.selectors_rollback import team_members
from releases.services.rollback import RollbackAnswersInput

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
MAX_REVERT_MINUTES = 24 * 60


class PanelForm(forms.Form):
    """Field ids of their own, so they never clash with other forms on the release page."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "rollback-%s")
        super().__init__(*args, **kwargs)


class RollbackPlanForm(PanelForm):
    detection = forms.CharField(
        label="How will we know it is wrong?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Signals, dashboards and alerts to watch. Put one per line; links become links.",
    )
    revert_method = forms.ChoiceField(
        label="How do we revert?",
        required=False,
        choices=[("", "Choose a method…"), *RevertMethod.choices],
    )
    revert_minutes = forms.IntegerField(
        label="Minutes to revert",
        required=False,
        min_value=0,
        max_value=MAX_REVERT_MINUTES,
        help_text="Roughly, from the decision to revert until users are on the old version.",
        error_messages={
            "invalid": "Give the minutes as a whole number, such as 15.",
            "min_value": "Minutes cannot be negative.",
            "max_value": "A revert longer than a day is not a plan.",
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    revert_notes = forms.CharField(
        label="Revert steps",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What to run, in order. Needed when the method is “Other”.",
    )
    data_impact = forms.CharField(
        label="What data might be affected?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Migrations, irreversible changes, external side effects. Say “none” if none.",
    )

    @classmethod
    def for_plan(cls, plan, **kwargs) -> "RollbackPlanForm":
        initial = {name: getattr(plan, name) for name in cls.base_fields}
        return cls(initial=initial, **kwargs)

    def answers(self) -> RollbackAnswersInput:
        data = self.cleaned_data
        return RollbackAnswersInput(
            detection=data["detection"],
            revert_method=data["revert_method"],
            revert_minutes=data["revert_minutes"],
            revert_notes=data["revert_notes"],
            data_impact=data["data_impact"],
        )


class RehearsedForm(PanelForm):
    rehearsed_on = forms.DateField(
        label="Rehearsed on",
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Say on which day the rollback was rehearsed.",
            "invalid": "Give the date as YYYY-MM-DD.",
        },
    )

    def __init__(self, *args, today: date | None = None, **kwargs) -> None:
        today = today or timezone.localdate()
        kwargs.setdefault("initial", {"rehearsed_on": today})
        super().__init__(*args, **kwargs)
        # The browser refuses the future too; the service has the last word.
        self.fields["rehearsed_on"].widget.attrs["max"] = today.isoformat()


class CriticalForm(PanelForm):
    """Mark (or keep, with a new reason) the release critical, or unmark it."""

    critical = forms.TypedChoiceField(
        choices=[("1", "Mark critical"), ("0", "No longer critical")],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
        error_messages={"required": "Say whether the release is critical."},
    )
    critical_reason = forms.CharField(
        label="What makes it critical?",
        max_length=Release._meta.get_field("critical_reason").max_length,
        help_text="A database migration, an infrastructure change, something hard to roll back.",
        error_messages={"required": "Say what makes it critical, e.g. a database migration."},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.data.get("critical") == "0":
            self.fields["critical_reason"].required = False  # unmarking needs no reason


class FailureModeForm(PanelForm):
    description = forms.CharField(
        label="What could go wrong?",
        max_length=FailureMode._meta.get_field("description").max_length,
        error_messages={"required": "Say what could go wrong."},
    )
    response = forms.CharField(
        label="What we do then",
        required=False,
        max_length=FailureMode._meta.get_field("response").max_length,
        help_text="Who does what, and when we give up and roll back.",
    )


class RehearsalRoleForm(PanelForm):
    role = forms.CharField(
        label="Role",
        max_length=RehearsalRole._meta.get_field("role").max_length,
        help_text="e.g. Runs the database restore. Assigning a role again replaces its person.",
        error_messages={"required": "Say what this person does if it goes wrong."},
    )
    person = forms.ModelChoiceField(
        label="Team member",
        queryset=None,
        empty_label="Choose someone…",
        error_messages={
            "required": "Choose a member of the train's team.",
            "invalid_choice": "Choose a member of the train's team.",
        },
    )

    def __init__(self, *args, team_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = team_members(team_id)
        self.fields["person"].label_from_instance = lambda user: user.display_name


class RehearsalScheduleForm(PanelForm):
    rehearsal_at = forms.DateTimeField(
        label="Date and time",
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        error_messages={"invalid": "Give a date and time, such as 2026-03-12 14:00."},
    )

    def __init__(self, *args, release: Release | None = None, **kwargs) -> None:
        if release is not None and release.rehearsal_at:
            kwargs.setdefault("initial", {"rehearsal_at": release.rehearsal_at})
        super().__init__(*args, **kwargs)
        tzname = timezone.get_current_timezone_name()
        self.fields["rehearsal_at"].help_text = (
            f"In your timezone, {tzname}. Before the release's target time. "
            "Leave it empty to unschedule."
        )

    @property
    def at(self) -> datetime | None:
        # DateTimeField made it aware in the viewer's (current) timezone already.
        return self.cleaned_data["rehearsal_at"]
