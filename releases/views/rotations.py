"""Captain rotation pages: the list, the rotation form, the rotation page, and deleting one.

The writes made on the rotation page itself (swaps, cover, the handoff note) and the time-off
page are in rotation_swaps.py; they share the plumbing here. Every write works twice:

- without JavaScript: a plain POST, then a redirect back to the rotation page with a flash
  message; invalid input re-renders the whole page with errors next to the fields (422);
- with HTMX: the page's live part (`{% partialdef live %}`: captain now, turns, swaps, cover,
  handoff note) re-rendered in place, with a notice or with the form's errors (422).

A refusal for who you are (PermissionDenied) is a 403 page; one for the state of things (the
turn has started, the swap was taken first) is a 409 with the reason on the rotation page.
Under HTMX both reload the page (`HX-Refresh`) so the message shows as a flash. Nothing is
written in either case. Rotations of other teams are 404s.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import Team, User
from accounts.selectors import memberships_for_user
from core.forms import add_service_errors
from core.htmx import reload_on_refusal
from releases import selectors_rotations
from releases.forms_rotations import (
    CoverForm,
    HandoffNoteForm,
    RotationForm,
    SwapArrangeForm,
    SwapOfferForm,
    turn_length_in_words,
)
from releases.models import (
    CaptainCover,
    Rotation,
    RotationTurn,
    SwapRequest,
    SwapState,
    Train,
    TurnSource,
)
from releases.permissions import MANAGING_ROLES, is_manager
from releases.services import rotations as rotation_services

LIST_TEMPLATE = "releases/rotation_list.html"
FORM_TEMPLATE = "releases/rotation_form.html"
DETAIL_TEMPLATE = "releases/rotation_detail.html"
DELETE_TEMPLATE = "releases/rotation_delete.html"
TURNS_SHOWN = 8
COVERS_PER_PAGE = 50
EDIT_NOTE = (
    "Changes apply from the next turn; turns that have started and releases already cut keep "
    "their captain."
)


# --- lookups -----------------------------------------------------------------------------------


def rotation_or_404(user: User, pk: int) -> Rotation:
    try:
        return selectors_rotations.rotations_for_user(user).get(pk=pk)
    except Rotation.DoesNotExist:
        raise Http404("There is no such rotation in your teams.") from None


def _managed_teams(user: User):
    # One filter() call: the role and the user must be on the same membership.
    return Team.objects.filter(
        memberships__user=user, memberships__role__in=MANAGING_ROLES
    ).order_by("name")


def team_people(team_id: int) -> list[User]:
    return list(
        User.objects.filter(memberships__team_id=team_id).order_by(
            "first_name", "last_name", "username"
        )
    )


def _team_trains(team_id: int) -> list[Train]:
    return list(Train.objects.filter(team_id=team_id).select_related("rotation").order_by("name"))


def unstarted_turns(rotation: Rotation) -> list[RotationTurn]:
    """The turns the cover and arrange forms offer: those on the page that have not started."""
    now = timezone.now()
    overview = selectors_rotations.rotation_overview(rotation, now=now, count=TURNS_SHOWN)
    return [turn for turn in overview.upcoming if turn.starts_at > now]


# --- the list ----------------------------------------------------------------------------------


@dataclass
class RotationSummary:
    rotation: Rotation
    words: str
    trains: list[Train]
    current: RotationTurn | None
    next_handoff: object  # datetime | None
    warning_count: int


def rotation_list(request: HttpRequest) -> TemplateResponse:
    now = timezone.now()
    memberships = list(memberships_for_user(request.user))
    rotations = list(
        selectors_rotations.rotations_for_user(request.user).order_by("team__name", "name")
    )
    states = selectors_rotations.rotation_states(rotations, now=now)
    by_team: dict[int, list[RotationSummary]] = {}
    for rotation in rotations:
        state = states[rotation.pk]
        summary = RotationSummary(
            rotation=rotation,
            words=turn_length_in_words(rotation),
            trains=list(rotation.trains.all()),
            current=state.current,
            next_handoff=state.next_handoff,
            warning_count=state.warning_count,
        )
        by_team.setdefault(rotation.team_id, []).append(summary)
    groups = [
        {"team": m.team, "can_manage": m.can_manage, "rotations": by_team.get(m.team_id, [])}
        for m in memberships
    ]
    context = {
        "page_title": "Rotations",
        "groups": groups,
        "rotation_count": len(rotations),
        "can_create": any(m.can_manage for m in memberships),
        "viewer_tz": timezone.get_current_timezone_name(),
    }
    return TemplateResponse(request, LIST_TEMPLATE, context)


# --- create and edit ---------------------------------------------------------------------------


def _form_page(request, form, *, team, rotation=None, teams=None, status=200) -> TemplateResponse:
    context = {
        "page_title": f"Edit {rotation.name}" if rotation else "New rotation",
        "form": form,
        "team": team,
        "teams": teams,
        "rotation": rotation,
        "edit_note": EDIT_NOTE,
    }
    return TemplateResponse(request, FORM_TEMPLATE, context, status=status)


@require_http_methods(["GET", "POST"])
def rotation_create(request: HttpRequest) -> HttpResponse:
    teams = _managed_teams(request.user)
    team_list = list(teams)
    if not team_list:
        raise PermissionDenied("Only a manager of a team can create rotations.")
    # The team decides whose members and trains the form offers: ?team=<slug>, or as posted.
    if request.method == "POST":
        chosen = request.POST.get("team", "")
        team = next((t for t in team_list if str(t.pk) == chosen), team_list[0])
    else:
        chosen = request.GET.get("team", "")
        team = next((t for t in team_list if t.slug == chosen), team_list[0])
    options = {"people": team_people(team.pk), "trains": _team_trains(team.pk), "teams": teams}
    if request.method == "POST":
        form = RotationForm(request.POST, **options)
        if form.is_valid():
            try:
                rotation = rotation_services.rotation_create(
                    actor=request.user, team=form.cleaned_data["team"], **form.rotation_fields()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Created the rotation “{rotation}”.")
                return redirect(rotation.get_absolute_url())
        return _form_page(request, form, team=team, teams=team_list, status=422)
    initial = {"team": team, "timezone": team.timezone, "starts_on": timezone.localdate()}
    form = RotationForm(initial=initial, **options)
    return _form_page(request, form, team=team, teams=team_list)


@require_http_methods(["GET", "POST"])
def rotation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rotation = rotation_or_404(request.user, pk)
    if not is_manager(request.user, rotation.team_id):
        raise PermissionDenied("Only a manager of this team can edit rotations.")
    trains = _team_trains(rotation.team_id)
    options = {"people": team_people(rotation.team_id), "trains": trains, "rotation": rotation}
    initial = RotationForm.initial_for(
        rotation, [train.pk for train in trains if train.rotation_id == rotation.pk]
    )
    if request.method == "POST":
        form = RotationForm(request.POST, initial=initial, **options)
        if form.is_valid():
            try:
                rotation = rotation_services.rotation_update(
                    actor=request.user, rotation=rotation, **form.rotation_fields()
                )
            except ValidationError as exc:
                rotation = rotation_or_404(request.user, pk)  # as saved, not as refused
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, f"Saved the rotation “{rotation}”. It applies from the next turn."
                )
                return redirect(rotation.get_absolute_url())
        return _form_page(request, form, team=rotation.team, rotation=rotation, status=422)
    form = RotationForm(initial=initial, **options)
    return _form_page(request, form, team=rotation.team, rotation=rotation)


@require_http_methods(["GET", "POST"])
@reload_on_refusal
def rotation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation page naming the rotation and its trains. POST: delete it."""
    rotation = rotation_or_404(request.user, pk)
    if not is_manager(request.user, rotation.team_id):
        raise PermissionDenied("Only a manager of this team can delete rotations.")
    if request.method == "POST":
        name = rotation.name
        rotation_services.rotation_delete(actor=request.user, rotation=rotation)
        messages.success(
            request, f"Deleted the rotation “{name}”. Releases already cut keep their captain."
        )
        if request.htmx:
            return HttpResponse(headers={"HX-Redirect": reverse("releases:rotation_list")})
        return redirect("releases:rotation_list")
    context = {
        "page_title": f"Delete {rotation.name}",
        "rotation": rotation,
        "trains": list(rotation.trains.all()),
    }
    return TemplateResponse(request, DELETE_TEMPLATE, context)


