"""A team's checklist templates, and a train's release settings (checklist, rollback defaults).

Views parse input, call a service or selector, and render. Every write works twice: with htmx
the changed fragment comes back (a stage of the checklist, the add form, the settings card);
without JavaScript a plain POST redirects with a flash message. Invalid input answers 422 with
the form and its errors; a refusal is a PermissionDenied (403, or a reload under htmx so the
message shows); outsiders get 404.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Team
from accounts.selectors import memberships_for_user
from core.forms import add_service_errors
from core.htmx import reload_on_refusal
from releases import selectors, selectors_templates
from releases.forms_checklists import (
    ChecklistTemplateForm,
    TemplateItemForm,
    TrainReleaseSettingsForm,
)
from releases.models import (
    ChecklistTemplate,
    ChecklistTemplateItem,
    Train,
    TrainRollbackDefaults,
)
from releases.permissions import MANAGING_ROLES, is_manager, require_manager
from releases.services import checklists as checklist_services
from releases.services import rollback as rollback_services

LIST_TEMPLATE = "releases/checklist_template_list.html"
FORM_TEMPLATE = "releases/checklist_template_form.html"
DETAIL_TEMPLATE = "releases/checklist_template_detail.html"
DELETE_TEMPLATE = "releases/checklist_template_delete.html"
ITEM_EDIT_TEMPLATE = "releases/checklist_template_item_edit.html"
ITEM_REMOVE_TEMPLATE = "releases/checklist_template_item_remove.html"
SETTINGS_PAGE_TEMPLATE = "releases/checklist_template_train_settings.html"
SETTINGS_PARTIAL = "releases/partials/train_release_settings.html"
ADD_PREFIX = "add"
EDIT_ACTION = "edit checklists"


# --- lookups and small helpers -----------------------------------------------------------------


def _checklist_or_404(user, pk: int) -> ChecklistTemplate:
    try:
        return selectors_templates.template_detail(user, pk)
    except ChecklistTemplate.DoesNotExist:
        raise Http404("There is no such checklist in your teams.") from None


def _item_or_404(checklist: ChecklistTemplate, item_pk: int) -> ChecklistTemplateItem:
    try:
        return selectors_templates.template_item(checklist, item_pk)
    except ChecklistTemplateItem.DoesNotExist:
        raise Http404("This checklist has no such item.") from None


def _train_or_404(user, team_slug: str, train_slug: str) -> Train:
    try:
        return selectors.trains_for_user(user).get(team__slug=team_slug, slug=train_slug)
    except Train.DoesNotExist:
        raise Http404("There is no such train in your teams.") from None


def _detail_url(checklist: ChecklistTemplate, anchor: str = "") -> str:
    url = reverse("releases:checklist_template_detail", args=[checklist.pk])
    return f"{url}#{anchor}" if anchor else url


def _edit_form(item: ChecklistTemplateItem, data=None) -> TemplateItemForm:
    form = TemplateItemForm(
        data, prefix=f"item-{item.pk}", initial=TemplateItemForm.initial_for(item)
    )
    form.fields["text"].widget.attrs["autofocus"] = True  # the inline editor opens typing
    return form


# --- the list ----------------------------------------------------------------------------------


def checklist_template_list(request: HttpRequest) -> TemplateResponse:
    memberships = list(memberships_for_user(request.user))
    by_team: dict[int, list[ChecklistTemplate]] = {}
    for checklist in selectors_templates.template_list_for_user(request.user):
        by_team.setdefault(checklist.team_id, []).append(checklist)
    groups = [
        {"team": m.team, "can_manage": m.can_manage, "checklists": by_team.get(m.team_id, [])}
        for m in memberships
    ]
    context = {
        "page_title": "Checklists",
        "groups": groups,
        "checklist_count": sum(len(group["checklists"]) for group in groups),
        "can_create": any(m.can_manage for m in memberships),
    }
    return TemplateResponse(request, LIST_TEMPLATE, context)


@require_http_methods(["GET", "POST"])
def checklist_template_create(request: HttpRequest) -> HttpResponse:
    teams = Team.objects.filter(
        memberships__user=request.user, memberships__role__in=MANAGING_ROLES
    ).order_by("name")
    if not teams.exists():
        raise PermissionDenied("Only a manager of a team can create checklists.")
    if request.method == "POST":
        form = ChecklistTemplateForm(request.POST, teams=teams)
        if form.is_valid():
            try:
                checklist = checklist_services.template_create(
                    actor=request.user,
                    team=form.cleaned_data["team"],
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    description=form.cleaned_data["description"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Created the checklist “{checklist}”. Add its items.")
                return redirect(_detail_url(checklist, "item-add"))
        context = {"page_title": "New checklist", "form": form}
        return TemplateResponse(request, FORM_TEMPLATE, context, status=422)
    team = teams.filter(slug=request.GET.get("team", "")).first() or teams.first()
    form = ChecklistTemplateForm(teams=teams, initial={"team": team})
    return TemplateResponse(request, FORM_TEMPLATE, {"page_title": "New checklist", "form": form})


# --- the checklist page ------------------------------------------------------------------------


def _detail_context(request: HttpRequest, checklist: ChecklistTemplate, **extra) -> dict:
    can_manage = is_manager(request.user, checklist.team_id)
    items = list(checklist.items.all())
    context = {
        "page_title": checklist.name,
        "checklist": checklist,
        "stage_groups": selectors_templates.items_by_stage(items),
        "item_count": len(items),
        "trains": list(checklist.trains.all()),
        "can_manage": can_manage,
    }
    if can_manage:
        context["add_form"] = TemplateItemForm(prefix=ADD_PREFIX)
        context["details_form"] = ChecklistTemplateForm(
            initial=ChecklistTemplateForm.initial_for(checklist)
        )
    return {**context, **extra}


def checklist_template_detail(request: HttpRequest, pk: int) -> TemplateResponse:
    # Always the whole page: the inline editor's "Cancel" picks its row out of it (hx-select).
    checklist = _checklist_or_404(request.user, pk)
    return TemplateResponse(request, DETAIL_TEMPLATE, _detail_context(request, checklist))


@require_POST
@reload_on_refusal
def checklist_template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Name, kind and description."""
    checklist = _checklist_or_404(request.user, pk)
    require_manager(request.user, checklist.team_id, action=EDIT_ACTION)
    form = ChecklistTemplateForm(request.POST)
    if form.is_valid():
        try:
            checklist = checklist_services.template_update(
                actor=request.user, template=checklist, **form.cleaned_data
            )
        except ValidationError as exc:
            checklist.refresh_from_db()  # the service set the refused values on it
            add_service_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, f"Saved the checklist “{checklist}”.")
                return redirect(_detail_url(checklist))
            context = _detail_context(request, checklist, details_notice="Saved.")
            return TemplateResponse(request, f"{DETAIL_TEMPLATE}#details_saved", context)
    context = _detail_context(request, checklist, details_form=form, details_open=True)
    template = f"{DETAIL_TEMPLATE}#details" if request.htmx else DETAIL_TEMPLATE
    return TemplateResponse(request, template, context, status=422)


