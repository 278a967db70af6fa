"""Forms for the rotation pages: the rotation itself, cover, swaps, handoff notes and time off.

They parse and check what a person typed; releases/services/rotations.py decides and writes.
Field names match the services' keyword arguments (and so their ValidationError keys), so
`core.forms.add_service_errors` puts a refusal next to the field it is about. Date-times are
typed in the viewer's timezone: Django's DateTimeField makes them aware in the current
timezone, which core.middleware.UserTimezoneMiddleware set to the viewer's.
"""

from collections.abc import Sequence
from datetime import time

from django import forms
from django.utils import timezone
from django.utils.dateformat import format as date_format

from accounts.models import User
from releases.forms import timezone_choices
from releases.models import (
    CaptainCover,
    Rotation,
    RotationTurn,
    SwapRequest,
    Train,
    TurnLength,
    Unavailability,
)
from releases.models.rotations import WEEKDAYS

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
MAX_NOTE = 5000


def _max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


def _moment_field(label: str, *, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        error_messages={
            "required": f"Give the {label.lower()} date and time.",
            "invalid": "Give a date and time, such as 2026-03-12 14:00.",
        },
    )


def _person_choices(people: Sequence[User]) -> list[tuple[int, str]]:
    return [(person.pk, person.display_name) for person in people]


def turn_label(turn: RotationTurn) -> str:
    """“Tue 3 Mar 14:00 – Tue 10 Mar 14:00 · Ana” in the viewer's timezone."""
    start = date_format(timezone.localtime(turn.starts_at), "D j M H:i")
    end = date_format(timezone.localtime(turn.ends_at), "D j M H:i")
    when = f"{turn.train.name}, departs {end}" if turn.train_id else f"{start} – {end}"
    who = turn.captain.display_name if turn.captain else "nobody"
    return f"{when} · {who}"


class PeriodForm(forms.Form):
    """From/to in the viewer's timezone; the end must come after the start."""

    def clean(self):
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", "The end must come after the start.")
        return data


# --- the rotation ----------------------------------------------------------------------------


