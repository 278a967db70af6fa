from releases import urls_calendar, urls_trains

app_name = "releases"

# Pages are grouped by concern, each in its own module.
urlpatterns = [*urls_trains.urlpatterns, *urls_calendar.urlpatterns]
