"""GET /api/v1/calendar.ics: the release calendar as iCalendar, for a bearer token."""

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer

from accounts.models import ApiScope, ApiToken
from accounts.services import api_token_authenticate
from releases.ics import calendar_ics_for_user, ics_response

router = Router(tags=["calendar"])


class CalendarTokenAuth(HttpBearer):
    """A valid token with the `calendar` scope or the `read` scope (which reads everything)."""

    scopes = (ApiScope.CALENDAR, ApiScope.READ)

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = api_token_authenticate(raw=token)
        if api_token is None:
            return None  # ninja answers 401
        if not set(self.scopes) & set(api_token.scopes):
            raise HttpError(
                403,
                "This token lacks the “calendar” (or “read”) scope. Issue a token with it on "
                "your profile page.",
            )
        request.user = api_token.user
        return api_token


class CalendarFilter(Schema):
    team: str | None = None
    train: int | None = None


ICS_DESCRIPTION = """\
The release calendar of your teams' trains as an RFC 5545 iCalendar file (`text/calendar`):
one VEVENT per release and per projected departure, from 30 days ago to 180 days ahead.

UIDs are stable: a scheduled departure is `departure-<train id>-<slot>@<host>` before and after
it is cut, so a subscribed calendar updates the event in place; ad-hoc and hotfix releases are
`release-<id>@<host>`. Times carry the train's timezone (TZID with VTIMEZONE). Skipped and
blacked-out departures are `STATUS:CANCELLED`. Departures and releases name their captain in the
description (a projected departure's from its train's captain rotation).

The token's owner also gets their own captain duties: one event per rotation turn they hold,
"Release captain: <rotation>" from the turn's start to its end, UID `turn-<id>@<host>`, with the
handoff note left for the turn in the description. Nobody else's duties are included.

Filter with `team` (a team slug) and `train` (a train id). Needs a token with the `calendar` or
the `read` scope. People can also subscribe through the private URL on their calendar page.
"""


@router.get(
    "/calendar.ics",
    auth=CalendarTokenAuth(),
    summary="Release calendar (iCalendar)",
    description=ICS_DESCRIPTION,
    openapi_extra={
        "responses": {
            200: {
                "description": "An iCalendar file.",
                "content": {"text/calendar": {"schema": {"type": "string"}}},
            },
            400: {"description": "An unknown team or train."},
            401: {"description": "Missing, invalid, expired or revoked token."},
            403: {"description": "The token lacks the calendar and read scopes."},
        }
    },
)
def calendar_ics(request: HttpRequest, filters: Query[CalendarFilter]) -> HttpResponse:
    body = calendar_ics_for_user(
        request.user, team=filters.team, train=filters.train, now=timezone.now()
    )
    return ics_response(body)
