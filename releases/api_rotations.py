"""JSON API for captain rotations, mounted at /api/v1/: "who is captain now?" for bots and CI.

Read-only, scope `read`. Rotations and trains of teams the token's user is not in answer 404 (we
do not confirm they exist); invalid input is 400 with field messages (config/api.py renders all
errors). The answers compose `selectors_rotations` (who holds which turn) and `selectors` (when
a train departs); nothing here decides a captain.
"""

from datetime import UTC, datetime
from typing import Annotated

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router

from accounts.auth import ApiTokenAuth
from accounts.models import ApiScope, User
from releases.models import Train
from releases.schemas import ErrorOut
from releases.schemas_rotations import (
    NO_DEPARTURE,
    NO_ROTATION,
    NOBODY_ELIGIBLE,
    NOT_PLANNED,
    PAUSED,
    CaptainOut,
    Instant,
    RotationOut,
)
from releases.selectors import next_departures, trains_for_user
from releases.selectors_rotations import (
    rotation_overview,
    rotation_overviews,
    rotations_for_user,
    turn_for_departure,
)

router = Router(tags=["rotations"])

READ = ApiTokenAuth(ApiScope.READ)
TURNS_SHOWN = 8  # as on the rotation page
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

RotationId = Annotated[int, Path(description="The rotation's id.")]
TeamParam = Annotated[str | None, Query(description="A team's slug.", example="checkout")]
TrainParam = Annotated[
    str,
    Query(
        min_length=1,
        description="The train's id or slug (add `team` when several of your teams have a "
        "train of that slug).",
        example="checkout-web",
    ),
]
AtParam = Annotated[
    Instant | None,
    Query(
        description="ISO-8601 with an offset or `Z`; default now. The answer is about the "
        "train's first departure at or after this moment. Encode `+` as `%2B` in a URL (an "
        "offset whose `+` arrived as a space is read as meant).",
        example="2026-12-08T09:00:00Z",
    ),
]

_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _responses(ok: dict) -> dict:
    return {**ok, **_ERRORS}


# --- reads ----------------------------------------------------------------------------------


def _train_for_captain(user: User, train: str, team: str | None) -> Train:
    """The train named by id or slug among the user's trains; 400 when it is ambiguous."""
    match = Q(slug=train)
    if train.isdigit():
        match |= Q(pk=int(train))
    trains = trains_for_user(user).filter(match).select_related("rotation")
    if team is not None:
        trains = trains.filter(team__slug=team)
    found = list(trains[:2])
    in_team = f" in team “{team}”" if team is not None else ""
    if not found:
        raise Http404(f"No train “{train}”{in_team} in your teams.")
    if len(found) > 1:
        raise ValidationError(
            {"team": [f"Several of your trains match “{train}”; add the team's slug."]}
        )
    return found[0]


# --- endpoints ------------------------------------------------------------------------------


@router.get(
    "/rotations",
    auth=READ,
    response=_responses({200: list[RotationOut]}),
    summary="List captain rotations",
)
def list_rotations(request: HttpRequest, team: TeamParam = None):
    """The captain rotations of your teams (ordered by team, then name), each with who is
    captain now, the current turn and the next 8, times in the rotation's timezone. A team
    that is not one of yours gives an empty list.

    Scope `read`."""
    rotations = rotations_for_user(request.user)
    if team is not None:
        rotations = rotations.filter(team__slug=team)
    rotations = list(rotations)
    overviews = rotation_overviews(rotations, now=timezone.now(), count=TURNS_SHOWN)
    return [RotationOut.build(rotation, overviews[rotation.pk]) for rotation in rotations]


@router.get(
    "/rotations/{id}",
    auth=READ,
    response=_responses({200: RotationOut}),
    summary="Get a captain rotation",
)
def get_rotation(request: HttpRequest, id: RotationId):
    """One rotation of your teams with who is captain now, the current turn and the next 8.
    Another team's rotation, or an unknown id, is 404.

    Scope `read`."""
    rotation = rotations_for_user(request.user).filter(pk=id).first()
    if rotation is None:
        raise Http404(f"No rotation with id {id} in your teams.")
    overview = rotation_overview(rotation, now=timezone.now(), count=TURNS_SHOWN)
    return RotationOut.build(rotation, overview)


@router.get(
    "/captain",
    auth=READ,
    response=_responses({200: CaptainOut}),
    summary="Who captains a train's next departure",
)
def captain(
    request: HttpRequest,
    train: TrainParam,
    at: AtParam = None,
    team: TeamParam = None,
):
    """The departure of the train at or after `at` (default now), who captains it and the
    rotation turn that covers it. Skips, postponements and blackouts are applied.

    `captain` is null when there is nobody to name, and `reason` says why: “nobody eligible”
    (everyone in the rotation is away, or it has no members), “the train has no rotation”, “no
    turn is planned for this departure yet” (turns are planned 120 days ahead), “the train has
    no departure at or after this time” or “the train is paused”. A train that is not one of
    your teams' is 404.

    Scope `read`."""
    moment = at or timezone.now()
    if not EARLIEST <= moment < LATEST:
        # Timetables are searched years ahead and behind; keep clear of datetime's limits.
        raise ValidationError({"at": [f"Give a moment from {EARLIEST.year} to {LATEST.year - 1}."]})
    found = _train_for_captain(request.user, train, team)
    departure = turn = None
    if found.is_paused:
        reason = PAUSED
    elif not (departures := next_departures(found, count=1, now=moment)):
        reason = NO_DEPARTURE
    else:
        departure = departures[0]
        if found.rotation_id is None:
            reason = NO_ROTATION
        elif (turn := turn_for_departure(found, departure.slot)) is None:
            reason = NOT_PLANNED
        else:
            if turn.train_id == found.pk:
                turn.train = found  # already loaded; spares a query
            reason = NOBODY_ELIGIBLE if turn.captain_id is None else None
    return CaptainOut.build(found, at=moment, departure=departure, turn=turn, reason=reason)
