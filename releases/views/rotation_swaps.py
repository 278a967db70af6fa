"""Writes on the rotation page (swaps, cover, the handoff note) and the time-off page.

Swaps: the captain of a turn offers it with a reason, another member takes it, the offerer (or a
manager) withdraws it; a manager can arrange one for others. Cover: a manager makes someone
captain for a period or one turn. The handoff note is written by the outgoing captain or a
manager for the next turn. How the answers look (redirect, live part, 403/409/422) is described
in rotations.py, whose plumbing these views share.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from core.forms import attempt_service
from core.htmx import reload_on_refusal
from core.timefmt import local_moment
from releases.forms_rotations import (
    CoverForm,
    HandoffNoteForm,
    SwapArrangeForm,
    SwapOfferForm,
    TimeOffForm,
)
from releases.models import CaptainCover, RotationTurn, SwapRequest, Unavailability
from releases.permissions import MANAGING_ROLES, is_manager
from releases.services import rotation_duty as duty_services
from releases.views.rotations import (
    PageForms,
    invalid,
    refused,
    rotation_or_404,
    saved,
    team_people,
    unstarted_turns,
)

COVER_REMOVE_TEMPLATE = "releases/rotation_cover_remove.html"
TIME_OFF_TEMPLATE = "releases/rotation_time_off.html"
TIME_OFF_REMOVE_TEMPLATE = "releases/rotation_time_off_remove.html"
TIME_OFF_PER_PAGE = 50


def _turn_or_404(rotation, turn_pk: int) -> RotationTurn:
    try:
        return RotationTurn.objects.select_related("train", "captain").get(
            pk=turn_pk, rotation=rotation
        )
    except RotationTurn.DoesNotExist:
        raise Http404("This rotation has no such turn.") from None


def _swap_or_404(rotation, swap_pk: int) -> SwapRequest:
    try:
        return SwapRequest.objects.select_related("turn", "offered_by").get(
            pk=swap_pk, turn__rotation=rotation
        )
    except SwapRequest.DoesNotExist:
        raise Http404("This rotation has no such swap request.") from None


def _turn_words(turn: RotationTurn) -> str:
    if turn.train_id:
        return f"the {turn.train.name} departure of {local_moment(turn.ends_at)}"
    return f"the turn from {local_moment(turn.starts_at)}"


# --- swaps -------------------------------------------------------------------------------------


@require_POST
@reload_on_refusal
def swap_offer(request: HttpRequest, pk: int, turn_pk: int) -> HttpResponse:
    rotation = rotation_or_404(request.user, pk)
    turn = _turn_or_404(rotation, turn_pk)
    form = SwapOfferForm(request.POST, turn=turn)
    if form.is_valid():
        swap, refusal = attempt_service(
            form,
            lambda: duty_services.swap_open(
                actor=request.user, turn=turn, reason=form.cleaned_data["reason"]
            ),
        )
        if refusal:
            return refused(request, rotation, refusal)
        if swap is not None:
            notice = f"You offered {_turn_words(turn)}. The team has been told."
            return saved(request, pk, notice, anchor="swaps")
    return invalid(request, rotation, PageForms(offer=form))


@require_POST
@reload_on_refusal
def swap_take(request: HttpRequest, pk: int, swap_pk: int) -> HttpResponse:
    rotation = rotation_or_404(request.user, pk)
    swap = _swap_or_404(rotation, swap_pk)
    _, refusal = attempt_service(
        None, lambda: duty_services.swap_take(actor=request.user, swap=swap)
    )
    if refusal:
        return refused(request, rotation, refusal)
    notice = (
        f"You took {_turn_words(swap.turn)} from {swap.offered_by.display_name}. "
        "You are its captain now."
    )
    return saved(request, pk, notice, anchor="turns")


@require_POST
@reload_on_refusal
def swap_withdraw(request: HttpRequest, pk: int, swap_pk: int) -> HttpResponse:
    rotation = rotation_or_404(request.user, pk)
    swap = _swap_or_404(rotation, swap_pk)
    _, refusal = attempt_service(
        None, lambda: duty_services.swap_withdraw(actor=request.user, swap=swap)
    )
    if refusal:
        return refused(request, rotation, refusal)
    notice = f"Withdrew the offer of {_turn_words(swap.turn)}."
    return saved(request, pk, notice, anchor="swaps")


@require_POST
@reload_on_refusal
def swap_arrange(request: HttpRequest, pk: int) -> HttpResponse:
    rotation = rotation_or_404(request.user, pk)
    if not is_manager(request.user, rotation.team_id):
        raise PermissionDenied("Only a manager of this team can arrange swaps.")
    form = SwapArrangeForm(
        request.POST, people=team_people(rotation.team_id), turns=unstarted_turns(rotation)
    )
    if form.is_valid():
        turn = form.turns[form.cleaned_data["turn"]]
        taker = form.people[form.cleaned_data["taker"]]
        swap, refusal = attempt_service(
            form,
            lambda: duty_services.swap_arrange(
                actor=request.user, turn=turn, taker=taker, reason=form.cleaned_data["reason"]
            ),
        )
        if refusal:
            return refused(request, rotation, refusal)
        if swap is not None:
            notice = f"{taker.display_name} holds {_turn_words(turn)} now."
            return saved(request, pk, notice, anchor="turns")
    return invalid(request, rotation, PageForms(arrange=form))


# --- cover -------------------------------------------------------------------------------------


@require_POST
@reload_on_refusal
def cover_add(request: HttpRequest, pk: int) -> HttpResponse:
    rotation = rotation_or_404(request.user, pk)
    if not is_manager(request.user, rotation.team_id):
        raise PermissionDenied("Only a manager of this team can assign cover.")
    people = team_people(rotation.team_id)
    form = CoverForm(request.POST, people=people, turns=unstarted_turns(rotation))
    if form.is_valid():
        data = form.cleaned_data
        person = next(p for p in people if p.pk == data["user"])
        cover, refusal = attempt_service(
            form,
            lambda: duty_services.cover_add(
                actor=request.user,
                rotation=rotation,
                user=person,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                reason=data["reason"],
            ),
        )
        if refusal:
            return refused(request, rotation, refusal)
        if cover is not None:
            notice = (
                f"{person.display_name} covers from {local_moment(cover.starts_at)} "
                f"until {local_moment(cover.ends_at)}."
            )
            return saved(request, pk, notice, anchor="covers")
    return invalid(request, rotation, PageForms(cover=form))


@require_http_methods(["GET", "POST"])
@reload_on_refusal
def cover_remove(request: HttpRequest, pk: int, cover_pk: int) -> HttpResponse:
    """GET: a confirmation page naming the cover. POST: remove it."""
    rotation = rotation_or_404(request.user, pk)
    try:
        cover = CaptainCover.objects.select_related("user").get(pk=cover_pk, rotation=rotation)
    except CaptainCover.DoesNotExist:
        raise Http404("This rotation has no such cover.") from None
    if not is_manager(request.user, rotation.team_id):
        raise PermissionDenied("Only a manager of this team can remove cover.")
    cover.rotation = rotation
    if request.method == "POST":
        _, refusal = attempt_service(
            None, lambda: duty_services.cover_remove(actor=request.user, cover=cover)
        )
        if refusal:
            return refused(request, rotation, refusal)
        notice = f"Removed the cover by {cover.user.display_name}."
        return saved(request, pk, notice, anchor="covers")
    context = {
        "page_title": f"Remove cover from {rotation.name}",
        "rotation": rotation,
        "cover": cover,
    }
    return TemplateResponse(request, COVER_REMOVE_TEMPLATE, context)


# --- the handoff note --------------------------------------------------------------------------


@require_POST
@reload_on_refusal
def handoff_note(request: HttpRequest, pk: int, turn_pk: int) -> HttpResponse:
    rotation = rotation_or_404(request.user, pk)
    turn = _turn_or_404(rotation, turn_pk)
    form = HandoffNoteForm(request.POST)
    if form.is_valid():
        text = form.cleaned_data["text"]
        written, refusal = attempt_service(
            form,
            lambda: duty_services.handoff_note_write(actor=request.user, turn=turn, text=text),
        )
        if refusal:
            return refused(request, rotation, refusal)
        if written is not None:
            who = turn.captain.display_name if turn.captain else "the next captain"
            notice = f"Saved the handoff note for {who}." if text else "Removed the handoff note."
            return saved(request, pk, notice, anchor="handoff")
    return invalid(request, rotation, PageForms(handoff=form))


# --- time off ----------------------------------------------------------------------------------


def _people_managed_by(user: User) -> list[User]:
    """Members of the teams the viewer manages (themselves included), for the time-off form."""
    return list(
        User.objects.filter(
            memberships__team__memberships__user=user,
            memberships__team__memberships__role__in=MANAGING_ROLES,
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def _time_off_context(request: HttpRequest, *, form=None, notice: str = "") -> dict:
    user, now = request.user, timezone.now()
    people = _people_managed_by(user)
    own = Unavailability.objects.filter(user=user, ends_at__gt=now).order_by("starts_at", "pk")
    context = {
        "page_title": "Time off",
        "form": form or TimeOffForm(viewer=user, people=people),
        "own": Paginator(own.select_related("created_by"), TIME_OFF_PER_PAGE).get_page(
            request.GET.get("page")
        ),
        "team_time_off": None,
        "notice": notice,
        "viewer_tz": timezone.get_current_timezone_name(),
    }
    others = [person.pk for person in people if person.pk != user.pk]
    if others:
        theirs = (
            Unavailability.objects.filter(user_id__in=others, ends_at__gt=now)
            .select_related("user", "created_by")
            .order_by("starts_at", "pk")
        )
        context["team_time_off"] = Paginator(theirs, TIME_OFF_PER_PAGE).get_page(
            request.GET.get("team_page")
        )
    return context


@require_http_methods(["GET", "POST"])
@reload_on_refusal
def time_off(request: HttpRequest) -> HttpResponse:
    """GET: the viewer's time off (and their teams' for managers). POST: add a period."""
    if request.method == "GET":
        return TemplateResponse(request, TIME_OFF_TEMPLATE, _time_off_context(request))
    form = TimeOffForm(request.POST, viewer=request.user, people=_people_managed_by(request.user))
    if form.is_valid():
        data = form.cleaned_data
        person = form.person()
        away, refusal = attempt_service(
            form,
            lambda: duty_services.unavailability_add(
                actor=request.user,
                user=person,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                reason=data["reason"],
            ),
        )
        if refusal:
            form.add_error(None, refusal.messages)
        elif away is not None:
            who = "You are" if person.pk == request.user.pk else f"{person.display_name} is"
            notice = (
                f"{who} away from {local_moment(away.starts_at)} "
                f"until {local_moment(away.ends_at)}. "
                "Rotations skip the turns that overlap."
            )
            if not request.htmx:
                messages.success(request, notice)
                return redirect("releases:rotation_time_off")
            context = _time_off_context(request, notice=notice)
            return TemplateResponse(request, f"{TIME_OFF_TEMPLATE}#time_off", context)
    template = f"{TIME_OFF_TEMPLATE}#time_off" if request.htmx else TIME_OFF_TEMPLATE
    return TemplateResponse(request, template, _time_off_context(request, form=form), status=422)


@require_http_methods(["GET", "POST"])
@reload_on_refusal
def time_off_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: a confirmation page naming the period. POST: remove it."""
    user = request.user
    # Your own, or a teammate's (the service then refuses anyone but their manager); others 404.
    visible = Unavailability.objects.filter(
        Q(user=user) | Q(user__memberships__team__memberships__user=user)
    )
    away = visible.select_related("user").distinct().filter(pk=pk).first()
    if away is None:
        raise Http404("There is no such time off among your teams.")
    if away.user_id != user.pk and away.user not in _people_managed_by(user):
        raise PermissionDenied("Only the person themselves or a manager of their team can do this.")
    if request.method == "POST":
        duty_services.unavailability_remove(actor=user, unavailability=away)
        whose = "your" if away.user_id == user.pk else f"{away.user.display_name}'s"
        notice = f"Removed {whose} time off from {local_moment(away.starts_at)}."
        if not request.htmx:
            messages.success(request, notice)
            return redirect(reverse("releases:rotation_time_off"))
        context = _time_off_context(request, notice=notice)
        return TemplateResponse(request, f"{TIME_OFF_TEMPLATE}#time_off", context)
    context = {"page_title": "Remove time off", "away": away, "is_own": away.user_id == user.pk}
    return TemplateResponse(request, TIME_OFF_REMOVE_TEMPLATE, context)
