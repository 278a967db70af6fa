from django.contrib import admin

from releases.models import (
    BlackoutPeriod,
    CalendarFeedToken,
    ChangeItem,
    ChecklistItem,
    ChecklistTemplate,
    ChecklistTemplateItem,
    DepartureException,
    DepartureLog,
    Deployment,
    FailureMode,
    GateOverride,
    RehearsalRole,
    Release,
    ReleaseEvent,
    RollbackPlan,
    Train,
    TrainRollbackDefaults,
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
    list_select_related = ("train", "captain")


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


class ChecklistTemplateItemInline(admin.TabularInline):
    model = ChecklistTemplateItem
    extra = 0
    fields = ("stage", "position", "text", "help_text", "is_required", "tickable_by")


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "kind", "updated_at")
    list_filter = ("team", "kind")
    search_fields = ("name", "team__name")
    inlines = [ChecklistTemplateItemInline]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    """A release's own copy. Ticks go through the release page so they reach the timeline."""

    list_display = ("text", "release", "stage", "is_required", "ticked_at", "ticked_by")
    list_filter = ("stage", "is_required", "is_rehearsal")
    search_fields = ("text", "release__version", "release__train__name")
    list_select_related = ("release__train", "ticked_by")
    readonly_fields = ("ticked_at", "ticked_by")


@admin.register(RollbackPlan)
class RollbackPlanAdmin(admin.ModelAdmin):
    list_display = ("release", "revert_method", "revert_minutes", "rehearsed_on", "updated_at")
    list_filter = ("revert_method",)
    search_fields = ("release__version", "release__train__name")
    list_select_related = ("release__train",)


@admin.register(TrainRollbackDefaults)
class TrainRollbackDefaultsAdmin(admin.ModelAdmin):
    list_display = ("train", "revert_method", "revert_minutes", "updated_at")
    list_select_related = ("train",)


@admin.register(FailureMode)
class FailureModeAdmin(admin.ModelAdmin):
    list_display = ("description", "release", "created_by", "created_at")
    search_fields = ("description", "release__version")


@admin.register(RehearsalRole)
class RehearsalRoleAdmin(admin.ModelAdmin):
    list_display = ("role", "person", "release")
    search_fields = ("role", "release__version")


@admin.register(GateOverride)
class GateOverrideAdmin(admin.ModelAdmin):
    list_display = ("release", "to_status", "actor", "created_at")
    readonly_fields = ("release", "to_status", "reason", "open_items", "actor", "created_at")


@admin.register(ChecklistTemplateItem)
class ChecklistTemplateItemAdmin(admin.ModelAdmin):
    list_display = ("text", "template", "stage", "position", "is_required", "tickable_by")
    list_filter = ("stage", "is_required", "template__team")
    search_fields = ("text", "template__name")
    list_select_related = ("template",)


from releases import admin_rotations  # noqa: E402,F401  (registers the rotation and reminder admins)
