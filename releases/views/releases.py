"""The release page: status, captain, times, changes, deployments, the timeline and its actions.

The status header, the actions and the timeline are one `{% partialdef main %}` that HTMX swaps
after a transition or a captain change. An illegal transition or a missing permission comes back
as a clear message and writes nothing.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.htmx import page_or_partial
from releases import selectors
from releases.forms import CaptainForm, TransitionForm, timetable_in_words
from releases.models import Release, ReleaseStatus
from releases.permissions import is_manager, require_manager
from releases.selectors_rotations import turn_for_departure
from releases.services import lifecycle
from releases.views.checklists import checklist_context, gates_context
from releases.views.rollback import rollback_context

TEMPLATE = "releases/release_detail.html"
S = ReleaseStatus
# What the button says for each next status.
ACTION_LABELS = {
    S.CUT: "Cut",
    S.STABILIZING: "Start stabilizing",
    S.APPROVED: "Approve",
    S.DEPLOYING: "Start deploying",
    S.RELEASED: "Mark released",
    S.ROLLED_BACK: "Roll back",
    S.CANCELLED: "Cancel release",
}
DESTRUCTIVE = (S.ROLLED_BACK, S.CANCELLED)
# The happy path, drawn as a stepper; a rolled back or cancelled release shows its badge instead.
HAPPY_PATH = (S.PLANNED, S.CUT, S.STABILIZING, S.APPROVED, S.DEPLOYING, S.RELEASED)


@dataclass(frozen=True)
class Action:
    to: str
    label: str


@dataclass(frozen=True)
class Step:
    label: str
    state: str  # done | current | upcoming


def _lifecycle_steps(status: str) -> list[Step]:
    if status not in HAPPY_PATH:
        return []
    current = HAPPY_PATH.index(status)
    return [
        Step(S(step).label, "done" if i < current else "current" if i == current else "upcoming")
        for i, step in enumerate(HAPPY_PATH)
    ]


def _release_or_404(user, pk: int) -> Release:
    try:
        return selectors.release_detail(user, pk)
    except Release.DoesNotExist:
        raise Http404("There is no such release in your teams.") from None


def _context(request: HttpRequest, release: Release, **extra) -> dict:
    user = request.user
    team_id = release.train.team_id
    can_manage = is_manager(user, team_id)
    allowed = [s for s in release.allowed_next() if lifecycle.can_transition(user, release, s)]
    forward = [Action(s, ACTION_LABELS[s]) for s in allowed if s not in DESTRUCTIVE]
    if allowed:
        blocked = ""
    elif release.allowed_next():
        blocked = "Only the release captain or a manager of the team can move this release on."
    else:
        blocked = "This release is finished; nothing moves it further."
    return {
        "page_title": str(release),
        "release": release,
        "train": release.train,
        "can_manage": can_manage,
        "forward_actions": forward,
        "can_roll_back": S.ROLLED_BACK in allowed,
        "can_cancel": S.CANCELLED in allowed,
        "blocked_reason": blocked,
        "lifecycle_steps": _lifecycle_steps(release.status),
        "now": timezone.now(),
        "captain_form": (
            CaptainForm(initial={"captain": release.captain_id}, team_id=team_id)
            if can_manage
            else None
        ),
        **gates_context(request, release, [(action.to, action.label) for action in forward]),
        **checklist_context(request, release),
        **rollback_context(request, release),
        "events": list(release.events.all()),
        "changes": list(release.changes.all()),
        "deployments": list(release.deployments.all()),
        "captain_turn": (
            turn_for_departure(release.train, release.slot)
            if release.slot and release.train.rotation_id
            else None
        ),
        "timetable_words": timetable_in_words(release.train.rrule, release.train.timezone),
        "show_train_tz": release.train.timezone != timezone.get_current_timezone_name(),
        **extra,
    }


def release_detail(request: HttpRequest, pk: int) -> TemplateResponse:
    release = _release_or_404(request.user, pk)
    return TemplateResponse(request, TEMPLATE, _context(request, release))


def _refused(request: HttpRequest, pk: int, message: str, status: int) -> HttpResponse:
    """Nothing was written: say why on the release page."""
    messages.error(request, message)
    if request.htmx:
        # htmx does not swap error responses; reloading shows the message where it belongs.
        return HttpResponse(status=status, headers={"HX-Refresh": "true"})
    release = _release_or_404(request.user, pk)
    return TemplateResponse(request, TEMPLATE, _context(request, release), status=status)


def _done(request: HttpRequest, pk: int, notice: str) -> HttpResponse:
    if request.htmx:
        release = _release_or_404(request.user, pk)
        template = page_or_partial(request, TEMPLATE, "main")
        return TemplateResponse(request, template, _context(request, release, notice=notice))
    messages.success(request, notice)
    return redirect("releases:release_detail", pk)


@require_POST
def release_transition(request: HttpRequest, pk: int) -> HttpResponse:
    release = _release_or_404(request.user, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        if "to" not in form.errors:
            errors = [error for field in form.errors.values() for error in field]
            return _transition_refused(request, release, form, errors)
        return _refused(request, pk, "Choose a status for the release to move to.", status=400)
    to_status = form.cleaned_data["to"]
    try:
        moved = lifecycle.release_transition(
            actor=request.user,
            release=release,
            to_status=to_status,
            note=form.cleaned_data["note"],
            override_reason=form.cleaned_data["override_reason"],
        )
    except ValidationError as exc:
        if to_status not in release.allowed_next():
            # The page was out of date: reload it, with the message on top.
            return _refused(request, pk, " ".join(exc.messages), status=400)
        # A move the page offered was refused (open items, a missing reason): say so next to
        # the form that asked for it.
        return _transition_refused(request, release, form, exc.messages)
    except PermissionDenied as exc:
        message = str(exc) or "You may not move this release."
        return _refused(request, pk, message, status=403)
    response = _done(request, pk, f"{moved} is {moved.get_status_display().lower()}.")
    if request.htmx:
        # The checklist panel reloads itself: what may be ticked, and whether it polls, changed.
        response["HX-Trigger"] = "releaseChanged"
    return response


def _transition_refused(
    request: HttpRequest, release: Release, form: TransitionForm, errors
) -> TemplateResponse:
    """Nothing was written: the card again, the errors next to the form that was sent."""
    to_status = form["to"].value()
    if form["override"].value():
        kind = "override"
    elif to_status in DESTRUCTIVE:
        kind = to_status
    else:
        kind = "forward"
    context = _context(
        request,
        release,
        transition_errors=errors,
        transition_kind=kind,
        transition_to=to_status,
        transition_note=form["note"].value() or "",
        transition_reason=form["override_reason"].value() or "",
    )
    template = page_or_partial(request, TEMPLATE, "main")
    return TemplateResponse(request, template, context, status=400)


@require_POST
def release_captain(request: HttpRequest, pk: int) -> HttpResponse:
    release = _release_or_404(request.user, pk)
    require_manager(request.user, release.train.team_id, action="assign the captain")
    form = CaptainForm(request.POST, team_id=release.train.team_id)
    if not form.is_valid():
        return _refused(request, pk, "Choose a member of the team as captain.", status=400)
    captain = form.cleaned_data["captain"]
    try:
        lifecycle.release_assign_captain(actor=request.user, release=release, captain=captain)
    except ValidationError as exc:
        return _refused(request, pk, " ".join(exc.messages), status=400)
    if captain is None:
        return _done(request, pk, f"{release} has no captain now.")
    return _done(request, pk, f"{captain.display_name} captains {release}.")
