import zoneinfo
from datetime import timedelta

from django import forms
from django.utils import timezone

from accounts.models import ApiScope

TOKEN_LIFETIMES = [
    ("30", "30 days"),
    ("90", "90 days"),
    ("365", "1 year"),
    ("", "Never expires"),
]


class ProfileForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False, help_text="Used for password resets.")
    timezone = forms.ChoiceField(
        required=False,
        help_text="All times in Stationmaster are shown in this timezone.",
    )
    notification_email = forms.EmailField(
        required=False,
        label="Notification email",
        help_text="Where reminders and notifications go. Leave empty to use your account email.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [("", "Server default")] + [
            (name, name) for name in sorted(zoneinfo.available_timezones())
        ]


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses it, so you recognise it later: “CI deploys”."
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiScope.READ],
        help_text="Give a token only what it needs.",
    )
    lifetime = forms.ChoiceField(
        choices=TOKEN_LIFETIMES, required=False, initial="90", label="Expires"
    )

    def expires_at(self):
        days = self.cleaned_data.get("lifetime")
        return timezone.now() + timedelta(days=int(days)) if days else None