class RotationForm(forms.Form):
    """A rotation's settings, its members in order and the trains it serves.

    Members are one row per team member: a checkbox (in the rotation or not) and a position
    number, so the order can be changed without JavaScript. Rows are ordered by position, ties
    kept in the order shown.
    """

    team = forms.ModelChoiceField(
        queryset=None, empty_label=None, help_text="Only teams you manage are listed."
    )
    name = forms.CharField(
        max_length=_max_length(Rotation, "name"),
        help_text="What people call it: “Web release captains”.",
    )
    timezone = forms.ChoiceField(
        choices=timezone_choices,
        help_text="Handoff times are wall-clock times in this timezone.",
        error_messages={
            "invalid_choice": "“%(value)s” is not a known IANA timezone, such as Europe/Berlin."
        },
    )
    turn_length = forms.ChoiceField(
        label="Each captain serves",
        choices=[
            (TurnLength.PER_DEPARTURE, "One departure per captain"),
            (TurnLength.WEEKS, "A number of weeks, handing off on a weekday"),
        ],
        initial=TurnLength.WEEKS,
        widget=forms.RadioSelect,
    )
    weeks = forms.IntegerField(
        label="Weeks per turn",
        min_value=1,
        max_value=12,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "min_value": "A turn lasts at least one week.",
            "max_value": "A turn lasts at most 12 weeks.",
        },
    )
    handoff_weekday = forms.TypedChoiceField(
        label="Handoff day", choices=WEEKDAYS, coerce=int, initial=0
    )
    handoff_time = forms.TimeField(
        label="Handoff time",
        initial=time(10, 0),
        widget=forms.TimeInput(attrs={"type": "time", "step": 60}, format="%H:%M"),
        help_text="In the rotation's timezone, on both sides of a DST change.",
    )
    starts_on = forms.DateField(
        label="Starts on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The first turn starts on or after this day.",
    )
    trains = forms.TypedMultipleChoiceField(
        label="Trains it serves",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Their departures get their captain from this rotation. A train has one "
        "rotation: ticking one served by another rotation moves it here.",
    )
    # Not an input of its own: clean() fills it from the member rows, and the service's
    # errors about members land here.
    members = forms.Field(required=False, label="Members", widget=forms.HiddenInput)

    def __init__(
        self,
        *args,
        people: Sequence[User],
        trains: Sequence[Train],
        teams=None,
        rotation: Rotation | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if teams is None:
            del self.fields["team"]  # editing: a rotation stays with its team
        else:
            self.fields["team"].queryset = teams
        self.fields["trains"].choices = [
            (train.pk, self._train_label(train, rotation)) for train in trains
        ]
        self.people = list(people)
        positions = self._initial_positions(rotation)
        for person in self.people:
            position = positions.get(person.pk)
            self.fields[f"member_{person.pk}"] = forms.BooleanField(
                label=f"{person.display_name} is in the rotation",
                required=False,
                initial=person.pk in self._member_ids,
            )
            self.fields[f"position_{person.pk}"] = forms.IntegerField(
                label=f"Position of {person.display_name}",
                required=False,
                min_value=1,
                max_value=999,
                initial=position,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "rot-position"}),
            )

    def _initial_positions(self, rotation: Rotation | None) -> dict[int, int]:
        """Members numbered in their order; everyone else after them, ready to be ticked."""
        if rotation is None:  # a new rotation: everyone, in the order shown
            order = [person.pk for person in self.people]
        else:  # members are prefetched in order by selectors_rotations.rotations_for_user
            order = [member.user_id for member in rotation.members.all()]
        self._member_ids = set(order)
        order += [person.pk for person in self.people if person.pk not in self._member_ids]
        return {pk: position for position, pk in enumerate(order, start=1)}

    @staticmethod
    def _train_label(train: Train, rotation: Rotation | None) -> str:
        if train.rotation_id and (rotation is None or train.rotation_id != rotation.pk):
            return f"{train.name} (now served by {train.rotation.name})"
        return train.name

    @classmethod
    def initial_for(cls, rotation: Rotation, train_ids: Sequence[int]) -> dict:
        return {
            "name": rotation.name,
            "timezone": rotation.timezone,
            "turn_length": rotation.turn_length,
            "weeks": rotation.weeks,
            "handoff_weekday": rotation.handoff_weekday,
            "handoff_time": rotation.handoff_time,
            "starts_on": rotation.starts_on,
            "trains": list(train_ids),
        }

    @property
    def member_rows(self) -> list[tuple[User, forms.BoundField, forms.BoundField]]:
        """(person, "in the rotation" checkbox, position), ticked people first, by position."""
        rows = [
            (person, self[f"member_{person.pk}"], self[f"position_{person.pk}"])
            for person in self.people
        ]

        def key(row):  # ticked first, by position; the others after, as listed
            _, checkbox, position = row
            try:
                number = int(position.value())
            except (TypeError, ValueError):
                number = 10_000
            return (not checkbox.value(), number if checkbox.value() else 0)

        return sorted(rows, key=key)

    def clean(self):
        data = super().clean()
        chosen = []
        for index, person in enumerate(self.people):
            if data.get(f"member_{person.pk}"):
                position = data.get(f"position_{person.pk}")
                chosen.append((position if position is not None else 10_000, index, person.pk))
        if not chosen:
            self.add_error("members", "Choose at least one member for the rotation.")
        data["members"] = [pk for _, _, pk in sorted(chosen)]
        return data

    def rotation_fields(self) -> dict:
        """The keyword arguments rotation_create / rotation_update take from the form."""
        data = self.cleaned_data
        return {
            "name": data["name"].strip(),
            "timezone": data["timezone"],
            "turn_length": data["turn_length"],
            "weeks": data["weeks"],
            "handoff_weekday": data["handoff_weekday"],
            "handoff_time": data["handoff_time"],
            "starts_on": data["starts_on"],
            "member_ids": data["members"],
            "train_ids": data["trains"],
        }


# --- on the rotation page --------------------------------------------------------------------


class CoverForm(PeriodForm):
    """A manager's override: this person captains for a period, or for one turn."""

    user = forms.TypedChoiceField(
        label="Who covers",
        coerce=int,
        error_messages={"required": "Choose who covers.", "invalid_choice": "Choose a member."},
    )
    turn = forms.TypedChoiceField(
        label="For one turn",
        coerce=int,
        required=False,
        empty_value=None,
        help_text="Or give a period below.",
        error_messages={"invalid_choice": "That turn is not coming up any more."},
    )
    starts_at = _moment_field("From", required=False)
    ends_at = _moment_field("Until", required=False)
    reason = forms.CharField(
        max_length=_max_length(CaptainCover, "reason"),
        required=False,
        help_text="Shown on the rotation page, e.g. “Ana is at the conference”.",
    )

    def __init__(self, *args, people: Sequence[User], turns: Sequence[RotationTurn], **kwargs):
        kwargs.setdefault("auto_id", "cover-%s")
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "Choose someone…"), *_person_choices(people)]
        self.turns = {turn.pk: turn for turn in turns}
        self.fields["turn"].choices = [
            ("", "A period (give from and until)"),
            *((turn.pk, turn_label(turn)) for turn in turns),
        ]
        tzname = timezone.get_current_timezone_name()
        self.fields["starts_at"].help_text = f"In your timezone, {tzname}."

    def clean(self):
        data = forms.Form.clean(self)
        turn_pk = data.get("turn")
        if turn_pk is not None and turn_pk in self.turns:
            turn = self.turns[turn_pk]
            data["starts_at"], data["ends_at"] = turn.starts_at, turn.ends_at
            return data
        if "turn" in self.errors:
            return data
        for name in ("starts_at", "ends_at"):
            if data.get(name) is None and name not in self.errors:
                self.add_error(name, "Give a date and time, or choose one turn.")
        return super().clean()


