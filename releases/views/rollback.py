"""The release page's rollback plan and critical-release panels, and the printable sheet."""

from django.http import HttpRequest

from releases.models import Release


def rollback_context(request: HttpRequest, release: Release) -> dict:
    """What templates/releases/partials/{rollback_panel,critical_panel}.html need."""
    return {}
