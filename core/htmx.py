"""HTMX helpers: one template per page, with the swapped fragments as partials inside it."""

from django.http import HttpRequest


def page_or_partial(request: HttpRequest, template_name: str, partial: str) -> str:
    """The whole page for a normal request; only `template#partial` for an HTMX request."""
    if getattr(request, "htmx", False) and not request.htmx.boosted:
        return f"{template_name}#{partial}"
    return template_name
