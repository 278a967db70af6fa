"""Rollback plans, critical releases and their rehearsal; the printable release sheet."""

from django.urls import path

from releases.views import critical_release, rollback

urlpatterns = [
    # GET: the panel (HTMX) or the release page at the panel; POST: save the plan.
    path("releases/<int:pk>/rollback-plan/", rollback.rollback_plan, name="rollback_plan"),
    path(
        "releases/<int:pk>/rollback-plan/rehearsed/",
        rollback.rollback_rehearsed,
        name="rollback_rehearsed",
    ),
    # GET: the panel; POST: mark or unmark the release critical.
    path("releases/<int:pk>/critical/", critical_release.release_critical, name="release_critical"),
    path(
        "releases/<int:pk>/failure-modes/",
        critical_release.failure_mode_add,
        name="failure_mode_add",
    ),
    path(
        "releases/<int:pk>/failure-modes/<int:mode_id>/delete/",
        critical_release.failure_mode_remove,
        name="failure_mode_remove",
    ),
    path(
        "releases/<int:pk>/roles/",
        critical_release.rehearsal_role_assign,
        name="rehearsal_role_assign",
    ),
    path(
        "releases/<int:pk>/roles/<int:role_id>/delete/",
        critical_release.rehearsal_role_remove,
        name="rehearsal_role_remove",
    ),
    path(
        "releases/<int:pk>/rehearsal/",
        critical_release.rehearsal_schedule,
        name="rehearsal_schedule",
    ),
    path("releases/<int:pk>/print/", rollback.release_print, name="release_print"),
]
