from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.selectors import memberships_for_user
from core.health import CHECKS
from core.models import Heartbeat
from releases.selectors import releases_in_flight_for_user, upcoming_departures_for_user
from releases.selectors_duties import duty_card_for_user


def dashboard(request: HttpRequest) -> TemplateResponse:
    now = timezone.now()
    context = {
        "page_title": "Dashboard",
        "memberships": memberships_for_user(request.user),
        "duty": duty_card_for_user(request.user, now=now),
        "in_flight": releases_in_flight_for_user(request.user)[:10],
        "departures": upcoming_departures_for_user(request.user, now=now),
    }
    if request.user.is_staff:
        context["system_checks"] = {name: check() for name, check in CHECKS.items()}
        context["scheduler"] = Heartbeat.objects.filter(name="scheduler").first()
    return TemplateResponse(request, "insights/dashboard.html", context)
