"""Checklist templates of a team, and a train's release settings."""

from django.urls import path

from releases.views import checklist_templates as views

urlpatterns = [
    path("checklists/", views.checklist_template_list, name="checklist_template_list"),
    path("checklists/new/", views.checklist_template_create, name="checklist_template_create"),
    path("checklists/<int:pk>/", views.checklist_template_detail, name="checklist_template_detail"),
    path(
        "checklists/<int:pk>/edit/", views.checklist_template_edit, name="checklist_template_edit"
    ),
    path(
        "checklists/<int:pk>/delete/",
        views.checklist_template_delete,
        name="checklist_template_delete",
    ),
    path(
        "checklists/<int:pk>/items/",
        views.checklist_template_item_add,
        name="checklist_template_item_add",
    ),
    path(
        "checklists/<int:pk>/items/<int:item_pk>/edit/",
        views.checklist_template_item_edit,
        name="checklist_template_item_edit",
    ),
    path(
        "checklists/<int:pk>/items/<int:item_pk>/move/",
        views.checklist_template_item_move,
        name="checklist_template_item_move",
    ),
    path(
        "checklists/<int:pk>/items/<int:item_pk>/remove/",
        views.checklist_template_item_remove,
        name="checklist_template_item_remove",
    ),
    path(
        "trains/<slug:team_slug>/<slug:train_slug>/release-settings/",
        views.train_release_settings,
        name="train_release_settings",
    ),
]
