"""Forms for the train and release pages, and the timetable humanizer they share.

Forms parse and check input; the services in releases/services/ decide and write. The train
form turns a preset (weekly on a weekday, …) or a custom RRULE into the one RRULE the service
stores, and `timetable_in_words` turns such an RRULE back into a sentence.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django import forms
from django.utils import timezone

from accounts.models import Team, User
from releases.models import EmptyDeparturePolicy, ReleaseStatus, Train
from releases.models.trains import TRAIN_COLOURS
from releases.services.trains import TrainFields
from releases.timetable import (
    PRESETS,
    WEEKDAYS,
    Timetable,
    TimetableError,
    VersionScheme,
    preset_rrule,
)

CUSTOM = "custom"
NTH_CHOICES = (("1", "first"), ("2", "second"), ("3", "third"), ("4", "fourth"), ("-1", "last"))
_NTH_WORDS = {int(value): label for value, label in NTH_CHOICES}
_WEEKDAY_NAMES = dict(WEEKDAYS)
_BYDAY = re.compile(r"^([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)$")
# The fields that decide when a train departs; the live preview looks only at these.
TIMETABLE_FIELDS = ("schedule", "weekday", "time", "nth", "rrule", "starts_on", "timezone")
PREVIEW_COUNT = 5


# --- the timetable in words ----------------------------------------------------------------


@dataclass(frozen=True)
class RuleShape:
    """A preset-shaped RRULE taken apart: which preset, on which weekday(s), at what time."""

    preset: str
    weekdays: tuple[str, ...]
    hour: int
    minute: int
    nth: int = 1


def _rule_parts(rule: str) -> dict[str, str] | None:
    parts = {}
    for chunk in (rule or "").strip().upper().removeprefix("RRULE:").split(";"):
        if not chunk:
            continue
        key, sep, value = chunk.partition("=")
        if not sep or key in parts:
            return None
        parts[key] = value
    return parts


def rule_shape(rule: str) -> RuleShape | None:
    """The preset an RRULE was made from (or is equivalent to), or None for anything else."""
    parts = _rule_parts(rule)
    if not parts or set(parts) - {"FREQ", "INTERVAL", "BYDAY", "BYHOUR", "BYMINUTE", "BYSECOND"}:
        return None
    if parts.get("BYSECOND", "0") != "0":
        return None
    try:
        hour = int(parts.get("BYHOUR", "0"))
        minute = int(parts.get("BYMINUTE", "0"))
        interval = int(parts.get("INTERVAL", "1"))
    except ValueError:
        return None
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    days = [_BYDAY.match(day) for day in parts.get("BYDAY", "").split(",") if day]
    if not days or not all(days):
        return None
    freq = parts.get("FREQ")
    weekdays = tuple(match.group(2) for match in days)
    ordinals = [match.group(1) for match in days]
    if freq == "WEEKLY" and not any(ordinals):
        if weekdays == ("MO", "TU", "WE", "TH", "FR") and interval == 1:
            return RuleShape("weekdays", weekdays, hour, minute)
        if interval in (1, 2) and len(set(weekdays)) == len(weekdays):
            return RuleShape("weekly" if interval == 1 else "biweekly", weekdays, hour, minute)
    if freq == "MONTHLY" and interval == 1 and len(days) == 1 and ordinals[0]:
        nth = int(ordinals[0])
        if nth in _NTH_WORDS:
            return RuleShape("monthly", weekdays, hour, minute, nth)
    return None


def _and_join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def timetable_in_words(rule: str, tz: str) -> str:
    """“Weekly on Tuesday at 14:00 Europe/Berlin”; the RRULE itself for shapes we cannot say."""
    shape = rule_shape(rule)
    if shape is None:
        return f"{rule} ({tz})"
    at = f"at {shape.hour:02d}:{shape.minute:02d} {tz}"
    days = _and_join([_WEEKDAY_NAMES[day] for day in shape.weekdays])
    if shape.preset == "weekdays":
        return f"Daily on weekdays {at}"
    if shape.preset == "weekly":
        return f"Weekly on {days} {at}"
    if shape.preset == "biweekly":
        return f"Every two weeks on {days} {at}"
    return f"Monthly on the {_NTH_WORDS[shape.nth]} {days} {at}"


@functools.cache
def timezone_choices() -> tuple[tuple[str, str], ...]:
    return tuple((name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones()))


# --- trains ----------------------------------------------------------------------------------


@dataclass
class TimetablePreview:
    """The next departures of the timetable being edited, or why there are none."""

    timezone: str = ""
    slots: list[datetime] = field(default_factory=list)
    error: str = ""


class TrainForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        empty_label=None,
        help_text="Only teams you manage are listed.",
    )
    name = forms.CharField(max_length=100, help_text="What people call it: “Checkout”, “iOS app”.")
    slug = forms.SlugField(
        max_length=100,
        required=False,
        label="Short name for URLs",
        help_text="Letters, digits and hyphens. Leave empty to derive it from the name.",
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What rides this train and where it deploys to.",
    )
    colour = forms.ChoiceField(
        choices=TRAIN_COLOURS,
        initial="blue",
        widget=forms.RadioSelect,
        help_text="Marks the train on the calendar.",
    )
    schedule = forms.ChoiceField(
        label="Departs",
        choices=[(preset.key, preset.label) for preset in PRESETS] + [(CUSTOM, "Custom rule")],
        initial="weekly",
        widget=forms.RadioSelect,
    )
    weekday = forms.ChoiceField(choices=WEEKDAYS, initial="TU", required=False)
    time = forms.TimeField(
        label="Time of day",
        initial=time(14, 0),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time", "step": 60}, format="%H:%M"),
        help_text="Wall-clock time in the train's timezone, on both sides of a DST change.",
    )
    nth = forms.TypedChoiceField(
        label="Week of the month",
        choices=NTH_CHOICES,
        coerce=int,
        initial="1",
        required=False,
    )
    rrule = forms.CharField(
        label="RRULE",
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocapitalize": "characters"}),
        help_text="An RFC 5545 rule without DTSTART, e.g. FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=10.",
    )
    starts_on = forms.DateField(
        label="Starts on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The first day the timetable applies.",
    )
    timezone = forms.ChoiceField(
        choices=timezone_choices,
        error_messages={
            "invalid_choice": "“%(value)s” is not a known IANA timezone, such as Europe/Berlin."
        },
    )
    freeze_lead_hours = forms.IntegerField(
        label="Code freeze (hours before the cut)",
        min_value=0,
        max_value=24 * 14,
        initial=24,
    )
    release_lead_hours = forms.IntegerField(
        label="Target release (hours after the cut)",
        min_value=0,
        max_value=24 * 30,
        initial=48,
    )
    version_scheme = forms.ChoiceField(
        label="Version scheme", choices=VersionScheme.CHOICES, initial=VersionScheme.SEMVER_MINOR
    )
    initial_version = forms.CharField(
        label="First version",
        max_length=32,
        initial="1.0.0",
        required=False,
        help_text="The first release's version, for SemVer schemes.",
    )
    empty_departure = forms.ChoiceField(
        label="When nothing is ready",
        choices=EmptyDeparturePolicy.choices,
        initial=EmptyDeparturePolicy.DEPART_EMPTY,
        widget=forms.RadioSelect,
    )

    reminder_hours = forms.CharField(
        label="Remind the captain (hours before the cut)",
        initial="24, 1",
        required=False,
        max_length=40,
        help_text="Comma-separated, e.g. 24, 1. Empty for no departure reminders.",
    )

    def __init__(self, *args, teams=None, now: datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        if teams is None:
            del self.fields["team"]  # editing: a train stays with its team
        else:
            self.fields["team"].queryset = teams
        self.timetable: Timetable | None = None

    @classmethod
    def initial_for(cls, train: Train) -> dict:
        initial = {
            name: getattr(train, name)
            for name in (
                "name", "slug", "description", "colour", "starts_on", "timezone",
                "freeze_lead_hours", "release_lead_hours", "version_scheme", "initial_version",
                "empty_departure",
            )
        }  # fmt: skip
        initial["reminder_hours"] = ", ".join(str(hour) for hour in train.reminder_hours)
        shape = rule_shape(train.rrule)
        if shape is not None and (shape.preset == "weekdays" or len(shape.weekdays) == 1):
            initial.update(
                schedule=shape.preset,
                weekday=shape.weekdays[0] if shape.preset != "weekdays" else "MO",
                time=time(shape.hour, shape.minute),
                nth=str(shape.nth),
            )
        else:
            initial.update(schedule=CUSTOM, rrule=train.rrule)
        return initial

    def clean_reminder_hours(self) -> list[int]:
        text = self.cleaned_data["reminder_hours"]
        try:
            return [int(part) for part in re.split(r"[,\s]+", text.strip()) if part]
        except ValueError:
            raise forms.ValidationError("Whole hours separated by commas, e.g. 24, 1.") from None

    def clean_initial_version(self):
        version = self.cleaned_data["initial_version"].strip() or "1.0.0"
        if not re.fullmatch(r"\d+\.\d+\.\d+", version):
            raise forms.ValidationError("Use a SemVer version such as 1.0.0.")
        return version

    def clean(self):
        data = super().clean()
        if any(name in self.errors for name in TIMETABLE_FIELDS):
            return data
        try:
            rule = _rule_from(data)
        except TimetableInputError as exc:
            self.add_error(exc.field, str(exc))
            return data
        try:
            timetable = Timetable.parse(
                rule, starts_on=data["starts_on"], timezone=data["timezone"]
            )
        except TimetableError as exc:
            self.add_error("rrule" if data.get("schedule") == CUSTOM else "schedule", str(exc))
            return data
        if not timetable.next_after(self.now):
            self.add_error(
                "rrule" if data.get("schedule") == CUSTOM else "starts_on",
                "This timetable has no future departure. Check its end (UNTIL/COUNT).",
            )
            return data
        self.timetable = timetable
        data["rule"] = timetable.rule
        return data

    def train_fields(self) -> TrainFields:
        data = self.cleaned_data
        return TrainFields(
            name=data["name"].strip(),
            slug=data["slug"],
            description=data["description"].strip(),
            colour=data["colour"],
            rrule=data["rule"],
            starts_on=data["starts_on"],
            timezone=data["timezone"],
            freeze_lead_hours=data["freeze_lead_hours"],
            release_lead_hours=data["release_lead_hours"],
            version_scheme=data["version_scheme"],
            initial_version=data["initial_version"],
            empty_departure=data["empty_departure"],
            reminder_hours=data["reminder_hours"],
        )

    def preview(self, count: int = PREVIEW_COUNT) -> TimetablePreview:
        """The next departures for the timetable fields as entered, or the reason there are none."""
        if self.is_bound:
            self.is_valid()
            tz = self.data.get("timezone", "")
            for name in TIMETABLE_FIELDS:
                if self.errors.get(name):
                    return TimetablePreview(timezone=tz, error=self.errors[name][0])
            if self.timetable is None:
                return TimetablePreview(timezone=tz, error="Fill in the timetable to see it.")
            timetable = self.timetable
        else:
            values = {name: self[name].value() for name in TIMETABLE_FIELDS}
            try:
                values["starts_on"] = _as_date(values["starts_on"])
                timetable = Timetable.parse(
                    _rule_from(values), starts_on=values["starts_on"], timezone=values["timezone"]
                )
            except (TimetableError, TypeError, ValueError) as exc:
                return TimetablePreview(timezone=values.get("timezone") or "", error=str(exc))
        slots = timetable.next_after(self.now, count)
        if not slots:
            return TimetablePreview(
                timezone=timetable.timezone, error="This timetable has no future departure."
            )
        return TimetablePreview(timezone=timetable.timezone, slots=slots)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class TimetableInputError(TimetableError):
    """A timetable input is missing or malformed; `field` says which one."""

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.field = field


def _rule_from(values: dict) -> str:
    """The RRULE for a preset and its weekday/time/nth, or the custom rule as typed."""
    schedule = values.get("schedule")
    if schedule == CUSTOM:
        rule = (values.get("rrule") or "").strip()
        if not rule:
            raise TimetableInputError(
                "Enter a timetable rule, such as FREQ=WEEKLY;BYDAY=TU;BYHOUR=14.", field="rrule"
            )
        return rule
    at = values.get("time")
    if isinstance(at, str):
        try:
            at = time.fromisoformat(at)
        except ValueError as exc:
            raise TimetableInputError(
                "Enter the time of day as HH:MM, such as 14:00.", field="time"
            ) from exc
    if at is None:
        raise TimetableInputError("Choose the time of day the train departs.", field="time")
    try:
        return preset_rrule(
            schedule or "",
            weekday=values.get("weekday") or "MO",
            hour=at.hour,
            minute=at.minute,
            nth=int(values.get("nth") or 1),
        )
    except TimetableError as exc:
        raise TimetableInputError(str(exc), field="schedule") from exc


class DeparturePostponeForm(forms.Form):
    hours = forms.IntegerField(
        label="Postpone by (hours)",
        min_value=1,
        max_value=24 * 31,
        initial=2,
        help_text="The departure leaves this much later; later departures keep their times.",
    )
    reason = forms.CharField(
        max_length=200,
        required=False,
        help_text="Shown on the train page and the calendar, e.g. “Waiting for the DB migration”.",
    )


class DepartureSkipForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False)


class CutNowForm(forms.Form):
    note = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why this train leaves outside its timetable; shown on the release timeline.",
    )


class ChangeItemForm(forms.Form):
    title = forms.CharField(max_length=200, help_text="What the change does, in a few words.")
    link = forms.URLField(
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text="The pull request or ticket.",
    )
    is_ready = forms.BooleanField(label="Ready to depart", required=False)


class BlackoutForm(forms.Form):
    team = forms.ChoiceField(label="Applies to", help_text="Trains of this team do not depart.")
    starts_on = forms.DateField(
        label="First day", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ends_on = forms.DateField(
        label="Last day",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Inclusive: nothing departs on this day either.",
    )
    reason = forms.CharField(
        max_length=200, help_text="Shown wherever a departure is held back: “Year-end freeze”."
    )

    EVERYONE = "everyone"

    def __init__(self, *args, teams, allow_everyone: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.teams = {str(team.pk): team for team in teams}
        choices = [(pk, team.name) for pk, team in self.teams.items()]
        if allow_everyone:
            choices.append((self.EVERYONE, "Everyone (organisation-wide)"))
        self.fields["team"].choices = choices

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "A blackout cannot end before it starts.")
        return data

    def selected_team(self) -> Team | None:
        value = self.cleaned_data["team"]
        return None if value == self.EVERYONE else self.teams[value]


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=ReleaseStatus.choices)
    note = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    # A manager's "Override and approve": the move goes ahead with required work still open,
    # and the reason is recorded with what was open (services.lifecycle.release_transition).
    override = forms.BooleanField(required=False)
    override_reason = forms.CharField(
        label="Why move on with these open?",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        data = super().clean()
        if data.get("override") and not data.get("override_reason", "").strip():
            self.add_error(
                "override_reason", "Write down why the release moves on with items still open."
            )
        return data


class CaptainForm(forms.Form):
    captain = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="No captain",
        help_text="Any member of the team can captain a release.",
    )

    def __init__(self, *args, team_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["captain"]
        field.queryset = User.objects.filter(memberships__team_id=team_id).order_by(
            "first_name", "last_name", "username"
        )
        field.label_from_instance = lambda user: user.display_name
