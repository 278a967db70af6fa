"""A team's checklist templates, and a train's release settings (checklist, rollback defaults)."""

from django.http import HttpRequest

from releases.models import Train


def train_release_settings_context(request: HttpRequest, train: Train) -> dict:
    """What templates/releases/partials/train_release_settings.html needs."""
    return {}
