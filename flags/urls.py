from django.urls import path

from core.views import section_intro

app_name = "flags"

urlpatterns = [
    path(
        "flags/",
        section_intro,
        {
            "title": "Feature flags",
            "empty_title": "No feature flags yet",
            "empty_text": "Deploy dark, then roll out to growing percentages, with a kill switch; "
            "served to OpenFeature and Unleash SDKs.",
        },
        name="flag_list",
    ),
]
