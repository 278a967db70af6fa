"""Team webhooks and the delivery log: pages for the managers of a team.

Engineers get a 403 that says who may; another team's webhook is a 404. Writes work with htmx
(the changed fragment, or a redirect header) and without JavaScript (a confirmation page, a
POST, a redirect with a flash message). The delivery log's filters are a GET form that htmx
turns into a table swap with a shareable URL.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.forms import add_service_errors
from core.htmx import reload_on_refusal
from releases import selectors_inbox
from releases.forms_notifications import DeliveryFilterForm, WebhookForm
from releases.models import NotificationKind, TeamWebhook
from releases.permissions import require_manager
from releases.services import webhooks as webhook_services
from releases.views.notifications import notification_nav_context

LIST_TEMPLATE = "releases/webhooks.html"
FORM_TEMPLATE = "releases/webhook_form.html"
DELETE_TEMPLATE = "releases/webhook_delete.html"
ROTATE_TEMPLATE = "releases/webhook_rotate.html"
LOG_TEMPLATE = "releases/notifications_deliveries.html"
PER_PAGE = 50
SIGNATURE_HEADER = "X-Stationmaster-Signature"
TIMESTAMP_HEADER = "X-Stationmaster-Timestamp"
KIND_LABELS = dict(NotificationKind.choices)


def _managed_teams_or_403(request: HttpRequest, what: str):
    teams = list(selectors_inbox.teams_managed_by(request.user))
    if not teams:
        raise PermissionDenied(f"Only a manager of a team can {what}.")
    return teams


def _webhook_or_404(request: HttpRequest, pk: int) -> TeamWebhook:
    try:
        webhook = selectors_inbox.webhook_for_member(request.user, pk)
    except TeamWebhook.DoesNotExist:
        raise Http404("There is no such webhook in your teams.") from None
    require_manager(request.user, webhook.team_id, action="manage its webhooks")
    return webhook


def _kind_labels(kinds: list[str]) -> list[str]:
    return [str(KIND_LABELS.get(kind, kind)) for kind in kinds]


def _signing_context() -> dict:
    return {"signature_header": SIGNATURE_HEADER, "timestamp_header": TIMESTAMP_HEADER}


# --- webhooks ------------------------------------------------------------------------------------


@require_GET
def webhook_list(request: HttpRequest) -> TemplateResponse:
    teams = _managed_teams_or_403(request, "see and change its webhooks")
    by_team: dict[int, list[TeamWebhook]] = {}
    for webhook in selectors_inbox.webhooks_for_manager(request.user):
        webhook.kind_labels = _kind_labels(webhook.kinds)
        by_team.setdefault(webhook.team_id, []).append(webhook)
    context = {
        "page_title": "Team webhooks",
        "groups": [{"team": team, "webhooks": by_team.get(team.pk, [])} for team in teams],
        "webhook_count": sum(len(hooks) for hooks in by_team.values()),
        **notification_nav_context(request, "webhooks", can_manage=True),
    }
    return TemplateResponse(request, LIST_TEMPLATE, context)


def _form_context(request: HttpRequest, form: WebhookForm, webhook=None, **extra) -> dict:
    return {
        "page_title": f"Webhook {webhook.name}" if webhook else "New webhook",
        "form": form,
        "webhook": webhook,
        **_signing_context(),
        **notification_nav_context(request, "webhooks", can_manage=True),
        **extra,
    }


@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    teams = _managed_teams_or_403(request, "add webhooks")
    team_choices = selectors_inbox.teams_managed_by(request.user)
    if request.method == "POST":
        form = WebhookForm(request.POST, teams=team_choices)
        if form.is_valid():
            try:
                webhook = webhook_services.webhook_create(
                    actor=request.user, team=form.cleaned_data["team"], **form.webhook_fields()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"Added the webhook “{webhook.name}” for {webhook.team.name}. "
                    "Copy its secret below if your service checks signatures.",
                )
                return redirect("releases:webhook_detail", pk=webhook.pk)
        return TemplateResponse(request, FORM_TEMPLATE, _form_context(request, form), status=422)
    chosen = next((t for t in teams if t.slug == request.GET.get("team")), teams[0])
    form = WebhookForm(teams=team_choices, initial={"team": chosen})
    return TemplateResponse(request, FORM_TEMPLATE, _form_context(request, form))


@require_http_methods(["GET", "POST"])
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the webhook's settings and its secret. POST: save the settings."""
    webhook = _webhook_or_404(request, pk)
    if request.method == "POST":
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                webhook_services.webhook_update(
                    actor=request.user, webhook=webhook, **form.webhook_fields()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Saved the webhook “{webhook.name}”.")
                return redirect("releases:webhook_detail", pk=webhook.pk)
        context = _form_context(request, form, webhook)
        return TemplateResponse(request, FORM_TEMPLATE, context, status=422)
    form = WebhookForm(initial=WebhookForm.initial_for(webhook))
    return TemplateResponse(request, FORM_TEMPLATE, _form_context(request, form, webhook))


@require_http_methods(["GET", "POST"])
@reload_on_refusal
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation naming the webhook. POST: delete it."""
    webhook = _webhook_or_404(request, pk)
    if request.method == "POST":
        name, team = webhook.name, webhook.team.name
        webhook_services.webhook_delete(actor=request.user, webhook=webhook)
        messages.success(request, f"Deleted the webhook “{name}” of {team}.")
        if request.htmx:
            return HttpResponse(headers={"HX-Redirect": reverse("releases:webhook_list")})
        return redirect("releases:webhook_list")
    context = {
        "page_title": f"Delete webhook {webhook.name}",
        "webhook": webhook,
        **notification_nav_context(request, "webhooks", can_manage=True),
    }
    return TemplateResponse(request, DELETE_TEMPLATE, context)


@require_http_methods(["GET", "POST"])
@reload_on_refusal
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation. POST: a new secret (htmx: the secret card comes back)."""
    webhook = _webhook_or_404(request, pk)
    if request.method == "POST":
        webhook = webhook_services.webhook_rotate_secret(actor=request.user, webhook=webhook)
        notice = "New secret made. The old one no longer signs deliveries: update your service."
        if request.htmx:
            context = {"webhook": webhook, "secret_notice": notice, **_signing_context()}
            return TemplateResponse(request, f"{FORM_TEMPLATE}#secret", context)
        messages.success(request, f"{webhook.name}: {notice}")
        return redirect(reverse("releases:webhook_detail", args=[webhook.pk]) + "#secret")
    context = {
        "page_title": f"New secret for {webhook.name}",
        "webhook": webhook,
        **notification_nav_context(request, "webhooks", can_manage=True),
    }
    return TemplateResponse(request, ROTATE_TEMPLATE, context)


@require_POST
@reload_on_refusal
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a sample notification now and say how it went (a flash on the webhook's page)."""
    webhook = _webhook_or_404(request, pk)
    try:
        webhook_services.webhook_send_test(actor=request.user, webhook=webhook)
    except ValidationError as exc:
        messages.error(request, f"The test to “{webhook.name}” failed: {' '.join(exc.messages)}")
    else:
        messages.success(request, f"The test reached “{webhook.name}”: it answered with success.")
    return redirect(reverse("releases:webhook_detail", args=[webhook.pk]) + "#test")


# --- the delivery log ----------------------------------------------------------------------------


def _wants_partial(request: HttpRequest) -> bool:
    # A history restore (back button with an empty htmx cache) needs the whole page.
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _log_url(query: dict, page: int = 1) -> str:
    params = {key: value for key, value in query.items() if value}
    if page > 1:
        params["page"] = page
    url = reverse("releases:delivery_list")
    return f"{url}?{urlencode(params)}" if params else url


@require_GET
def delivery_list(request: HttpRequest) -> TemplateResponse:
    teams = _managed_teams_or_403(request, "see its delivery log")
    form = DeliveryFilterForm(request.GET, teams=teams)
    valid = form.is_valid()
    query = form.query()
    deliveries = selectors_inbox.deliveries_for_manager(
        request.user, team=form.chosen_team(), status=query["status"], channel=query["channel"]
    )
    page = Paginator(deliveries, PER_PAGE).get_page(request.GET.get("page"))
    if valid:
        form = DeliveryFilterForm(initial=query, teams=teams)  # the canonical choices
    partial = _wants_partial(request)
    context = {
        "page_title": "Delivery log",
        "form": form,
        "page": page,
        "is_filtered": any(query.values()),
        "announce": partial,
        "clear_url": _log_url({}),
        "previous_url": _log_url(query, page.number - 1) if page.has_previous() else "",
        "next_url": _log_url(query, page.number + 1) if page.has_next() else "",
        **notification_nav_context(request, "deliveries", can_manage=True),
    }
    response = TemplateResponse(
        request,
        f"{LOG_TEMPLATE}#log" if partial else LOG_TEMPLATE,
        context,
        status=200 if valid else 400,
    )
    if partial:
        response["HX-Push-Url"] = _log_url(query, page.number)
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response
