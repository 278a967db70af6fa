"""JSON API for trains, releases, change items and deployments, mounted at /api/v1/.

Thin on purpose: parse input, call one service or selector, render with releases.schemas.
Scopes: reads need `read`, writes `write`, recording deployments `deployments`. Objects of teams the
token's user is not in answer 404 (we do not confirm they exist); role refusals come from the
services as 403; invalid input is 400 with field messages (config/api.py renders all errors).
"""

import dataclasses
from datetime import timedelta
from typing import Annotated

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Body, Path, Query, Router, Status

from accounts.auth import ApiTokenAuth
from accounts.models import ApiScope, User
from accounts.selectors import teams_for_user
from releases.departures import POSTPONE_LOOKBACK
from releases.models import (
    ChangeItem,
    DepartureException,
    Deployment,
    Release,
    ReleaseEvent,
    Train,
)
from releases.schemas import (
    ChangeItemIn,
    ChangeItemOut,
    ChangeItemPatchIn,
    CutNowIn,
    DeploymentIn,
    DeploymentOut,
    ErrorOut,
    ReleaseDetailOut,
    ReleaseFilters,
    ReleaseOut,
    ReleasePage,
    TrainCreateIn,
    TrainOut,
    TrainUpdateIn,
    TransitionIn,
)
from releases.selectors import (
    blackouts_for_teams,
    next_departures,
    releases_for_user,
    trains_for_user,
)
from releases.services.changes import change_item_add, change_item_set_ready, deployment_record
from releases.services.cutting import train_cut_now
from releases.services.lifecycle import release_transition
from releases.services.trains import TrainFields, train_create, train_update
from releases.timetable import zone

router = Router(tags=["releases"])

READ = ApiTokenAuth(ApiScope.READ)
WRITE = ApiTokenAuth(ApiScope.WRITE)
DEPLOYMENTS = ApiTokenAuth(ApiScope.DEPLOYMENTS)

TrainId = Annotated[int, Path(description="The train's id.")]
ReleaseId = Annotated[int, Path(description="The release's id.")]
ChangeId = Annotated[int, Path(description="The change item's id.")]

_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
_NEXT_DEPARTURES = 5


def _responses(ok: dict) -> dict:
    """The success shapes plus the JSON errors every endpoint may answer with."""
    return {**ok, **_ERRORS}


# --- reads ----------------------------------------------------------------------------------
# Small query compositions for the API's shapes; see the report about moving them to selectors.


def _train_match(value: int | str, prefix: str = "") -> Q:
    """A train by id (a JSON number) or by slug (a string; digits also match the id)."""
    if isinstance(value, int):
        return Q(**{f"{prefix}pk": value})
    match = Q(**{f"{prefix}slug": value})
    if value.isdigit():
        match |= Q(**{f"{prefix}pk": int(value)})
    return match


def _trains_out(trains: QuerySet[Train]) -> list[TrainOut]:
    """Trains with their next departures: three queries however many trains there are."""
    now = timezone.now()
    trains = list(
        trains.prefetch_related(
            Prefetch(
                "exceptions",
                queryset=DepartureException.objects.filter(slot__gte=now - POSTPONE_LOOKBACK),
                to_attr="recent_exceptions",
            )
        )
    )
    if not trains:
        return []
    blackouts = blackouts_for_teams(
        {train.team_id for train in trains}, since=now.date() - timedelta(days=1)
    )
    return [
        TrainOut.build(
            train,
            []
            if train.is_paused
            else next_departures(
                train,
                count=_NEXT_DEPARTURES,
                now=now,
                exceptions=train.recent_exceptions,
                blackouts=blackouts,
            ),
        )
        for train in trains
    ]


def _train_or_404(user: User, train_id: int) -> Train:
    train = trains_for_user(user).filter(pk=train_id).first()
    if train is None:
        raise Http404(f"No train with id {train_id} in your teams.")
    return train


def _train_out(user: User, train_id: int) -> TrainOut:
    found = _trains_out(trains_for_user(user).filter(pk=train_id))
    if not found:
        raise Http404(f"No train with id {train_id} in your teams.")
    return found[0]


def _release_or_404(user: User, release_id: int) -> Release:
    release = releases_for_user(user).filter(pk=release_id).first()
    if release is None:
        raise Http404(f"No release with id {release_id} in your teams.")
    return release


def _release_detail(user: User, release_id: int) -> ReleaseDetailOut:
    release = (
        releases_for_user(user)
        .annotate(change_count=Count("changes"))
        .prefetch_related(
            Prefetch("events", queryset=ReleaseEvent.objects.select_related("actor")),
            Prefetch("changes", queryset=ChangeItem.objects.select_related("author")),
            Prefetch("deployments", queryset=Deployment.objects.select_related("reported_by")),
        )
        .filter(pk=release_id)
        .first()
    )
    if release is None:
        raise Http404(f"No release with id {release_id} in your teams.")
    return ReleaseDetailOut.build(release)


