"""A person's notifications (the bell, the inbox, settings); team webhooks and the delivery log."""

from django.urls import path

from releases.views import notifications, webhooks

urlpatterns = [
    path("notifications/", notifications.notification_list, name="notification_list"),
    path("notifications/bell/", notifications.notification_bell, name="notification_bell"),
    path(
        "notifications/<int:pk>/read/",
        notifications.notification_read,
        name="notification_read",
    ),
    path(
        "notifications/read-all/",
        notifications.notification_read_all,
        name="notification_read_all",
    ),
    path(
        "notifications/settings/",
        notifications.notification_settings,
        name="notification_settings",
    ),
    path("notifications/webhooks/", webhooks.webhook_list, name="webhook_list"),
    path("notifications/webhooks/new/", webhooks.webhook_create, name="webhook_create"),
    # GET: the webhook's settings and secret; POST: save the settings.
    path("notifications/webhooks/<int:pk>/", webhooks.webhook_detail, name="webhook_detail"),
    path("notifications/webhooks/<int:pk>/delete/", webhooks.webhook_delete, name="webhook_delete"),
    path("notifications/webhooks/<int:pk>/test/", webhooks.webhook_test, name="webhook_test"),
    path(
        "notifications/webhooks/<int:pk>/rotate-secret/",
        webhooks.webhook_rotate,
        name="webhook_rotate",
    ),
    path("notifications/deliveries/", webhooks.delivery_list, name="delivery_list"),
]
