from django.urls import include, path

from releases.views import departures, releases, trains

# Everything below /trains/<team>/<train>/: the train page and its actions.
train_patterns = [
    path("", trains.train_detail, name="train_detail"),
    path("edit/", trains.train_edit, name="train_edit"),
    path("pause/", trains.train_pause, name="train_pause"),
    path("cut-now/", departures.train_cut_now, name="train_cut_now"),
    path("departures/<str:slot>/skip/", departures.departure_skip, name="departure_skip"),
    path(
        "departures/<str:slot>/postpone/", departures.departure_postpone, name="departure_postpone"
    ),
    path("departures/<str:slot>/restore/", departures.departure_restore, name="departure_restore"),
    path("changes/", trains.change_add, name="change_add"),
    path("changes/<int:pk>/ready/", trains.change_ready, name="change_ready"),
]

urlpatterns = [
    path("trains/", trains.train_list, name="train_list"),
    path("trains/new/", trains.train_create, name="train_create"),
    path("trains/preview/", trains.train_preview, name="train_preview"),
    path("trains/<slug:team_slug>/<slug:train_slug>/", include(train_patterns)),
    path("blackouts/", departures.blackout_list, name="blackout_list"),
    path("blackouts/<int:pk>/delete/", departures.blackout_delete, name="blackout_delete"),
    path("releases/<int:pk>/", releases.release_detail, name="release_detail"),
    path("releases/<int:pk>/transition/", releases.release_transition, name="release_transition"),
    path("releases/<int:pk>/captain/", releases.release_captain, name="release_captain"),
]
