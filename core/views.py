from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import CHECKS


@login_not_required
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process serves requests. Deliberately checks nothing else."""
    return JsonResponse({"status": "ok"})


@login_not_required
@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: one entry per dependency; 503 names the ones that are down."""
    results = {name: check() for name, check in CHECKS.items()}
    ready = all(ok for ok, _ in results.values())
    payload = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: {"ok": ok, "detail": detail} for name, (ok, detail) in results.items()},
    }
    return JsonResponse(payload, status=200 if ready else 503)


def section_intro(request: HttpRequest, *, title: str, empty_title: str, empty_text: str):
    """The page of a section whose features are not built yet: says what it will hold."""
    return TemplateResponse(
        request,
        "core/section_intro.html",
        {"page_title": title, "empty_title": empty_title, "empty_text": empty_text},
    )
