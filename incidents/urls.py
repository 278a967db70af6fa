from django.urls import path

from core.views import section_intro

app_name = "incidents"

urlpatterns = [
    path(
        "hotfixes/",
        section_intro,
        {
            "title": "Hotfixes",
            "empty_title": "No hotfix requests",
            "empty_text": "Engineers request a hotfix through a short form that runs a safe, "
            "reviewed workflow to production.",
        },
        name="hotfix_list",
    ),
    path(
        "incidents/",
        section_intro,
        {
            "title": "Incidents",
            "empty_title": "No incidents",
            "empty_text": "Incidents are opened by hand or by Alertmanager; roll back first, "
            "investigate later, and take the root cause to the retrospective.",
        },
        name="incident_list",
    ),
]
