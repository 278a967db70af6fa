from releases import (
    urls_calendar,
    urls_checklists,
    urls_notifications,
    urls_rollback,
    urls_rotations,
    urls_templates,
    urls_trains,
)

app_name = "releases"

# Pages are grouped by concern, each in its own module.
urlpatterns = [
    *urls_trains.urlpatterns,
    *urls_calendar.urlpatterns,
    *urls_checklists.urlpatterns,
    *urls_rotations.urlpatterns,
    *urls_rollback.urlpatterns,
    *urls_notifications.urlpatterns,
    *urls_templates.urlpatterns,
]
