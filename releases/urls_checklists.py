"""Ticking a release's checklist (the release page's checklist panel)."""

urlpatterns = []