def _change_or_404(user: User, change_id: int) -> ChangeItem:
    item = (
        ChangeItem.objects.filter(pk=change_id, train__team__memberships__user=user)
        .select_related("train")
        .first()
    )
    if item is None:
        raise Http404(f"No change item with id {change_id} in your teams.")
    return item


def _release_for_deployment(user: User, payload: DeploymentIn) -> Release:
    """The release CI names, by id or by train and version; 400 when unclear, 404 when unknown."""
    by_id = payload.release is not None
    by_version = payload.train is not None or payload.version is not None
    if by_id and by_version:
        raise ValidationError(
            {"release": ["Name the release by “release” or by “train” and “version”, not both."]}
        )
    if not by_id and not by_version:
        raise ValidationError(
            {"release": ["Name the release by “release” (its id) or by “train” and “version”."]}
        )
    if by_id:
        if payload.team is not None:
            raise ValidationError(
                {"team": ["“team” only narrows a train slug; leave it out with “release”."]}
            )
        return _release_or_404(user, payload.release)
    if payload.train is None or payload.train == "":
        raise ValidationError({"train": ["Name the train (its id or slug) of this version."]})
    if not payload.version:
        raise ValidationError({"version": ["Give the release's version, such as 4.12.0."]})
    trains = trains_for_user(user).filter(_train_match(payload.train))
    if payload.team is not None:
        trains = trains.filter(team__slug=payload.team)
    trains = list(trains[:2])
    in_team = f" in team “{payload.team}”" if payload.team is not None else ""
    if not trains:
        raise Http404(f"No train “{payload.train}”{in_team} in your teams.")
    if len(trains) > 1:
        raise ValidationError(
            {"team": [f"Several of your trains match “{payload.train}”; add the team's slug."]}
        )
    release = releases_for_user(user).filter(train=trains[0], version=payload.version).first()
    if release is None:
        raise Http404(f"Train “{trains[0].slug}” has no release {payload.version}.")
    return release


# --- trains ---------------------------------------------------------------------------------


@router.get(
    "/trains",
    auth=READ,
    response=_responses({200: list[TrainOut]}),
    tags=["trains"],
    summary="List trains",
)
def list_trains(request: HttpRequest, team: str | None = Query(None, description="A team's slug.")):
    """The trains of your teams, each with its next 5 departures in the train's timezone.

    Scope `read`."""
    trains = trains_for_user(request.user)
    if team is not None:
        trains = trains.filter(team__slug=team)
    return _trains_out(trains)


@router.post(
    "/trains",
    auth=WRITE,
    response=_responses({201: TrainOut}),
    tags=["trains"],
    summary="Create a train",
)
def create_train(request: HttpRequest, payload: TrainCreateIn):
    """Managers of the team only. The timetable must have a departure in the future: invalid
    RRULEs, unknown timezones and timetables that never depart again are 400 with the field's
    message, and nothing is written. An unknown team, or one you are not in, is 404.

    Scope `write`."""
    team = teams_for_user(request.user).filter(slug=payload.team).first()
    if team is None:
        raise Http404(f"No team “{payload.team}” among your teams.")
    fields = TrainFields(**payload.dict(exclude={"team"}))
    train = train_create(actor=request.user, team=team, fields=fields)
    return Status(201, _train_out(request.user, train.pk))


@router.get(
    "/trains/{id}",
    auth=READ,
    response=_responses({200: TrainOut}),
    tags=["trains"],
    summary="Get a train",
)
def get_train(request: HttpRequest, id: TrainId):
    """One train with its settings and its next 5 departures.

    Scope `read`."""
    return _train_out(request.user, id)


@router.patch(
    "/trains/{id}",
    auth=WRITE,
    response=_responses({200: TrainOut}),
    tags=["trains"],
    summary="Update a train",
)
def update_train(request: HttpRequest, payload: TrainUpdateIn, id: TrainId):
    """Managers only. Send only what changes; the rest keeps its value. A changed timetable
    applies from now on: its past departures are not caught up. The team cannot change.

    Scope `write`."""
    train = _train_or_404(request.user, id)
    current = {f.name: getattr(train, f.name) for f in dataclasses.fields(TrainFields)}
    fields = TrainFields(**{**current, **payload.dict(exclude_unset=True)})
    train_update(actor=request.user, train=train, fields=fields)
    return _train_out(request.user, id)


@router.post(
    "/trains/{id}/cut-now",
    auth=WRITE,
    response=_responses({201: ReleaseDetailOut}),
    by_alias=True,
    tags=["trains"],
    summary="Cut an ad-hoc release now",
)
def cut_now(
    request: HttpRequest,
    id: TrainId,
    payload: Body[CutNowIn | None] = None,
):
    """Managers only. Cuts an ad-hoc release outside the timetable, taking the changes that are
    ready; the body is optional. Answers with the new release.

    Scope `write`."""
    train = _train_or_404(request.user, id)
    release = train_cut_now(actor=request.user, train=train, note=payload.note if payload else "")
    return Status(201, _release_detail(request.user, release.pk))


