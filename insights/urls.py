from django.urls import path

from core.views import section_intro
from insights import views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path(
        "metrics/",
        section_intro,
        {
            "title": "Delivery metrics",
            "empty_title": "No delivery metrics yet",
            "empty_text": "Deployment frequency, change failure rate, lead time for changes and "
            "time to restore, per team, once deployments are recorded.",
        },
        name="metrics",
    ),
]
