"""The release page's rollback plan and critical-release panels, the plan's writes, the print sheet.

Each panel is a template of its own (releases/partials/rollback_panel.html and
critical_panel.html) that the release page includes and that HTMX gets alone. The writes on the
critical-release panel are in critical_release.py; they share the plumbing here. Every write works
both ways:

- without JavaScript: POST, then a redirect back to the panel on the release page; invalid input
  re-renders the whole release page with the errors next to the fields (422);
- with HTMX: the panel re-rendered in place, or with its errors (422).

A refusal for who you are (PermissionDenied) is a 403 with its message (templates/403.html);
one for the release's state (a finished release) is a 409 with the reason on the release page.
Under HTMX both reload the page (`HX-Refresh`) so the message shows where it belongs. Nothing is
written in either case. Outsiders get a 404 for everything here.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import role_in_team
from core.forms import attempt_service
from core.htmx import reload_on_refusal
from releases.forms_rollback import (
    CriticalForm,
    FailureModeForm,
    RehearsalRoleForm,
    RehearsalScheduleForm,
    RehearsedForm,
    RollbackPlanForm,
)
from releases.models import FailureMode, RehearsalRole, Release, ReleaseStatus, RollbackPlan
from releases.permissions import MANAGING_ROLES
from releases.selectors_rollback import (
    Segment,
    StageItems,
    checklist_by_stage,
    detection_lines,
    failure_modes_of,
    rehearsal_roles_of,
    release_for_viewer,
    rollback_plan_of,
)
from releases.services import rollback
from releases.services.rollback import FINISHED

ROLLBACK, CRITICAL = "rollback", "critical"
TEMPLATES = {
    ROLLBACK: "releases/partials/rollback_panel.html",
    CRITICAL: "releases/partials/critical_panel.html",
}
# The panels' ids on the release page: redirects land on them, HTMX swaps them.
ANCHORS = {ROLLBACK: "rollback-plan", CRITICAL: "critical-release"}
PRINT_TEMPLATE = "releases/release_print.html"


# --- what the panels show ----------------------------------------------------------------------


@dataclass
class RollbackPanel:
    plan: RollbackPlan
    detection: list[list[Segment]]
    requires_plan: bool
    read_only: bool  # a finished release keeps its plan as it was
    rolled_back: bool  # the plan is what the team works from now: shown first, emphasised
    form: RollbackPlanForm | None
    rehearsed_form: RehearsedForm | None
    editing: bool  # the edit form starts open: errors to fix, or nothing answered yet
    notice: str = ""


@dataclass
class CriticalPanel:
    can_lead: bool  # captain or manager: marks critical, assigns roles, schedules the rehearsal
    can_mark: bool  # …and the release is still in flight
    read_only: bool
    failure_modes: list[FailureMode]
    roles: list[RehearsalRole]
    critical_form: CriticalForm | None
    failure_form: FailureModeForm | None
    role_form: RehearsalRoleForm | None
    schedule_form: RehearsalScheduleForm | None
    show_train_tz: bool
    editing_reason: bool = False
    notice: str = ""

    def focus(self, what: str) -> None:
        """After an HTMX add, put the cursor back into the (blank) form for the next one."""
        form, field = {
            "failure": (self.failure_form, "description"),
            "role": (self.role_form, "role"),
        }.get(what, (None, ""))
        if form is not None and not form.is_bound:
            form.fields[field].widget.attrs["autofocus"] = True


def _nothing_answered(plan: RollbackPlan) -> bool:
    return not (plan.detection or plan.revert_method or plan.revert_notes or plan.data_impact)


def rollback_context(
    request: HttpRequest,
    release: Release,
    *,
    plan_form: RollbackPlanForm | None = None,
    rehearsed_form: RehearsedForm | None = None,
    critical_form: CriticalForm | None = None,
    failure_form: FailureModeForm | None = None,
    role_form: RehearsalRoleForm | None = None,
    schedule_form: RehearsalScheduleForm | None = None,
    rollback_notice: str = "",
    critical_notice: str = "",
    focus: str = "",
) -> dict:
    """What templates/releases/partials/{rollback_panel,critical_panel}.html need.

    Bound forms passed in (with their errors) replace the blank ones.
    """
    user = request.user
    team_id = release.train.team_id
    role = role_in_team(user, team_id)
    can_lead = role is not None and (release.captain_id == user.pk or role in MANAGING_ROLES)
    finished = release.status in FINISHED
    plan = rollback_plan_of(release)

    rollback_panel = RollbackPanel(
        plan=plan,
        detection=detection_lines(plan.detection),
        requires_plan=release.train.requires_rollback_plan,
        read_only=finished,
        rolled_back=release.status == ReleaseStatus.ROLLED_BACK,
        form=None if finished else plan_form or RollbackPlanForm.for_plan(plan),
        rehearsed_form=None if finished else rehearsed_form or RehearsedForm(),
        editing=bool(plan_form is not None and plan_form.errors) or _nothing_answered(plan),
        notice=rollback_notice,
    )
    leads = can_lead and not finished
    critical_panel = CriticalPanel(
        can_lead=can_lead,
        can_mark=leads and release.status != ReleaseStatus.RELEASED,
        read_only=finished,
        failure_modes=failure_modes_of(release) if release.is_critical else [],
        roles=rehearsal_roles_of(release) if release.is_critical else [],
        critical_form=critical_form
        or CriticalForm(initial={"critical": "1", "critical_reason": release.critical_reason}),
        failure_form=None if finished else failure_form or FailureModeForm(),
        role_form=(role_form or RehearsalRoleForm(team_id=team_id)) if leads else None,
        schedule_form=(schedule_form or RehearsalScheduleForm(release=release)) if leads else None,
        show_train_tz=release.train.timezone != timezone.get_current_timezone_name(),
        editing_reason=bool(critical_form is not None and critical_form.errors),
        notice=critical_notice,
    )
    critical_panel.focus(focus)
    return {
        "rollback_panel": rollback_panel,
        "critical_panel": critical_panel,
        # For the release page: a rolled back release puts its plan first.
        "rollback_first": rollback_panel.rolled_back,
    }


# --- plumbing shared by the writes -------------------------------------------------------------


def release_or_404(request: HttpRequest, pk: int) -> Release:
    try:
        return release_for_viewer(request.user, pk)
    except Release.DoesNotExist:
        raise Http404("There is no such release in your teams.") from None


def _panel(
    request: HttpRequest, release: Release, panel: str, *, status: int = 200, **context
) -> TemplateResponse:
    context = {
        "release": release,
        "train": release.train,
        **rollback_context(request, release, **context),
    }
    return TemplateResponse(request, TEMPLATES[panel], context, status=status)


def _release_page(request: HttpRequest, release: Release, *, status: int, **context):
    """The whole release page (for browsers without JavaScript), panels built from `context`."""
    # releases.py includes this module for rollback_context, so import it when needed.
    from releases.views.releases import release_detail

    response = release_detail(request, release.pk)
    if context:
        response.context_data.update(rollback_context(request, release, **context))
    response.status_code = status
    return response


def show_panel(request: HttpRequest, pk: int, panel: str) -> HttpResponse:
    """GET: the panel alone for HTMX (to refresh it), otherwise the release page at the panel."""
    release = release_or_404(request, pk)
    if request.htmx:
        return _panel(request, release, panel)
    return redirect(f"{release.get_absolute_url()}#{ANCHORS[panel]}")


def invalid(request: HttpRequest, release: Release, panel: str, **forms) -> HttpResponse:
    if request.htmx:
        return _panel(request, release, panel, status=422, **forms)
    return _release_page(request, release, status=422, **forms)


def refused(request: HttpRequest, release: Release, error: ValidationError) -> HttpResponse:
    """The release's state forbids this (e.g. it is finished): say so, write nothing."""
    messages.error(request, " ".join(error.messages))
    if request.htmx:
        return HttpResponse(status=409, headers={"HX-Refresh": "true"})
    return _release_page(request, release, status=409)


