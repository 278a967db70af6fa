from django.conf import settings

from core.navigation import SECTIONS, current_section


def navigation(request) -> dict:
    match = getattr(request, "resolver_match", None)
    return {
        "nav_sections": SECTIONS,
        "nav_current": current_section(match.view_name if match else None),
        "site_url": settings.SITE_URL,
    }
