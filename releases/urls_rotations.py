"""Captain rotations: the list, the form, the rotation page and its writes, and time off."""

from django.urls import path

from releases.views import rotation_swaps as writes
from releases.views import rotations as views

urlpatterns = [
    path("rotations/", views.rotation_list, name="rotation_list"),
    path("rotations/new/", views.rotation_create, name="rotation_create"),
    path("rotations/time-off/", writes.time_off, name="rotation_time_off"),
    path(
        "rotations/time-off/<int:pk>/remove/",
        writes.time_off_remove,
        name="rotation_time_off_remove",
    ),
    path("rotations/<int:pk>/", views.rotation_detail, name="rotation_detail"),
    path("rotations/<int:pk>/edit/", views.rotation_edit, name="rotation_edit"),
    path("rotations/<int:pk>/delete/", views.rotation_delete, name="rotation_delete"),
    path("rotations/<int:pk>/covers/", writes.cover_add, name="rotation_cover_add"),
    path(
        "rotations/<int:pk>/covers/<int:cover_pk>/remove/",
        writes.cover_remove,
        name="rotation_cover_remove",
    ),
    path("rotations/<int:pk>/swaps/", writes.swap_arrange, name="rotation_swap_arrange"),
    path(
        "rotations/<int:pk>/turns/<int:turn_pk>/offer/",
        writes.swap_offer,
        name="rotation_swap_offer",
    ),
    path(
        "rotations/<int:pk>/turns/<int:turn_pk>/handoff-note/",
        writes.handoff_note,
        name="rotation_handoff_note",
    ),
    path(
        "rotations/<int:pk>/swaps/<int:swap_pk>/take/",
        writes.swap_take,
        name="rotation_swap_take",
    ),
    path(
        "rotations/<int:pk>/swaps/<int:swap_pk>/withdraw/",
        writes.swap_withdraw,
        name="rotation_swap_withdraw",
    ),
]