def saved(
    request: HttpRequest, pk: int, panel: str, notice: str, *, trigger: str = "", focus: str = ""
) -> HttpResponse:
    if not request.htmx:
        messages.success(request, notice)
        return redirect(f"{reverse('releases:release_detail', args=[pk])}#{ANCHORS[panel]}")
    release = release_or_404(request, pk)  # fresh, as the service left it
    response = _panel(request, release, panel, focus=focus, **{f"{panel}_notice": notice})
    if trigger:
        # Other parts of the page (the checklist) refresh themselves on this event.
        response.headers["HX-Trigger"] = trigger
    return response


# --- the rollback plan -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@reload_on_refusal
def rollback_plan(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "GET":
        return show_panel(request, pk, ROLLBACK)
    release = release_or_404(request, pk)
    form = RollbackPlanForm(request.POST)
    if form.is_valid():
        plan, refusal = attempt_service(
            form,
            lambda: rollback.rollback_plan_update(
                actor=request.user, release=release, answers=form.answers()
            ),
        )
        if refusal:
            return refused(request, release, refusal)
        if plan is not None:
            notice = (
                "Rollback plan saved; it answers all three questions."
                if plan.is_complete
                else f"Rollback plan saved. Still open: {', '.join(plan.missing_answers)}."
            )
            return saved(request, pk, ROLLBACK, notice)
    return invalid(request, release, ROLLBACK, plan_form=form)


@require_POST
@reload_on_refusal
def rollback_rehearsed(request: HttpRequest, pk: int) -> HttpResponse:
    release = release_or_404(request, pk)
    form = RehearsedForm(request.POST)
    if form.is_valid():
        on = form.cleaned_data["rehearsed_on"]
        plan, refusal = attempt_service(
            form, lambda: rollback.rollback_rehearsed(actor=request.user, release=release, on=on)
        )
        if refusal:
            return refused(request, release, refusal)
        if plan is not None:
            notice = f"Recorded: the rollback was rehearsed on {date_format(on, 'j M Y')}."
            return saved(request, pk, ROLLBACK, notice)
    return invalid(request, release, ROLLBACK, rehearsed_form=form)


# --- the printable sheet -----------------------------------------------------------------------


@require_GET
def release_print(request: HttpRequest, pk: int) -> TemplateResponse:
    """The release on paper: header, checklist by stage with boxes, the plan, the rehearsal."""
    release = release_or_404(request, pk)
    plan = rollback_plan_of(release)
    stages: list[StageItems] = checklist_by_stage(release)
    critical = release.is_critical
    return TemplateResponse(
        request,
        PRINT_TEMPLATE,
        {
            "page_title": f"{release} · printable sheet",
            "release": release,
            "train": release.train,
            "stages": stages,
            "plan": plan,
            "detection": detection_lines(plan.detection),
            "failure_modes": failure_modes_of(release) if critical else [],
            "roles": rehearsal_roles_of(release) if critical else [],
            "release_url": request.build_absolute_uri(release.get_absolute_url()),
            "printed_at": timezone.now(),
            "show_train_tz": release.train.timezone != timezone.get_current_timezone_name(),
        },
    )
