from datetime import datetime

from django import template
from django.utils.html import format_html

from core.timefmt import local_moment

register = template.Library()


@register.simple_tag
def reltime(value: datetime | None, empty: str = "—"):
    """A <time> in the viewer's timezone; app.js shows "in 3 h" with this time on hover."""
    if value is None:
        return empty
    absolute = local_moment(value, year=True)
    return format_html(
        '<time datetime="{}" data-relative title="{}">{}</time>',
        value.isoformat(),
        absolute,
        absolute,
    )


@register.simple_tag
def status_badge(status: str, label: str = ""):
    """The one status badge used everywhere: text always, colour from the status class."""
    text = label or status.replace("_", " ").capitalize()
    return format_html('<span class="badge badge--{}">{}</span>', status, text)
