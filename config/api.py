"""The JSON API at /api/v1/: routers from each app, JSON errors with field messages."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from accounts.api import router as accounts_router
from releases.api import router as releases_router
from releases.api_calendar import router as calendar_router
from releases.api_rotations import router as rotations_router

# Swagger UI sets inline styles while it renders; scripts stay restricted to our own files.
_docs_csp = {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}

api = NinjaAPI(
    title="Stationmaster API",
    version="1",
    description=(
        "Release trains, releases, deployments, flags and incidents. Authenticate with "
        "`Authorization: Bearer <token>`; issue tokens on your profile page or with "
        "`python manage.py issue_api_token`."
    ),
    urls_namespace="api",
    docs_decorator=csp_override(_docs_csp),
)
api.add_router("/", accounts_router)
api.add_router("/", releases_router)
api.add_router("/", calendar_router)
api.add_router("/", rotations_router)


def _error(request: HttpRequest, status: int, detail: str, errors: dict | None = None):
    body: dict = {"detail": detail}
    if errors:
        body["errors"] = errors
    return api.create_response(request, body, status=status)


def _field_name(loc: tuple) -> str:
    # ninja reports ("body", "payload", "timezone"); callers care about "timezone".
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "header")]
    return ".".join(parts) or "__all__"


@api.exception_handler(NinjaValidationError)
def _invalid_input(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(_field_name(tuple(error.get("loc", ()))), []).append(error["msg"])
    return _error(request, 400, "The request has invalid fields.", errors)


@api.exception_handler(DjangoValidationError)
def _invalid_by_service(request, exc: DjangoValidationError):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return _error(request, 400, "The request has invalid fields.", errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    response = _error(request, 401, "Missing, invalid, expired or revoked API token.")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(PermissionError)
@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return _error(request, 403, str(exc) or "You may not do this.")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, str(exc) or "Not found.")
