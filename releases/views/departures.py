"""Changing when trains depart: cut now, skip, postpone or restore a departure, and blackouts.

These views share the plumbing of trains.py (lookups, refusals on the train page), and answer
the same way: form errors with status 400, a PermissionDenied as 403, the `{% partialdef %}`
fragment for HTMX, and everything also works without JavaScript.
"""

from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import memberships_for_user
from core.forms import add_service_errors
from core.timefmt import local_moment
from releases import selectors
from releases.departures import parse_slot_key
from releases.forms import BlackoutForm, CutNowForm, DeparturePostponeForm, DepartureSkipForm
from releases.models import BlackoutPeriod, Train
from releases.permissions import require_manager
from releases.services import cutting
from releases.services import trains as train_services
from releases.views.trains import (
    DETAIL_TEMPLATE,
    departures_context,
    managed_teams,
    refused,
    train_or_404,
    viewer_tz,
    waiting_context,
)

BLACKOUT_TEMPLATE = "releases/blackout_list.html"


def _slot_or_404(key: str) -> datetime:
    try:
        return parse_slot_key(key)
    except ValueError:
        raise Http404("That is not a departure.") from None


def _departures_done(request: HttpRequest, train: Train, notice: str):
    if request.htmx:
        train = train_or_404(request.user, train.team.slug, train.slug)  # fresh exceptions
        context = {**departures_context(train, can_manage=True), "notice": notice}
        return TemplateResponse(request, f"{DETAIL_TEMPLATE}#departures", context)
    messages.success(request, notice)
    return redirect(f"{train.get_absolute_url()}#departures")


# --- cut now -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def train_cut_now(request: HttpRequest, team_slug: str, train_slug: str) -> HttpResponse:
    """GET: the confirmation page for browsers without JavaScript. POST: cut."""
    train = train_or_404(request.user, team_slug, train_slug)
    require_manager(request.user, train.team_id, action="cut an ad-hoc release")
    form = CutNowForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        release = cutting.train_cut_now(
            actor=request.user, train=train, note=form.cleaned_data["note"]
        )
        messages.success(
            request, f"Cut {release} (ad hoc). It targets {local_moment(release.target_at)}."
        )
        if request.htmx:
            return HttpResponse(headers={"HX-Redirect": release.get_absolute_url()})
        return redirect(release)
    context = {
        "page_title": f"Cut {train.name} now",
        "train": train,
        "form": form,
        "waiting": waiting_context(train, can_manage=True),
    }
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "releases/train_cut_now.html", context, status=status)


# --- departures: skip, postpone, restore -------------------------------------------------------


@require_POST
def departure_skip(request: HttpRequest, team_slug: str, train_slug: str, slot: str):
    train = train_or_404(request.user, team_slug, train_slug)
    slot_at = _slot_or_404(slot)
    form = DepartureSkipForm(request.POST)
    reason = form.cleaned_data["reason"].strip() if form.is_valid() else ""
    try:
        train_services.departure_skip(actor=request.user, train=train, slot=slot_at, reason=reason)
    except ValidationError as exc:
        return refused(request, train, exc)
    notice = (
        f"The departure of {local_moment(slot_at)} is skipped; later departures keep their times."
    )
    return _departures_done(request, train, notice)


@require_POST
def departure_restore(request: HttpRequest, team_slug: str, train_slug: str, slot: str):
    train = train_or_404(request.user, team_slug, train_slug)
    slot_at = _slot_or_404(slot)
    train_services.departure_restore(actor=request.user, train=train, slot=slot_at)
    return _departures_done(
        request, train, f"The departure of {local_moment(slot_at)} runs on the timetable again."
    )


