from django.urls import path

from releases.views import calendar as views

urlpatterns = [
    path("calendar/", views.calendar_page, name="calendar"),
    path(
        "calendar/departures/<int:train_id>/<str:slot>/",
        views.departure_detail,
        name="departure_detail",
    ),
    path("calendar/feed/reset/", views.calendar_feed_reset_view, name="calendar_feed_reset"),
    path("calendar/feed/<str:key>.ics", views.calendar_feed, name="calendar_feed"),
]
