"""A person's notifications: the bell in the top bar, the inbox, and their notification settings.

Every write works twice: with htmx the changed fragment comes back and `HX-Trigger:
notificationsChanged` tells the bell to refresh itself; without JavaScript a plain POST
redirects back with a flash message. A person only ever sees and marks their own
notifications: anyone else's is a 404.
"""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.forms import add_service_errors
from releases import selectors_inbox
from releases.forms_notifications import NotificationSettingsForm
from releases.models import Notification
from releases.services.inbox import (
    notification_mark_read,
    notification_settings_update,
    notifications_mark_all_read,
)

INBOX_TEMPLATE = "releases/notifications.html"
BELL_TEMPLATE = "releases/partials/bell.html"
SETTINGS_TEMPLATE = "releases/notifications_settings.html"
PER_PAGE = 50
CHANGED = "notificationsChanged"
# The notification pages mark the bell current, not a section of the top bar.
NAV = "notifications"


def _page_number(page: str | None) -> int:
    try:
        return max(int(page or 1), 1)
    except ValueError:
        return 1


def _inbox_url(page: str | None = None) -> str:
    url, number = reverse("releases:notification_list"), _page_number(page)
    return f"{url}?page={number}" if number > 1 else url


def _safe_link(url: str) -> str:
    """Notification links are paths in the app or web addresses; anything else is not a link."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""
    if parts.scheme:
        return url if parts.scheme.lower() in ("http", "https") and parts.netloc else ""
    return url if url.startswith("/") and not url.startswith("//") else ""


def _linked(notifications) -> list[Notification]:
    notifications = list(notifications)
    for notification in notifications:
        notification.link = _safe_link(notification.url)
    return notifications


def notification_nav_context(
    request: HttpRequest, current: str, *, can_manage: bool | None = None
) -> dict:
    """The tabs under the notification pages' titles; managers also get webhooks and the log."""
    if can_manage is None:
        can_manage = selectors_inbox.teams_managed_by(request.user).exists()
    return {"nav_current": NAV, "notification_tab": current, "can_manage_teams": can_manage}


def _inbox_context(request: HttpRequest, page_number) -> dict:
    user = request.user
    paginator = Paginator(selectors_inbox.notifications_for_user(user), PER_PAGE)
    page: Page = paginator.get_page(page_number)
    page.object_list = _linked(page.object_list)
    unread = selectors_inbox.unread_count(user)
    return {
        "page_title": "Notifications",
        "page": page,
        "page_number": page.number,
        "unread": unread,
        "bell_unread": unread,
        "newest_id": selectors_inbox.newest_notification_id(user),
        **notification_nav_context(request, "inbox"),
    }


@require_GET
def notification_list(request: HttpRequest) -> TemplateResponse:
    context = _inbox_context(request, request.GET.get("page"))
    return TemplateResponse(request, INBOX_TEMPLATE, context)


@login_not_required  # a poll after logging out gets a quiet 204, not the login page in the bell
@never_cache
@require_GET
def notification_bell(request: HttpRequest) -> HttpResponse:
    """The bell's contents: an unread count badge, or none. Session, user and one COUNT."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    unread = selectors_inbox.unread_count(request.user)
    return TemplateResponse(request, BELL_TEMPLATE, {"bell_unread": unread})


@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        notification = selectors_inbox.notification_for_user(request.user, pk)
    except Notification.DoesNotExist:
        raise Http404("You have no such notification.") from None
    notification_mark_read(actor=request.user, notification=notification)
    if not request.htmx:
        return redirect(f"{_inbox_url(request.POST.get('page'))}#notification-{pk}")
    # The row as read, and the toolbar's unread count out of band.
    notification.link = _safe_link(notification.url)
    context = {
        "notification": notification,
        "unread": selectors_inbox.unread_count(request.user),
        "newest_id": selectors_inbox.newest_notification_id(request.user),
        "page_number": _page_number(request.POST.get("page")),
    }
    response = TemplateResponse(request, f"{INBOX_TEMPLATE}#read_answer", context)
    response["HX-Trigger"] = CHANGED
    return response


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    try:
        up_to_id = int(request.POST["up_to"])
    except (KeyError, ValueError):
        up_to_id = None  # no page behind the request: everything unread so far
    marked = notifications_mark_all_read(actor=request.user, up_to_id=up_to_id)
    page = request.POST.get("page")
    if not request.htmx:
        if marked:
            messages.success(
                request, f"Marked {marked} notification{'s' if marked != 1 else ''} read."
            )
        else:
            messages.info(request, "Nothing to mark: every notification was already read.")
        return redirect(_inbox_url(page))
    context = _inbox_context(request, page)
    response = TemplateResponse(request, f"{INBOX_TEMPLATE}#inbox", context)
    response["HX-Trigger"] = CHANGED
    return response


@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """GET: the grid of kinds and channels. POST: save it (htmx: the card comes back)."""
    user = request.user
    status, notice = 200, ""
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST)
        if form.is_valid():
            try:
                notification_settings_update(actor=user, settings=form.chosen())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                notice = "Saved. New notifications follow these settings."
                if not request.htmx:
                    messages.success(request, notice)
                    return redirect("releases:notification_settings")
                form = NotificationSettingsForm(user=user)
        if form.errors:
            status = 422
    else:
        form = NotificationSettingsForm(user=user)
    context = {
        "page_title": "Notification settings",
        "form": form,
        "notice": notice,
        "email": user.email_for_notifications,
        "email_is_separate": bool(user.notification_email),
        **notification_nav_context(request, "settings"),
    }
    template = f"{SETTINGS_TEMPLATE}#settings_answer" if request.htmx else SETTINGS_TEMPLATE
    return TemplateResponse(request, template, context, status=status)
