from releases import (
    urls_calendar,
    urls_checklists,
    urls_rollback,
    urls_templates,
    urls_trains,
)

app_name = "releases"

# Pages are grouped by concern, each in its own module.
urlpatterns = [
    *urls_trains.urlpatterns,
    *urls_calendar.urlpatterns,
    *urls_checklists.urlpatterns,
    *urls_rollback.urlpatterns,
    *urls_templates.urlpatterns,
]