@require_http_methods(["GET", "POST"])
@reload_on_refusal
def checklist_template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation page naming the checklist and its trains. POST: delete it."""
    checklist = _checklist_or_404(request.user, pk)
    require_manager(request.user, checklist.team_id, action="delete checklists")
    if request.method == "POST":
        name = checklist.name
        checklist_services.template_delete(actor=request.user, template=checklist)
        messages.success(request, f"Deleted the checklist “{name}”. Releases keep their copies.")
        if request.htmx:
            return HttpResponse(
                headers={"HX-Redirect": reverse("releases:checklist_template_list")}
            )
        return redirect("releases:checklist_template_list")
    context = {
        "page_title": f"Delete {checklist.name}",
        "checklist": checklist,
        "trains": list(checklist.trains.all()),
    }
    return TemplateResponse(request, DELETE_TEMPLATE, context)


# --- items -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Changed:
    """Which stages of the page an item write changed, and what to tell the viewer."""

    stages: tuple[str, ...]
    notice: str
    anchor: str


def _stages_changed(request: HttpRequest, checklist: ChecklistTemplate, changed: _Changed):
    """htmx: the first changed stage replaces its section, the others come out of band.
    Without JavaScript: back to the page, at the item."""
    if not request.htmx:
        messages.success(request, changed.notice)
        return redirect(_detail_url(checklist, changed.anchor))
    checklist = _checklist_or_404(request.user, checklist.pk)  # the items as they are now
    context = _detail_context(request, checklist, notice=changed.notice)
    groups = {group.stage: group for group in context["stage_groups"]}
    context["main_group"] = groups[changed.stages[0]]
    context["oob_groups"] = [groups[stage] for stage in changed.stages[1:]]
    return TemplateResponse(
        request,
        f"{DETAIL_TEMPLATE}#stages_changed",
        context,
        headers={"HX-Retarget": f"#stage-{changed.stages[0]}", "HX-Reswap": "outerHTML"},
    )


@require_POST
@reload_on_refusal
def checklist_template_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    checklist = _checklist_or_404(request.user, pk)
    require_manager(request.user, checklist.team_id, action=EDIT_ACTION)
    form = TemplateItemForm(request.POST, prefix=ADD_PREFIX)
    if form.is_valid():
        try:
            item = checklist_services.template_item_add(
                actor=request.user, template=checklist, **form.item_fields()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            notice = f"Added “{item.text}” to {item.get_stage_display()}."
            if not request.htmx:
                messages.success(request, notice)
                return redirect(_detail_url(checklist, f"item-{item.pk}"))
            # A fresh form for the next item, in the same stage; the stage itself out of band.
            checklist = _checklist_or_404(request.user, pk)
            fresh = TemplateItemForm(
                prefix=ADD_PREFIX,
                initial={"stage": item.stage, "tickable_by": item.tickable_by},
            )
            context = _detail_context(request, checklist, add_form=fresh, notice=notice)
            context["oob_groups"] = [
                group for group in context["stage_groups"] if group.stage == item.stage
            ]
            return TemplateResponse(request, f"{DETAIL_TEMPLATE}#item_added", context)
    context = _detail_context(request, checklist, add_form=form)
    template = f"{DETAIL_TEMPLATE}#add_form" if request.htmx else DETAIL_TEMPLATE
    return TemplateResponse(request, template, context, status=422)


@require_http_methods(["GET", "POST"])
@reload_on_refusal
def checklist_template_item_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """GET: the inline editor (htmx) or an edit page. POST: save the item."""
    checklist = _checklist_or_404(request.user, pk)
    require_manager(request.user, checklist.team_id, action=EDIT_ACTION)
    item = _item_or_404(checklist, item_pk)
    old_stage = item.stage
    form = _edit_form(item, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                item = checklist_services.template_item_update(
                    actor=request.user, item=item, **form.item_fields()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                stages = tuple(dict.fromkeys((old_stage, item.stage)))
                notice = f"Saved “{item.text}”."
                return _stages_changed(
                    request, checklist, _Changed(stages, notice, f"item-{item.pk}")
                )
        item = _item_or_404(checklist, item_pk)  # as saved, not as refused
        status = 422
    context = {
        "page_title": f"Edit an item of {checklist.name}",
        "checklist": checklist,
        "item": item,
        "form": form,
    }
    template = f"{DETAIL_TEMPLATE}#item_edit_row" if request.htmx else ITEM_EDIT_TEMPLATE
    return TemplateResponse(request, template, context, status=status)


@require_POST
@reload_on_refusal
def checklist_template_item_move(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    checklist = _checklist_or_404(request.user, pk)
    item = _item_or_404(checklist, item_pk)
    direction = request.POST.get("direction", "")
    try:
        checklist_services.template_item_move(actor=request.user, item=item, direction=direction)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain")
    notice = f"Moved “{item.text}” {direction}."
    return _stages_changed(request, checklist, _Changed((item.stage,), notice, f"item-{item.pk}"))


@require_http_methods(["GET", "POST"])
@reload_on_refusal
def checklist_template_item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """GET: a confirmation page for browsers without JavaScript. POST: remove the item."""
    checklist = _checklist_or_404(request.user, pk)
    require_manager(request.user, checklist.team_id, action=EDIT_ACTION)
    item = _item_or_404(checklist, item_pk)
    if request.method == "POST":
        checklist_services.template_item_remove(actor=request.user, item=item)
        notice = f"Removed “{item.text}” from {checklist.name}."
        return _stages_changed(
            request, checklist, _Changed((item.stage,), notice, f"stage-{item.stage}")
        )
    context = {
        "page_title": f"Remove an item of {checklist.name}",
        "checklist": checklist,
        "item": item,
    }
    return TemplateResponse(request, ITEM_REMOVE_TEMPLATE, context)


# --- a train's release settings ----------------------------------------------------------------


@dataclass
class ReleaseSettings:
    """What templates/releases/partials/train_release_settings.html shows."""

    can_edit: bool
    checklist: ChecklistTemplate | None
    defaults: TrainRollbackDefaults | None
    form: TrainReleaseSettingsForm | None = None
    notice: str = ""
    open: bool = False  # the editor starts expanded (errors to fix, or its own page)


def train_release_settings_context(
    request: HttpRequest, train: Train, *, form=None, notice: str = "", open: bool = False
) -> dict:
    """What templates/releases/partials/train_release_settings.html needs."""
    can_edit = is_manager(request.user, train.team_id)
    defaults = selectors_templates.train_rollback_defaults(train)
    if can_edit and form is None:
        initial = TrainReleaseSettingsForm.initial_for(train, defaults)
        form = TrainReleaseSettingsForm(train=train, initial=initial)
    settings = ReleaseSettings(
        can_edit=can_edit,
        checklist=train.checklist_template,
        defaults=defaults,
        form=form if can_edit else None,
        notice=notice,
        open=open,
    )
    return {"release_settings": settings}


@require_http_methods(["GET", "POST"])
@reload_on_refusal
def train_release_settings(request: HttpRequest, team_slug: str, train_slug: str) -> HttpResponse:
    """GET: the settings on a page of their own. POST: save them (htmx: the card comes back)."""
    train = _train_or_404(request.user, team_slug, train_slug)
    require_manager(request.user, train.team_id, action="change trains")
    status, form, notice = 200, None, ""
    if request.method == "POST":
        defaults = selectors_templates.train_rollback_defaults(train)
        initial = TrainReleaseSettingsForm.initial_for(train, defaults)
        form = TrainReleaseSettingsForm(request.POST, train=train, initial=initial)
        if form.is_valid():
            try:
                # Both parts or neither: a refused rollback plan leaves the checklist as it was.
                with transaction.atomic():
                    if form.template_changed:
                        checklist_services.train_set_checklist_template(
                            actor=request.user,
                            train=train,
                            template=form.cleaned_data["checklist_template"],
                        )
                    if form.rollback_changed:
                        rollback_services.train_rollback_defaults_update(
                            actor=request.user,
                            train=train,
                            answers=form.answers(),
                            requires_plan=form.cleaned_data["requires_rollback_plan"],
                        )
            except ValidationError as exc:
                train = _train_or_404(request.user, team_slug, train_slug)
                add_service_errors(form, exc)
            else:
                notice = "Saved. Releases cut from now on get these settings."
                if not request.htmx:
                    messages.success(request, f"{train.name}: {notice}")
                    return redirect(f"{train.get_absolute_url()}#release-settings")
                train = _train_or_404(request.user, team_slug, train_slug)
                form = None
        if form is not None:
            status = 422
    context = {
        "page_title": f"Release settings of {train.name}",
        "train": train,
        **train_release_settings_context(
            request, train, form=form, notice=notice, open=form is not None or not request.htmx
        ),
    }
    template = SETTINGS_PARTIAL if request.htmx else SETTINGS_PAGE_TEMPLATE
    return TemplateResponse(request, template, context, status=status)
