"""The release calendar (month, week, agenda), projected departure pages and the calendar feed.

Query parameters of /calendar/ (all optional; the canonical URL leaves defaults out):
  view=month|week|agenda (month), date=YYYY-MM-DD (today in the viewer's timezone),
  team=<team slug>, train=<train id>.
An HTMX request (previous / today / next, the view switcher, the filter selects) gets only the
`calendar` partial and an `HX-Push-Url` with the canonical URL; without JavaScript the same links
and the same GET form load the whole page. Unknown or foreign filter values are a 400 with the
error next to the filter, and are ignored for the calendar shown.
"""

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from releases.calendar import (
    DepartureNotFound,
    calendar_feed_token,
    calendar_trains,
    calendar_view,
    departure_for_user,
    filter_trains,
)
from releases.ics import calendar_ics_for_user, ics_response
from releases.models import Train
from releases.services.calendar_feed import calendar_feed_authenticate, calendar_feed_reset

TEMPLATE = "releases/calendar.html"
DEPARTURE_TEMPLATE = "releases/calendar_departure.html"
VIEW_LABELS = {"month": "Month", "week": "Week", "agenda": "Agenda"}
WEEKDAYS = [(name[:3], name) for name in ("Monday", "Tuesday", "Wednesday", "Thursday",
            "Friday", "Saturday", "Sunday")]  # fmt: skip


