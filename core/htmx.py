"""HTMX helpers: one template per page, with the swapped fragments as partials inside it."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def page_or_partial(request: HttpRequest, template_name: str, partial: str) -> str:
    """The whole page for a normal request; only `template#partial` for an HTMX request."""
    if getattr(request, "htmx", False) and not request.htmx.boosted:
        return f"{template_name}#{partial}"
    return template_name


def reload_on_refusal(view: Callable) -> Callable:
    """A PermissionDenied stays a 403 page; under HTMX (which does not swap a 403) it becomes a
    reload that shows the refusal as a flash message where the person is looking."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            if not getattr(request, "htmx", False):
                raise
            messages.error(request, str(exc) or "Your role in this team does not allow this.")
            return HttpResponse(status=403, headers={"HX-Refresh": "true"})

    return wrapper
