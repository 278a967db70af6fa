"""Checklist templates of a team, and a train's release settings."""

urlpatterns = []