# --- the rotation page -------------------------------------------------------------------------


@dataclass
class TurnRow:
    turn: RotationTurn
    is_current: bool
    is_mine: bool
    open_swap: SwapRequest | None
    offer_form: SwapOfferForm | None  # the viewer captains it and it is not offered yet

    @property
    def why(self) -> str:
        """Why the captain is not simply the rotation's pick: “Ana is out of office → Bob”."""
        turn = self.turn
        if turn.source == TurnSource.SKIP and turn.captain:
            return f"{turn.reason} → {turn.captain.display_name}"
        return turn.reason


@dataclass
class PageForms:
    """Bound forms (with their errors) that replace the blank ones on a re-render."""

    cover: CoverForm | None = None
    arrange: SwapArrangeForm | None = None
    handoff: HandoffNoteForm | None = None
    offer: SwapOfferForm | None = None


def page_context(
    request: HttpRequest,
    rotation: Rotation,
    *,
    forms: PageForms | None = None,
    notice: str = "",
) -> dict:
    """What templates/releases/rotation_detail.html needs, the live part included."""
    forms = forms or PageForms()
    user, now = request.user, timezone.now()
    can_manage = is_manager(user, rotation.team_id)
    overview = selectors_rotations.rotation_overview(rotation, now=now, count=TURNS_SHOWN)
    current, upcoming = overview.current, list(overview.upcoming)
    open_swaps = list(
        SwapRequest.objects.filter(
            turn__rotation=rotation, state=SwapState.OPEN, turn__starts_at__gt=now
        )
        .select_related("turn", "turn__train", "turn__captain", "offered_by")
        .order_by("turn__starts_at")
    )
    swap_by_turn = {swap.turn_id: swap for swap in open_swaps}

    def row(turn: RotationTurn, is_current: bool) -> TurnRow:
        mine = turn.captain_id == user.pk
        swap = swap_by_turn.get(turn.pk)
        offer = None
        if mine and swap is None and turn.starts_at > now:
            bound = forms.offer if forms.offer and forms.offer.turn.pk == turn.pk else None
            offer = bound or SwapOfferForm(turn=turn)
        return TurnRow(turn, is_current, mine, swap, offer)

    rows = [row(turn, False) for turn in upcoming]
    next_turn = upcoming[0] if upcoming else None
    can_write_note = next_turn is not None and (
        can_manage or (current is not None and current.captain_id == user.pk)
    )
    covers = Paginator(
        CaptainCover.objects.filter(rotation=rotation, ends_at__gt=now)
        .select_related("user")
        .order_by("starts_at", "pk"),
        COVERS_PER_PAGE,
    ).get_page(request.GET.get("covers_page"))
    unstarted = [turn for turn in upcoming if turn.starts_at > now]  # what cover/swaps may change
    people = team_people(rotation.team_id) if can_manage else []
    cover_form = arrange_form = handoff_form = None
    if can_manage:
        cover_form = forms.cover or CoverForm(people=people, turns=unstarted)
        arrange_form = forms.arrange or SwapArrangeForm(people=people, turns=unstarted)
    if can_write_note:
        handoff_form = forms.handoff or HandoffNoteForm(initial={"text": next_turn.handoff_note})
    return {
        "page_title": rotation.name,
        "rotation": rotation,
        "words": turn_length_in_words(rotation),
        "trains": list(rotation.trains.all()),  # prefetched in order by the selector
        "members": list(rotation.members.all()),
        "can_manage": can_manage,
        "current": row(current, True) if current else None,
        "turn_rows": rows,
        "next_turn": next_turn,
        "warnings": list(selectors_rotations.rotation_warnings(rotation, now=now)),
        "open_swaps": open_swaps,
        "covers": covers,
        "cover_form": cover_form,
        "arrange_form": arrange_form,
        "handoff_form": handoff_form,
        "notice": notice,
        "show_rotation_tz": rotation.timezone != timezone.get_current_timezone_name(),
        "now": now,
    }


