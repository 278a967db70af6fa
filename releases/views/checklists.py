"""The release page's checklist panel: ticking, polling, gates.

- A tick is one POST saying what the user wants (`ticked=1` or `ticked=0`, never "toggle"), so a
  click on a stale page cannot undo someone else's tick. Under HTMX the answer is the row, with
  its stage's and the overall progress out of band; without JavaScript, a redirect back to the
  row. Someone else being first is reported in the row, never overwritten.
- While the release is live the panel polls `checklist_panel` every 5 s with the revision,
  status and captain it shows: unchanged is a 204 (one small query), anything else the panel.
- Tick and poll answers carry `HX-Trigger: checklistChanged`, so the gates in the "Move this
  release" card refresh themselves (`release_gates`).
"""

from collections.abc import Iterable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import role_in_team
from releases import selectors_checklists as selectors
from releases.models import ChecklistItem, Release
from releases.services import lifecycle
from releases.services.checklists import GATED_STAGES, can_override_gates, checklist_tick

PANEL = "releases/partials/checklist_panel.html"
GATES = "releases/release_detail.html#gates"
# Events other parts of the page listen for (`hx-trigger="… from:body"`).
CHECKLIST_CHANGED = "checklistChanged"


def checklist_context(request: HttpRequest, release: Release) -> dict:
    """What templates/releases/partials/checklist_panel.html needs."""
    return {
        "checklist": selectors.checklist_for_viewer(request.user, release),
        "gate_overrides": selectors.gate_overrides(release),
    }


def gates_context(request: HttpRequest, release: Release, actions: Iterable[tuple[str, str]]):
    """The gates part of the "Move this release" card. `actions` are the (status, button label)
    moves the viewer may make; those a checklist gate holds are watched and refreshed on ticks."""
    gated = [(to, label) for to, label in actions if to in GATED_STAGES]
    gates = selectors.release_gates(release, gated)
    return {
        "gates": gates,
        "gated_statuses": [gate.to_status for gate in gates],
        "watch_gates": bool(gated),
        "can_override_gates": bool(gates) and can_override_gates(request.user, release),
    }


def _release_or_404(request: HttpRequest, pk: int) -> Release:
    try:
        return selectors.release_for_checklist(request.user, pk)
    except Release.DoesNotExist:
        raise Http404("There is no such release in your teams.") from None


def _row_url(item: ChecklistItem) -> str:
    return f"{item.release.get_absolute_url()}#checklist-item-{item.pk}"


@require_POST
def checklist_item_tick(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    try:
        item = selectors.checklist_item_for_user(request.user, pk, item_pk)
    except ChecklistItem.DoesNotExist:
        raise Http404("There is no such checklist item in your teams.") from None
    wanted = request.POST.get("ticked")
    note = request.POST.get("note", "")
    if wanted not in ("0", "1"):
        return _not_ticked(request, item, "Say whether to tick or untick the item.")
    try:
        result = checklist_tick(actor=request.user, item=item, ticked=wanted == "1", note=note)
    except PermissionDenied as exc:
        return _refused(request, str(exc) or "You may not tick this item.")
    except ValidationError as exc:
        return _not_ticked(request, item, " ".join(exc.messages))
    conflict = result.conflict
    if conflict and note.strip():
        conflict += f" Your note was not saved: “{note.strip()}”"
    if not request.htmx:
        if conflict:
            messages.warning(request, conflict)
        return redirect(_row_url(item))
    groups, overall = selectors.checklist_progress(item.release_id)
    context = {
        "release": result.item.release,
        # No refusal: the service just let this viewer tick the item.
        "row": selectors.Row(result.item, conflict=conflict),
        "stage": groups[result.item.stage],
        "overall": overall,
    }
    response = TemplateResponse(request, f"{PANEL}#tick_answer", context)
    response["HX-Trigger"] = CHECKLIST_CHANGED
    return response


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    """Nothing was written. htmx does not swap a 403, so reload to show the message."""
    if request.htmx:
        messages.error(request, message)
        return HttpResponse(status=403, headers={"HX-Refresh": "true"})
    raise PermissionDenied(message)


def _not_ticked(request: HttpRequest, item: ChecklistItem, message: str) -> HttpResponse:
    """Nothing was written: the row (HTMX swaps a 400) or the release page says why."""
    if not request.htmx:
        messages.error(request, message)
        return redirect(_row_url(item))
    role = role_in_team(request.user, item.release.train.team_id)
    row = selectors.Row(
        item, refusal=selectors.tick_refusal(request.user, item, role=role), error=message
    )
    return TemplateResponse(
        request, f"{PANEL}#row", {"release": item.release, "row": row}, status=400
    )


def _shown_state(query) -> selectors.ChecklistState | None:
    """What the polling page shows, from its URL; None when the URL is not one we made."""
    try:
        captain = query.get("captain", "")
        return selectors.ChecklistState(
            revision=int(query["since"]),
            status=query.get("status", ""),
            captain_id=int(captain) if captain else None,
        )
    except (KeyError, ValueError):
        return None


@require_GET
def checklist_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The live panel's poll: 204 when nothing changed since the page was drawn."""
    state = selectors.checklist_state(request.user, pk)
    if state is None:
        raise Http404("There is no such release in your teams.")
    if not request.htmx:
        return redirect(Release(pk=pk).get_absolute_url() + "#checklist")
    shown = _shown_state(request.GET)
    if shown == state:
        return HttpResponse(status=204)
    release = _release_or_404(request, pk)
    context = {"release": release, **checklist_context(request, release)}
    response = TemplateResponse(request, f"{PANEL}#poll_answer", context)
    if shown is None or shown.revision != state.revision:
        response["HX-Trigger"] = CHECKLIST_CHANGED
    return response


@require_GET
def release_gates(request: HttpRequest, pk: int) -> HttpResponse:
    """The gates of the "Move this release" card, refreshed after ticks."""
    # The release page owns the button labels; it imports this module, hence the late import.
    from releases.views.releases import ACTION_LABELS

    release = _release_or_404(request, pk)
    if not request.htmx:
        return redirect(release.get_absolute_url())
    actions = [
        (to, ACTION_LABELS[to])
        for to in release.allowed_next()
        if to in GATED_STAGES and lifecycle.can_transition(request.user, release, to)
    ]
    context = {"release": release, **gates_context(request, release, actions)}
    return TemplateResponse(request, GATES, context)
