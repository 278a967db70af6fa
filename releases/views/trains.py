"""Train pages: the list, the form with its live timetable preview, the train page and its changes.

Changing when a train departs (skip, postpone, restore, cut now, blackouts) is in departures.py,
which shares the plumbing here. Views parse input, call one service or selector, and render. A
refusal comes back as a clear message and writes nothing: form errors with status 400, a
PermissionDenied as 403. HTMX requests get the `{% partialdef %}` fragment they swap; everything
also works without JavaScript.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Team
from accounts.selectors import memberships_for_user
from core.forms import add_service_errors
from core.timefmt import local_moment
from releases import selectors
from releases.departures import Departure, project, slot_key
from releases.forms import ChangeItemForm, TrainForm, timetable_in_words
from releases.models import ChangeItem, DepartureException, Train
from releases.permissions import MANAGING_ROLES, is_manager, require_manager
from releases.services import changes as change_services
from releases.services import trains as train_services
from releases.views.checklist_templates import train_release_settings_context

LIST_TEMPLATE = "releases/train_list.html"
FORM_TEMPLATE = "releases/train_form.html"
DETAIL_TEMPLATE = "releases/train_detail.html"
UPCOMING_COUNT = 8
UPCOMING_WINDOW = timedelta(days=60)
RELEASES_PER_PAGE = 20
LOG_PER_PAGE = 20


# --- lookups -----------------------------------------------------------------------------------


def managed_teams(user) -> QuerySet[Team]:
    # One filter() call: the role and the user must be on the same membership.
    return Team.objects.filter(
        memberships__user=user, memberships__role__in=MANAGING_ROLES
    ).order_by("name")


def train_or_404(user, team_slug: str, train_slug: str) -> Train:
    try:
        return selectors.train_detail(user, team_slug, train_slug)
    except Train.DoesNotExist:
        raise Http404("There is no such train in your teams.") from None


def viewer_tz() -> str:
    return timezone.get_current_timezone_name()


# --- the list ----------------------------------------------------------------------------------


def train_list(request: HttpRequest) -> TemplateResponse:
    now = timezone.now()
    memberships = list(memberships_for_user(request.user))
    trains = list(
        selectors.trains_for_user(request.user)
        .annotate(waiting_count=Count("changes", filter=Q(changes__release__isnull=True)))
        .prefetch_related(
            Prefetch(
                "exceptions",
                queryset=DepartureException.objects.filter(slot__gte=now - timedelta(days=32)),
                to_attr="recent_exceptions",
            )
        )
        .order_by("team__name", "name")
    )
    blackouts = selectors.blackouts_for_teams(
        {m.team_id for m in memberships}, since=now.date() - timedelta(days=1)
    )
    by_team: dict[int, list[Train]] = {}
    for train in trains:
        train.timetable_words = timetable_in_words(train.rrule, train.timezone)
        upcoming = (
            []
            if train.is_paused
            else selectors.next_departures(
                train, count=1, now=now, exceptions=train.recent_exceptions, blackouts=blackouts
            )
        )
        train.next_departure = upcoming[0] if upcoming else None
        by_team.setdefault(train.team_id, []).append(train)
    groups = [
        {"team": m.team, "can_manage": m.can_manage, "trains": by_team.get(m.team_id, [])}
        for m in memberships
    ]
    context = {
        "page_title": "Trains",
        "groups": groups,
        "train_count": len(trains),
        "can_create": any(m.can_manage for m in memberships),
        "viewer_tz": viewer_tz(),
    }
    return TemplateResponse(request, LIST_TEMPLATE, context)


# --- create, edit, preview ---------------------------------------------------------------------


def _form_context(request: HttpRequest, form: TrainForm, *, train: Train | None = None) -> dict:
    return {
        "page_title": f"Edit {train.name}" if train else "New train",
        "form": form,
        "train": train,
        "preview": form.preview(),
        "viewer_tz": viewer_tz(),
    }


def train_create(request: HttpRequest) -> TemplateResponse:
    teams = managed_teams(request.user)
    if not teams.exists():
        raise PermissionDenied("Only a manager of a team can create trains.")
    if request.method == "POST":
        form = TrainForm(request.POST, teams=teams)
        if "preview" not in request.POST and form.is_valid():
            try:
                train = train_services.train_create(
                    actor=request.user, team=form.cleaned_data["team"], fields=form.train_fields()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                first = form.timetable.next_after(timezone.now())
                messages.success(
                    request,
                    f"{train.name} is on the timetable."
                    + (f" It first departs {local_moment(first[0])}." if first else ""),
                )
                return redirect(train)
        status = 200 if "preview" in request.POST and form.is_valid() else 400
        return TemplateResponse(request, FORM_TEMPLATE, _form_context(request, form), status=status)
    team = teams.filter(slug=request.GET.get("team", "")).first() or teams.first()
    form = TrainForm(
        teams=teams,
        initial={
            "team": team,
            "timezone": team.timezone,
            "starts_on": timezone.localdate(),
        },
    )
    return TemplateResponse(request, FORM_TEMPLATE, _form_context(request, form))


def train_edit(request: HttpRequest, team_slug: str, train_slug: str) -> TemplateResponse:
    train = train_or_404(request.user, team_slug, train_slug)
    require_manager(request.user, train.team_id, action="change trains")
    if request.method == "POST":
        form = TrainForm(request.POST)
        if "preview" not in request.POST and form.is_valid():
            try:
                train = train_services.train_update(
                    actor=request.user, train=train, fields=form.train_fields()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{train.name} is saved.")
                return redirect(train)
        status = 200 if "preview" in request.POST and form.is_valid() else 400
        context = _form_context(request, form, train=train)
        return TemplateResponse(request, FORM_TEMPLATE, context, status=status)
    form = TrainForm(initial=TrainForm.initial_for(train))
    return TemplateResponse(request, FORM_TEMPLATE, _form_context(request, form, train=train))


@require_POST
def train_preview(request: HttpRequest) -> TemplateResponse:
    """The "Next 5 departures" panel for the timetable as typed so far. Writes nothing."""
    teams = managed_teams(request.user)
    if not teams.exists():
        raise PermissionDenied("Only a manager of a team can plan timetables.")
    form = TrainForm(request.POST, teams=teams)
    context = {"preview": form.preview(), "viewer_tz": viewer_tz()}
    return TemplateResponse(request, f"{FORM_TEMPLATE}#preview", context)


# --- the train page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DepartureRow:
    departure: Departure
    key: str  # the slot in URLs

    @property
    def is_excepted(self) -> bool:
        return self.departure.state in ("skipped", "postponed")


def _departure_rows(train: Train, now: datetime) -> list[DepartureRow]:
    """The next departures that leave, with the skipped and blacked-out slots among them."""
    exceptions = list(train.exceptions.all())
    blackouts = selectors.blackouts_for_teams([train.team_id], since=now.date() - timedelta(days=1))
    leaving = selectors.next_departures(
        train, count=UPCOMING_COUNT, now=now, exceptions=exceptions, blackouts=blackouts
    )
    end = now + UPCOMING_WINDOW
    if leaving:
        end = max(end, leaving[-1].departs_at + timedelta(seconds=1))
    rows, departing = [], 0
    for departure in project(train, now, end, exceptions=exceptions, blackouts=blackouts):
        if departing >= UPCOMING_COUNT:
            break
        rows.append(DepartureRow(departure, slot_key(departure.slot)))
        departing += departure.departs
    return rows


def departures_context(train: Train, can_manage: bool, now: datetime | None = None) -> dict:
    return {
        "train": train,
        "can_manage": can_manage,
        "departure_rows": _departure_rows(train, now or timezone.now()),
        "show_train_tz": train.timezone != viewer_tz(),
    }


def waiting_context(train: Train, can_manage: bool) -> dict:
    waiting = list(selectors.waiting_changes(train))
    return {
        "train": train,
        "can_manage": can_manage,
        "waiting": waiting,
        "ready_count": sum(item.is_ready for item in waiting),
    }


def _train_context(request: HttpRequest, train: Train, **extra) -> dict:
    can_manage = is_manager(request.user, train.team_id)
    releases = (
        train.releases.select_related("captain")
        .annotate(batch_size=Count("changes"))
        .order_by(F("cut_at").desc(nulls_first=True), "-id")
    )
    logs = train.departure_logs.select_related("release").order_by("-slot")
    return {
        "page_title": train.name,
        "timetable_words": timetable_in_words(train.rrule, train.timezone),
        "releases_page": Paginator(releases, RELEASES_PER_PAGE).get_page(request.GET.get("page")),
        "log_page": Paginator(logs, LOG_PER_PAGE).get_page(request.GET.get("log_page")),
        "change_form": ChangeItemForm(),
        "viewer_tz": viewer_tz(),
        **departures_context(train, can_manage),
        **waiting_context(train, can_manage),
        **train_release_settings_context(request, train),
        **extra,
    }


def train_detail(request: HttpRequest, team_slug: str, train_slug: str) -> TemplateResponse:
    train = train_or_404(request.user, team_slug, train_slug)
    return TemplateResponse(request, DETAIL_TEMPLATE, _train_context(request, train))


def refused(request: HttpRequest, train: Train, exc: ValidationError, status: int = 400):
    """A refused action: the message on the train page, nothing written."""
    messages.error(request, " ".join(exc.messages))
    if request.htmx:
        # htmx does not swap error responses; reloading shows the message where it belongs.
        return HttpResponse(status=status, headers={"HX-Refresh": "true"})
    train = train_or_404(request.user, train.team.slug, train.slug)
    return TemplateResponse(request, DETAIL_TEMPLATE, _train_context(request, train), status=status)


@require_POST
def train_pause(request: HttpRequest, team_slug: str, train_slug: str) -> HttpResponse:
    train = train_or_404(request.user, team_slug, train_slug)
    paused = request.POST.get("paused") == "true"
    train = train_services.train_set_paused(actor=request.user, train=train, paused=paused)
    if paused:
        messages.success(request, f"{train.name} is paused: it does not depart until resumed.")
    else:
        messages.success(request, f"{train.name} runs again from its next departure.")
    return redirect(train)


# --- changes waiting for the next departure ----------------------------------------------------


@require_POST
def change_add(request: HttpRequest, team_slug: str, train_slug: str) -> HttpResponse:
    train = train_or_404(request.user, team_slug, train_slug)
    form = ChangeItemForm(request.POST)
    if form.is_valid():
        try:
            item = change_services.change_item_add(
                actor=request.user,
                train=train,
                title=form.cleaned_data["title"],
                link=form.cleaned_data["link"],
                is_ready=form.cleaned_data["is_ready"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"“{item.title}” waits for the next departure.")
            return redirect(f"{train.get_absolute_url()}#waiting")
    context = _train_context(request, train, change_form=form)
    return TemplateResponse(request, DETAIL_TEMPLATE, context, status=400)


@require_POST
def change_ready(request: HttpRequest, team_slug: str, train_slug: str, pk: int) -> HttpResponse:
    train = train_or_404(request.user, team_slug, train_slug)
    item = get_object_or_404(ChangeItem.objects.select_related("author"), pk=pk, train=train)
    try:
        item = change_services.change_item_set_ready(
            actor=request.user, item=item, ready=request.POST.get("ready") == "true"
        )
    except ValidationError as exc:
        return refused(request, train, exc)
    if request.htmx:
        context = {**waiting_context(train, is_manager(request.user, train.team_id))}
        context.update(item=next(i for i in context["waiting"] if i.pk == item.pk), oob=True)
        return TemplateResponse(request, f"{DETAIL_TEMPLATE}#change_row", context)
    state = "ready to depart" if item.is_ready else "not ready: it waits for a later departure"
    messages.success(request, f"“{item.title}” is {state}.")
    return redirect(f"{train.get_absolute_url()}#waiting")
