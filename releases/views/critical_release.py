"""Writes on the critical-release panel: marking a release critical, failure modes, rehearsal.

They share the plumbing of rollback.py, which builds the panel and describes how every answer
looks (redirect or panel, 403/409/422).
"""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import attempt_service
from core.htmx import reload_on_refusal
from core.timefmt import local_moment
from releases.forms_rollback import (
    CriticalForm,
    FailureModeForm,
    RehearsalRoleForm,
    RehearsalScheduleForm,
)
from releases.models import FailureMode, RehearsalRole
from releases.services import rollback
from releases.views.rollback import CRITICAL, invalid, refused, release_or_404, saved, show_panel

# --- critical releases -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@reload_on_refusal
def release_critical(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "GET":
        return show_panel(request, pk, CRITICAL)
    release = release_or_404(request, pk)
    was_critical = release.is_critical
    form = CriticalForm(request.POST)
    if form.is_valid():
        critical = form.cleaned_data["critical"]
        updated, refusal = attempt_service(
            form,
            lambda: rollback.release_set_critical(
                actor=request.user,
                release=release,
                critical=critical,
                reason=form.cleaned_data["critical_reason"],
            ),
        )
        if refusal:
            return refused(request, release, refusal)
        if updated is not None:
            if critical and was_critical:
                notice = "The reason it is critical was updated."
            elif critical:
                notice = f"{release} is critical now; the rehearsal checklist was added."
            else:
                notice = f"{release} is no longer critical; unticked rehearsal items were removed."
            return saved(request, pk, CRITICAL, notice, trigger="checklistChanged")
    return invalid(request, release, CRITICAL, critical_form=form)


@require_POST
@reload_on_refusal
def failure_mode_add(request: HttpRequest, pk: int) -> HttpResponse:
    release = release_or_404(request, pk)
    form = FailureModeForm(request.POST)
    if form.is_valid():
        mode, refusal = attempt_service(
            form,
            lambda: rollback.failure_mode_add(
                actor=request.user,
                release=release,
                description=form.cleaned_data["description"],
                response=form.cleaned_data["response"],
            ),
        )
        if refusal:
            return refused(request, release, refusal)
        if mode is not None:
            return saved(request, pk, CRITICAL, f"Added “{mode}”.", focus="failure")
    return invalid(request, release, CRITICAL, failure_form=form)


@require_POST
@reload_on_refusal
def failure_mode_remove(request: HttpRequest, pk: int, mode_id: int) -> HttpResponse:
    release = release_or_404(request, pk)
    mode = get_object_or_404(FailureMode, pk=mode_id, release=release)
    mode.release = release
    try:
        rollback.failure_mode_remove(actor=request.user, mode=mode)
    except ValidationError as refusal:
        return refused(request, release, refusal)
    return saved(request, pk, CRITICAL, f"Removed “{mode}”.")


@require_POST
@reload_on_refusal
def rehearsal_role_assign(request: HttpRequest, pk: int) -> HttpResponse:
    release = release_or_404(request, pk)
    form = RehearsalRoleForm(request.POST, team_id=release.train.team_id)
    if form.is_valid():
        assignment, refusal = attempt_service(
            form,
            lambda: rollback.rehearsal_role_assign(
                actor=request.user,
                release=release,
                role=form.cleaned_data["role"],
                person=form.cleaned_data["person"],
            ),
        )
        if refusal:
            return refused(request, release, refusal)
        if assignment is not None:
            notice = f"{assignment.person.display_name}: {assignment.role}."
            return saved(request, pk, CRITICAL, notice, focus="role")
    return invalid(request, release, CRITICAL, role_form=form)


@require_POST
@reload_on_refusal
def rehearsal_role_remove(request: HttpRequest, pk: int, role_id: int) -> HttpResponse:
    release = release_or_404(request, pk)
    assignment = get_object_or_404(
        RehearsalRole.objects.select_related("person"), pk=role_id, release=release
    )
    assignment.release = release
    try:
        rollback.rehearsal_role_remove(actor=request.user, assignment=assignment)
    except ValidationError as refusal:
        return refused(request, release, refusal)
    return saved(request, pk, CRITICAL, f"Removed the role “{assignment.role}”.")


@require_POST
@reload_on_refusal
def rehearsal_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    release = release_or_404(request, pk)
    form = RehearsalScheduleForm(request.POST)
    if form.is_valid():
        at = form.at
        updated, refusal = attempt_service(
            form,
            lambda: rollback.rehearsal_schedule(actor=request.user, release=release, at=at),
        )
        if refusal:
            return refused(request, release, refusal)
        if updated is not None:
            notice = (
                f"Rehearsal on {local_moment(at, year=True)}."
                if at
                else "The rehearsal is unscheduled."
            )
            return saved(request, pk, CRITICAL, notice)
    return invalid(request, release, CRITICAL, schedule_form=form)
