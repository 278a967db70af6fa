"""The release page's checklist panel: ticking, polling, gates."""

from django.http import HttpRequest

from releases.models import Release


def checklist_context(request: HttpRequest, release: Release) -> dict:
    """What templates/releases/partials/checklist_panel.html needs."""
    return {}
