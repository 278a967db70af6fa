from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from accounts.views import LogoutWithMessageView
from config.api import api
from core import views as core_views


def _public(patterns: tuple) -> tuple:
    """The API authenticates each request by token, so the login-page redirect must not apply."""
    for pattern in patterns[0]:
        pattern.callback = login_not_required(pattern.callback)
    return patterns


admin.site.site_header = "Stationmaster administration"
admin.site.site_title = "Stationmaster admin"

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/logout/", LogoutWithMessageView.as_view(), name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", _public(api.urls)),
    path("", include("insights.urls")),
    path("", include("releases.urls")),
    path("", include("incidents.urls")),
    path("", include("flags.urls")),
]