class CalendarFilterForm(forms.Form):
    view = forms.ChoiceField(choices=list(VIEW_LABELS.items()), required=False)
    date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Give the date as YYYY-MM-DD, such as 2026-12-01."},
    )
    team = forms.ChoiceField(required=False, label="Team")
    train = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Train")

    def __init__(self, *args, trains: list[Train], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        teams = {t.team.slug: t.team.name for t in trains}
        self.fields["team"].choices = [("", "All teams"), *teams.items()]
        self.fields["team"].error_messages["invalid_choice"] = "None of your teams is “%(value)s”."
        self.fields["train"].error_messages["invalid_choice"] = (
            "There is no train %(value)s in your teams."
        )
        # A bound form accepts any of the viewer's trains (a train left over from another team
        # is dropped in clean()); the rendered form lists only the chosen team's trains.
        team = None if self.is_bound else self.initial.get("team")
        listed = [t for t in trains if t.team.slug == team] if team in teams else trains
        groups: dict[str, list] = defaultdict(list)
        for train in listed:
            groups[train.team.name].append((train.pk, train.name))
        train_choices = (
            list(groups.items())
            if len(groups) > 1
            else [choice for group in groups.values() for choice in group]
        )
        self.fields["train"].choices = [("", "All trains"), *train_choices]
        self._team_of = {t.pk: t.team.slug for t in trains}

    def clean(self):
        cleaned = super().clean()
        team, train = cleaned.get("team"), cleaned.get("train")
        if team and train is not None and self._team_of.get(train) != team:
            # The team select changed while a train of another team was chosen: the team wins.
            cleaned["train"] = None
        return cleaned


@dataclass(frozen=True)
class CalendarQuery:
    """What the calendar shows; its URL is canonical (defaults left out) so it can be shared."""

    view: str = "month"
    day: date | None = None
    team: str = ""
    train: int | None = None

    @classmethod
    def from_form(cls, form: CalendarFilterForm) -> "CalendarQuery":
        # After is_valid(), cleaned_data holds only the valid fields: bad ones fall back.
        data = getattr(form, "cleaned_data", {})
        return cls(
            view=data.get("view") or "month",
            day=data.get("date"),
            team=data.get("team") or "",
            train=data.get("train"),
        )

    def params(self) -> dict:
        values = {
            "view": self.view if self.view != "month" else None,
            "date": self.day.isoformat() if self.day else None,
            "team": self.team or None,
            "train": self.train,
        }
        return {key: value for key, value in values.items() if value is not None}

    def url(self, **changes) -> str:
        query = urlencode(replace(self, **changes).params())
        return reverse("releases:calendar") + (f"?{query}" if query else "")

    @property
    def is_filtered(self) -> bool:
        return bool(self.team or self.train is not None)


def _feed_url(token, query: CalendarQuery | None = None) -> str:
    url = settings.SITE_URL + reverse("releases:calendar_feed", args=[token.key])
    if query is not None and query.is_filtered:
        url += "?" + urlencode({k: v for k, v in query.params().items() if k in ("team", "train")})
    return url


def _wants_partial(request: HttpRequest) -> bool:
    # A history restore (back button with an empty htmx cache) needs the whole page.
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


@require_GET
def calendar_page(request: HttpRequest) -> HttpResponse:
    trains = calendar_trains(request.user)
    form = CalendarFilterForm(request.GET, trains=trains)
    valid = form.is_valid()
    query = CalendarQuery.from_form(form)
    now = timezone.now()
    cal = calendar_view(
        filter_trains(trains, team=query.team, train=query.train),
        view=query.view,
        day=query.day or timezone.localdate(now),
        tz=timezone.get_current_timezone(),
        now=now,
    )
    if valid:
        # Render the canonical choices, e.g. drop a train left over from another team.
        form = CalendarFilterForm(initial={**query.params(), "view": query.view}, trains=trains)
    token = calendar_feed_token(request.user)
    anchor = None if cal.contains_today else query.day
    partial = _wants_partial(request)
    context = {
        "page_title": "Release calendar",
        "cal": cal,
        "form": form,
        "query": query,
        "previous_url": query.url(day=cal.previous),
        "next_url": query.url(day=cal.next),
        "today_url": query.url(day=None),
        # Switching views keeps the date, unless today is on screen: then it shows today.
        "view_links": [
            (key, label, query.url(view=key, day=anchor), key == query.view)
            for key, label in VIEW_LABELS.items()
        ],
        "agenda_url": query.url(view="agenda"),
        "clear_url": query.url(team="", train=None),
        "announce": partial,
        "weekdays": WEEKDAYS,
        "timezone_name": timezone.get_current_timezone_name(),
        "feed_token": token,
        "feed_url": _feed_url(token) if token else "",
        "filtered_feed_url": _feed_url(token, query) if token and query.is_filtered else "",
    }
    response = TemplateResponse(
        request,
        f"{TEMPLATE}#calendar" if partial else TEMPLATE,
        context,
        status=200 if valid else 400,
    )
    if partial:
        response["HX-Push-Url"] = query.url()
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
def departure_detail(request: HttpRequest, train_id: int, slot: str) -> HttpResponse:
    try:
        info = departure_for_user(request.user, train_id=train_id, key=slot, now=timezone.now())
    except DepartureNotFound as exc:
        raise Http404(str(exc)) from None
    if info.release is not None:
        return redirect(info.release)  # it departed: its release page tells the rest
    local_day = timezone.localtime(info.departure.departs_at).date()
    return TemplateResponse(
        request,
        DEPARTURE_TEMPLATE,
        {
            "page_title": f"{info.train.name} departure",
            "info": info,
            "departure": info.departure,
            "train": info.train,
            "calendar_url": CalendarQuery(day=local_day, train=info.train.pk).url(),
        },
    )


@require_POST
def calendar_feed_reset_view(request: HttpRequest) -> HttpResponse:
    had_one = calendar_feed_token(request.user) is not None
    token = calendar_feed_reset(actor=request.user)
    if getattr(request, "htmx", False):
        return TemplateResponse(
            request,
            f"{TEMPLATE}#feed",
            {"feed_token": token, "feed_url": _feed_url(token), "feed_changed": True},
        )
    if had_one:
        messages.success(request, "Your calendar URL is reset; the old one no longer works.")
    else:
        messages.success(
            request, "Your calendar URL is ready: subscribe to it in your calendar app."
        )
    return redirect(reverse("releases:calendar") + "#calendar-feed")


@login_not_required
@require_GET
def calendar_feed(request: HttpRequest, key: str) -> HttpResponse:
    """The per-user secret feed. The key is the only credential: an unknown one is a 404."""
    now = timezone.now()
    token = calendar_feed_authenticate(key=key, now=now)
    if token is None:
        raise Http404("No calendar feed has this address; it may have been reset.")
    train = request.GET.get("train") or None
    if train is not None and not train.isdigit():
        return HttpResponseBadRequest("train must be a train id.", content_type="text/plain")
    try:
        body = calendar_ics_for_user(
            token.user,
            team=request.GET.get("team") or None,
            train=int(train) if train else None,
            now=now,
        )
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages), content_type="text/plain")
    return ics_response(body)
