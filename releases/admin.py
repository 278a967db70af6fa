from django.contrib import admin

from releases.models import (
    BlackoutPeriod,
    CalendarFeedToken,
    ChangeItem,
    DepartureException,
    DepartureLog,
    Deployment,
    Release,
    ReleaseEvent,
    Train,
)


class DepartureExceptionInline(admin.TabularInline):
    model = DepartureException
    extra = 0
    fields = ("slot", "kind", "postpone_hours", "reason", "created_by")
    readonly_fields = ("created_by",)


@admin.register(Train)
class TrainAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "rrule", "timezone", "is_paused", "handled_through")
    list_filter = ("team", "is_paused", "version_scheme")
    search_fields = ("name", "slug", "team__name")
    readonly_fields = ("handled_through", "created_by", "created_at", "updated_at")
    inlines = [DepartureExceptionInline]


class ReleaseEventInline(admin.TabularInline):
    model = ReleaseEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "actor", "from_status", "to_status", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    """Status changes go through the release page so they are validated and on the timeline."""

    list_display = ("__str__", "kind", "status", "captain", "cut_at", "target_at", "released_at")
    list_filter = ("status", "kind", "train__team")
    search_fields = ("version", "train__name")
    readonly_fields = ("status", "slot", "cut_at", "released_at", "finished_at")
    date_hierarchy = "cut_at"
    inlines = [ReleaseEventInline]


@admin.register(ReleaseEvent)
class ReleaseEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "release", "kind", "actor", "from_status", "to_status")
    list_filter = ("kind",)
    search_fields = ("release__version", "note")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChangeItem)
class ChangeItemAdmin(admin.ModelAdmin):
    list_display = ("title", "train", "release", "is_ready", "carried_over", "author")
    list_filter = ("is_ready", "train")
    search_fields = ("title", "external_id")


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ("release", "environment", "status", "started_at", "finished_at")
    list_filter = ("environment", "status")


@admin.register(DepartureLog)
class DepartureLogAdmin(admin.ModelAdmin):
    list_display = ("slot", "train", "outcome", "release", "recorded_at")
    list_filter = ("outcome", "train")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BlackoutPeriod)
class BlackoutPeriodAdmin(admin.ModelAdmin):
    list_display = ("__str__", "team", "starts_on", "ends_on")
    list_filter = ("team",)


@admin.register(DepartureException)
class DepartureExceptionAdmin(admin.ModelAdmin):
    list_display = ("slot", "train", "kind", "postpone_hours", "reason")
    list_filter = ("kind",)


@admin.register(CalendarFeedToken)
class CalendarFeedTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at", "last_used_at")
    exclude = ("key",)