@require_http_methods(["GET", "POST"])
def departure_postpone(request: HttpRequest, team_slug: str, train_slug: str, slot: str):
    train = train_or_404(request.user, team_slug, train_slug)
    slot_at = _slot_or_404(slot)
    require_manager(request.user, train.team_id, action="postpone departures")
    if slot_at not in set(train.timetable.occurrences(slot_at, slot_at + timedelta(seconds=1))):
        raise Http404("The timetable has no departure at that time.")
    form = DeparturePostponeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            exception = train_services.departure_postpone(
                actor=request.user,
                train=train,
                slot=slot_at,
                hours=form.cleaned_data["hours"],
                reason=form.cleaned_data["reason"].strip(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            departs = exception.slot + timedelta(hours=exception.postpone_hours)
            messages.success(
                request,
                f"The departure of {local_moment(slot_at)} now leaves {local_moment(departs)}. "
                "Later departures keep their times.",
            )
            return redirect(f"{train.get_absolute_url()}#departures")
    following = train.timetable.next_after(slot_at)
    current = train.exceptions.filter(slot=slot_at).first()
    context = {
        "page_title": f"Postpone a departure of {train.name}",
        "train": train,
        "form": form,
        "slot": slot_at,
        "next_slot": following[0] if following else None,
        "current": current,
        "show_train_tz": train.timezone != viewer_tz(),
    }
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "releases/departure_postpone.html", context, status=status)


# --- blackouts ---------------------------------------------------------------------------------


def blackout_list(request: HttpRequest) -> TemplateResponse:
    user = request.user
    managed = list(managed_teams(user))
    can_declare = bool(managed) or user.is_staff
    form = BlackoutForm(
        request.POST if request.method == "POST" else None,
        teams=managed,
        allow_everyone=user.is_staff,
    )
    if request.method == "POST":
        if not can_declare:
            raise PermissionDenied("Only a manager of a team can declare blackouts.")
        if form.is_valid():
            try:
                blackout = train_services.blackout_create(
                    actor=user,
                    team=form.selected_team(),
                    starts_on=form.cleaned_data["starts_on"],
                    ends_on=form.cleaned_data["ends_on"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, f"Blackout declared: {blackout}. Nothing of it departs on those days."
                )
                return redirect("releases:blackout_list")
    today = timezone.localdate()
    team_ids = {m.team_id for m in memberships_for_user(user)}
    managed_ids = {team.pk for team in managed}
    blackouts = selectors.blackouts_for_teams(team_ids, since=today)
    for blackout in blackouts:
        blackout.in_effect = blackout.covers(today)
        blackout.days = (blackout.ends_on - blackout.starts_on).days + 1
        blackout.can_lift = (
            user.is_staff if blackout.team_id is None else (blackout.team_id in managed_ids)
        )
    context = {
        "page_title": "Blackouts",
        "blackouts": blackouts,
        "form": form,
        "can_declare": can_declare,
    }
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, BLACKOUT_TEMPLATE, context, status=status)


@require_http_methods(["GET", "POST"])
def blackout_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: a confirmation page for browsers without JavaScript. POST: lift the blackout."""
    team_ids = {m.team_id for m in memberships_for_user(request.user)}
    visible = BlackoutPeriod.objects.filter(Q(team__isnull=True) | Q(team_id__in=team_ids))
    blackout = get_object_or_404(visible.select_related("team"), pk=pk)
    if request.method == "POST":
        train_services.blackout_delete(actor=request.user, blackout=blackout)
        messages.success(request, f"Blackout lifted: {blackout}.")
        if request.htmx:
            return HttpResponse(headers={"HX-Redirect": reverse("releases:blackout_list")})
        return redirect("releases:blackout_list")
    if blackout.team_id is None and not request.user.is_staff:
        raise PermissionDenied("Only an administrator can lift an organisation-wide blackout.")
    if blackout.team_id is not None:
        require_manager(request.user, blackout.team_id, action="lift blackouts")
    context = {"page_title": "Lift a blackout", "blackout": blackout}
    return TemplateResponse(request, "releases/blackout_delete.html", context)
