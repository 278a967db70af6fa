from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def reltime(value: datetime | None, empty: str = "—"):
    """A <time> in the viewer's timezone; app.js shows "in 3 h" with this time on hover."""
    if value is None:
        return empty
    local = timezone.localtime(value)
    absolute = date_format(local, "D j M Y, H:i T")
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