def rotation_detail(request: HttpRequest, pk: int) -> TemplateResponse:
    rotation = rotation_or_404(request.user, pk)
    return TemplateResponse(request, DETAIL_TEMPLATE, page_context(request, rotation))


# --- answering the page's writes (used by rotation_swaps.py) -----------------------------------


def saved(request: HttpRequest, pk: int, notice: str, *, anchor: str) -> HttpResponse:
    """htmx: the live part as it is now, with the notice; otherwise back to the page."""
    if not request.htmx:
        messages.success(request, notice)
        return redirect(f"{reverse('releases:rotation_detail', args=[pk])}#{anchor}")
    rotation = rotation_or_404(request.user, pk)
    context = page_context(request, rotation, notice=notice)
    return TemplateResponse(request, f"{DETAIL_TEMPLATE}#live", context)


def invalid(request: HttpRequest, rotation: Rotation, forms: PageForms) -> TemplateResponse:
    """The form with its errors: the live part under htmx, the whole page otherwise."""
    template = f"{DETAIL_TEMPLATE}#live" if request.htmx else DETAIL_TEMPLATE
    context = page_context(request, rotation, forms=forms)
    return TemplateResponse(request, template, context, status=422)


def refused(request: HttpRequest, rotation: Rotation, error: ValidationError) -> HttpResponse:
    """The state of things forbids this (the turn started, the swap was taken): say so."""
    messages.error(request, " ".join(error.messages))
    if request.htmx:
        return HttpResponse(status=409, headers={"HX-Refresh": "true"})
    return TemplateResponse(request, DETAIL_TEMPLATE, page_context(request, rotation), status=409)
