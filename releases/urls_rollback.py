"""Rollback plans, critical releases and their rehearsal; the printable release sheet."""

urlpatterns = []
