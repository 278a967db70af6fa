"""Admin pages for rotations, reminders and their delivery log."""

from django.contrib import admin

from releases.models import (
    CaptainCover,
    Delivery,
    Notification,
    Rotation,
    RotationMember,
    RotationTurn,
    SwapRequest,
    TeamWebhook,
    Unavailability,
)


class RotationMemberInline(admin.TabularInline):
    model = RotationMember
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "turn_length", "weeks", "timezone", "starts_on")
    list_filter = ("team", "turn_length")
    search_fields = ("name", "team__name")
    readonly_fields = ("planned_from", "created_by", "created_at", "updated_at")
    inlines = [RotationMemberInline]


@admin.register(RotationMember)
class RotationMemberAdmin(admin.ModelAdmin):
    list_display = ("rotation", "position", "user")
    list_filter = ("rotation__team",)
    autocomplete_fields = ("user",)


@admin.register(RotationTurn)
class RotationTurnAdmin(admin.ModelAdmin):
    list_display = ("rotation", "starts_at", "ends_at", "member", "captain", "source")
    list_filter = ("rotation__team", "source")
    date_hierarchy = "starts_at"
    raw_id_fields = ("train", "member", "captain", "handoff_note_by")


@admin.register(CaptainCover)
class CaptainCoverAdmin(admin.ModelAdmin):
    list_display = ("rotation", "user", "starts_at", "ends_at", "created_by")
    list_filter = ("rotation__team",)
    raw_id_fields = ("user", "created_by")


@admin.register(Unavailability)
class UnavailabilityAdmin(admin.ModelAdmin):
    list_display = ("user", "starts_at", "ends_at", "reason")
    search_fields = ("user__username", "reason")
    raw_id_fields = ("user", "created_by")


@admin.register(SwapRequest)
class SwapRequestAdmin(admin.ModelAdmin):
    list_display = ("turn", "offered_by", "state", "taken_by", "created_at")
    list_filter = ("state",)
    raw_id_fields = ("turn", "offered_by", "taken_by", "arranged_by")


@admin.register(TeamWebhook)
class TeamWebhookAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "url", "payload_format", "is_active")
    list_filter = ("team", "payload_format", "is_active")
    readonly_fields = ("created_by", "created_at", "updated_at")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "recipient", "kind", "created_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("title", "recipient__username")
    raw_id_fields = ("recipient",)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("kind", "recipient_key", "channel", "status", "attempts", "created_at")
    list_filter = ("status", "channel", "kind", "team")
    search_fields = ("subject", "recipient_key", "title", "last_error")
    raw_id_fields = ("recipient", "webhook", "team")
    date_hierarchy = "created_at"