class SwapOfferForm(forms.Form):
    reason = forms.CharField(
        label="Why",
        max_length=_max_length(SwapRequest, "reason"),
        help_text="Whoever takes it reads this, e.g. “I am on a train that day”.",
        error_messages={"required": "Say why you offer the turn."},
    )

    def __init__(self, *args, turn: RotationTurn, **kwargs):
        kwargs.setdefault("auto_id", f"offer-{turn.pk}-%s")
        super().__init__(*args, **kwargs)
        self.turn = turn


class SwapArrangeForm(forms.Form):
    """A manager swaps a turn to someone else on their behalf."""

    turn = forms.TypedChoiceField(
        label="Turn",
        coerce=int,
        error_messages={
            "required": "Choose the turn to swap.",
            "invalid_choice": "That turn is not coming up any more.",
        },
    )
    taker = forms.TypedChoiceField(
        label="Takes it",
        coerce=int,
        error_messages={"required": "Choose who takes it.", "invalid_choice": "Choose a member."},
    )
    reason = forms.CharField(
        max_length=_max_length(SwapRequest, "reason"),
        error_messages={"required": "Say why the turn is swapped."},
    )

    def __init__(self, *args, people: Sequence[User], turns: Sequence[RotationTurn], **kwargs):
        kwargs.setdefault("auto_id", "arrange-%s")
        super().__init__(*args, **kwargs)
        self.turns = {turn.pk: turn for turn in turns}
        self.people = {person.pk: person for person in people}
        self.fields["turn"].choices = [
            ("", "Choose a turn…"),
            *((turn.pk, turn_label(turn)) for turn in turns),
        ]
        self.fields["taker"].choices = [("", "Choose someone…"), *_person_choices(people)]


class HandoffNoteForm(forms.Form):
    text = forms.CharField(
        label="Handoff note",
        max_length=MAX_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the next captain should know: open incidents, risky changes, "
        "anything half done. They see it on their dashboard. Empty it to remove the note.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "handoff-%s")
        super().__init__(*args, **kwargs)


# --- time off --------------------------------------------------------------------------------


class TimeOffForm(PeriodForm):
    user = forms.TypedChoiceField(
        label="Who is away",
        coerce=int,
        help_text="You, or a member of a team you manage.",
        error_messages={"invalid_choice": "Choose yourself or a member of a team you manage."},
    )
    starts_at = _moment_field("From")
    ends_at = _moment_field("Until")
    reason = forms.CharField(
        max_length=_max_length(Unavailability, "reason"),
        required=False,
        help_text="Shown where the rotation skips you, e.g. “holiday”.",
    )

    def __init__(self, *args, viewer: User, people: Sequence[User] = (), **kwargs):
        kwargs.setdefault("auto_id", "timeoff-%s")
        super().__init__(*args, **kwargs)
        others = [person for person in people if person.pk != viewer.pk]
        if others:
            self.fields["user"].choices = [
                (viewer.pk, f"{viewer.display_name} (you)"),
                *_person_choices(others),
            ]
            self.fields["user"].initial = viewer.pk
        else:
            del self.fields["user"]  # only for oneself
        self.viewer = viewer
        self.people = {person.pk: person for person in [viewer, *others]}
        tzname = timezone.get_current_timezone_name()
        self.fields["starts_at"].help_text = f"In your timezone, {tzname}."

    def person(self) -> User:
        if "user" not in self.fields:
            return self.viewer
        return self.people[self.cleaned_data["user"]]


def turn_length_in_words(rotation: Rotation) -> str:
    """“Every 2 weeks, Mondays 10:00 Europe/Berlin” or “One departure per captain”."""
    if rotation.turn_length == TurnLength.PER_DEPARTURE:
        return "One departure per captain"
    every = "Every week" if rotation.weeks == 1 else f"Every {rotation.weeks} weeks"
    day = dict(WEEKDAYS)[rotation.handoff_weekday]
    at = rotation.handoff_time
    if isinstance(at, str):  # a fresh instance keeps the field's string default
        at = time.fromisoformat(at)
    return f"{every}, {day}s {at:%H:%M} {rotation.timezone}"