@router.post(
    "/trains/{id}/changes",
    auth=WRITE,
    response=_responses({200: ChangeItemOut, 201: ChangeItemOut}),
    tags=["changes"],
    summary="Add a change to the next departure",
)
def add_change(request: HttpRequest, payload: ChangeItemIn, id: TrainId):
    """Any team member. 201 when added. With an `external_id` already waiting on this train the
    change is updated instead (200), so a retried CI job never adds it twice; once it departed,
    sending it again is 400.

    Scope `write`."""
    train = _train_or_404(request.user, id)
    started = timezone.now()
    item = change_item_add(
        actor=request.user,
        train=train,
        title=payload.title,
        link=payload.link,
        is_ready=payload.ready,
        external_id=payload.external_id,
        author_name=payload.author,
    )
    # The service updates in place when the external_id exists: then it was created earlier.
    created = item.created_at >= started
    return Status(201 if created else 200, ChangeItemOut.build(item, zone(train.timezone)))


@router.patch(
    "/changes/{id}",
    auth=WRITE,
    response=_responses({200: ChangeItemOut}),
    tags=["changes"],
    summary="Mark a change ready or not",
)
def set_change_ready(
    request: HttpRequest,
    payload: ChangeItemPatchIn,
    id: ChangeId,
):
    """Any team member, while the change still waits for a departure.

    Scope `write`."""
    item = _change_or_404(request.user, id)
    tz = zone(item.train.timezone)
    item = change_item_set_ready(actor=request.user, item=item, ready=payload.ready)
    return ChangeItemOut.build(item, tz)


# --- releases -------------------------------------------------------------------------------


@router.get(
    "/releases",
    auth=READ,
    response=_responses({200: ReleasePage}),
    summary="List releases",
)
def list_releases(request: HttpRequest, filters: Query[ReleaseFilters]):
    """Releases of your teams, newest cut first (those not cut yet before all others), paginated
    with `limit` (default 50, at most 200) and `offset`; `count` is the total over all pages.
    Filters that match nothing of yours give an empty page.

    Scope `read`."""
    releases = releases_for_user(request.user)
    if filters.team is not None:
        releases = releases.filter(train__team__slug=filters.team)
    if filters.train is not None:
        releases = releases.filter(_train_match(filters.train, prefix="train__"))
    try:
        statuses = filters.statuses()
    except ValueError as exc:
        raise ValidationError({"status": [str(exc)]}) from exc
    if statuses:
        releases = releases.filter(status__in=statuses)
    page = releases.annotate(change_count=Count("changes")).order_by(
        F("cut_at").desc(nulls_first=True), "-id"
    )[filters.offset : filters.offset + filters.limit]
    return ReleasePage(
        count=releases.count(),
        limit=filters.limit,
        offset=filters.offset,
        items=[ReleaseOut.build(release) for release in page],
    )


@router.get(
    "/releases/{id}",
    auth=READ,
    response=_responses({200: ReleaseDetailOut}),
    by_alias=True,
    summary="Get a release with its timeline",
)
def get_release(request: HttpRequest, id: ReleaseId):
    """The release with its events (the timeline, oldest first), change items and deployments.

    Scope `read`."""
    return _release_detail(request.user, id)


@router.post(
    "/releases/{id}/transitions",
    auth=WRITE,
    response=_responses({200: ReleaseDetailOut}),
    by_alias=True,
    summary="Move a release to another status",
)
def transition_release(
    request: HttpRequest,
    payload: TransitionIn,
    id: ReleaseId,
):
    """Lifecycle: planned → cut → stabilizing → approved → deploying → released → rolled_back,
    and cancelled from any status before released. Approving, deploying, releasing and
    cancelling need the release captain or a manager (403 otherwise); cancelling needs a note.
    A move the lifecycle does not allow is 400 with the allowed next statuses in `errors.to`.

    Scope `write`."""
    release = _release_or_404(request.user, id)
    release_transition(actor=request.user, release=release, to_status=payload.to, note=payload.note)
    return _release_detail(request.user, id)


# --- deployments ----------------------------------------------------------------------------


@router.post(
    "/deployments",
    auth=DEPLOYMENTS,
    response=_responses({200: DeploymentOut, 201: DeploymentOut}),
    tags=["deployments"],
    summary="Record a deployment (from CI)",
)
def record_deployment(request: HttpRequest, payload: DeploymentIn):
    """Identify the release by `release` (its id) or by `train` (id or slug; add `team` when
    slugs repeat) and `version`. 201 when recorded; 200 when `external_id` names a deployment
    already recorded for this release and environment, which is then updated (status, times).
    An unknown release is 404; both or neither ways of naming it is 400.

    Scope `deployments`: give CI a token with only this scope."""
    release = _release_for_deployment(request.user, payload)
    started = timezone.now()
    deployment = deployment_record(
        actor=request.user,
        release=release,
        environment=payload.environment,
        status=payload.status,
        started_at=payload.started_at,
        finished_at=payload.finished_at,
        external_id=payload.external_id,
    )
    # The service updates in place when the external_id exists: then it was created earlier.
    created = deployment.created_at >= started
    return Status(201 if created else 200, DeploymentOut.build(deployment, release))
