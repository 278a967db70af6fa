"""Ticking a release's checklist (the release page's checklist panel) and its gates."""

from django.urls import path

from releases.views import checklists

urlpatterns = [
    path("releases/<int:pk>/checklist/", checklists.checklist_panel, name="checklist_panel"),
    path(
        "releases/<int:pk>/checklist/<int:item_pk>/tick/",
        checklists.checklist_item_tick,
        name="checklist_tick",
    ),
    path("releases/<int:pk>/gates/", checklists.release_gates, name="release_gates"),
]
