"""Forms for the notification pages. They parse and check input; releases/services/inbox.py and
releases/services/webhooks.py decide and write."""

from dataclasses import dataclass

from django import forms
from django.db.models import QuerySet

from accounts.models import Team
from releases.models import (
    PERSONAL_CHANNELS,
    Channel,
    DeliveryStatus,
    NotificationKind,
    TeamWebhook,
    WebhookFormat,
)
from releases.selectors_notifications import channels_for

# What each kind is about, under its name in the settings grid and the webhook form.
KIND_HELP = {
    NotificationKind.DEPARTURE_COMING: "Ahead of a departure of your team’s trains.",
    NotificationKind.FREEZE_STARTS: "When the code freeze before a departure begins.",
    NotificationKind.CAPTAIN_HANDOFF: "When a captain’s turn passes to the next person.",
    NotificationKind.CHECKLIST_OPEN: "Required checklist items are still open near a deadline.",
    NotificationKind.SWAP_OPENED: "Someone asks to swap a captain’s turn.",
    NotificationKind.SWAP_TAKEN: "Someone takes a swap request.",
    NotificationKind.NO_ELIGIBLE_CAPTAIN: "A departure has nobody who can be its captain.",
}


# --- personal settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    channel: str
    label: str
    input_id: str
    checked: bool


@dataclass(frozen=True)
class GridRow:
    kind: str
    label: str
    help: str
    cells: list[Cell]
    errors: list[str]


class NotificationSettingsForm(forms.Form):
    """One row per kind, one checkbox per personal channel: the field name is the kind and
    each ticked box sends its channel. An unticked row sends nothing: no channel for that kind."""

    def __init__(self, *args, user=None, **kwargs):
        if user is not None and "initial" not in kwargs:
            kwargs["initial"] = {kind: channels_for(user, kind) for kind in NotificationKind}
        super().__init__(*args, **kwargs)
        names = ", ".join(str(channel.label) for channel in PERSONAL_CHANNELS)
        for kind in NotificationKind:
            self.fields[kind.value] = forms.MultipleChoiceField(
                label=kind.label,
                required=False,
                choices=[(channel.value, channel.label) for channel in PERSONAL_CHANNELS],
                widget=forms.CheckboxSelectMultiple,
                error_messages={
                    "invalid_choice": f"“%(value)s” is not a channel you can choose; "
                    f"choose from: {names}."
                },
            )

    def clean(self):
        cleaned = super().clean()
        if self.is_bound:
            known = set(self.fields) | {"csrfmiddlewaretoken"}
            for key in sorted(set(self.data) - known):
                self.add_error(None, f"There is no notification kind “{key}”.")
        return cleaned

    def chosen(self) -> dict[str, list[str]]:
        return {kind: self.cleaned_data[kind] for kind in NotificationKind.values}

    def rows(self) -> list[GridRow]:
        rows = []
        for kind in NotificationKind:
            field = self[kind.value]
            ticked = {str(value) for value in (field.value() or [])}
            cells = [
                Cell(
                    channel=channel.value,
                    label=str(channel.label),
                    input_id=f"ns-{kind.value}-{channel.value}",
                    checked=channel.value in ticked,
                )
                for channel in PERSONAL_CHANNELS
            ]
            rows.append(
                GridRow(
                    kind=kind.value,
                    label=str(kind.label),
                    help=KIND_HELP.get(kind, ""),
                    cells=cells,
                    errors=list(field.errors),
                )
            )
        return rows


# --- team webhooks -------------------------------------------------------------------------------


class WebhookForm(forms.Form):
    """Add or change a webhook; on "New webhook" also the team it belongs to."""

    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), empty_label=None, help_text="Only teams you manage."
    )
    name = forms.CharField(
        max_length=100, help_text="Unique within the team, e.g. “#releases on Slack”."
    )
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="Where each notification is POSTed. Must start with https:// (or http://).",
    )
    payload_format = forms.ChoiceField(
        label="Payload format",
        choices=WebhookFormat.choices,
        initial=WebhookFormat.SLACK,
        widget=forms.RadioSelect,
        help_text="Slack-compatible suits Slack, Mattermost and Rocket.Chat incoming webhooks. "
        "JSON carries every field and a signature your service can check.",
    )
    kinds = forms.MultipleChoiceField(
        label="Kinds",
        required=False,
        choices=NotificationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick none to receive every kind, including kinds added later.",
    )
    is_active = forms.BooleanField(
        label="Active: send notifications to this URL", required=False, initial=True
    )

    def __init__(self, *args, teams: QuerySet[Team] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if teams is None:
            del self.fields["team"]  # editing: a webhook stays with its team
        else:
            self.fields["team"].queryset = teams

    @classmethod
    def initial_for(cls, webhook: TeamWebhook) -> dict:
        return {
            "name": webhook.name,
            "url": webhook.url,
            "payload_format": webhook.payload_format,
            "kinds": list(webhook.kinds),
            "is_active": webhook.is_active,
        }

    def kind_options(self) -> list[tuple]:
        """Each kind's checkbox with a line about what it is."""
        return [(choice, KIND_HELP.get(choice.data["value"], "")) for choice in self["kinds"]]

    def webhook_fields(self) -> dict:
        """What webhook_create / webhook_update take, besides the actor and the team."""
        names = ("name", "url", "payload_format", "kinds", "is_active")
        return {name: self.cleaned_data[name] for name in names}


# --- the delivery log ----------------------------------------------------------------------------


class DeliveryFilterForm(forms.Form):
    team = forms.ChoiceField(label="Team", required=False)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *DeliveryStatus.choices]
    )
    channel = forms.ChoiceField(
        label="Channel", required=False, choices=[("", "Any channel"), *Channel.choices]
    )

    def __init__(self, *args, teams: list[Team], **kwargs):
        super().__init__(*args, **kwargs)
        self.teams = {team.slug: team for team in teams}
        self.fields["team"].choices = [("", "All your teams"), *((t.slug, t.name) for t in teams)]
        self.fields["team"].error_messages["invalid_choice"] = (
            "You do not manage a team “%(value)s”."
        )

    def query(self) -> dict:
        """The valid filters, as the URL shows them; an invalid one falls back to "any"."""
        data = getattr(self, "cleaned_data", {})
        return {key: data.get(key) or "" for key in ("team", "status", "channel")}

    def chosen_team(self) -> Team | None:
        return self.teams.get(self.query()["team"])
