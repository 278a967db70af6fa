"""The Celery app. Beat only ticks; what is due is read from the database at every tick."""

import os
from pathlib import Path

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("stationmaster")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The minute ticks. Each task decides from the database what is due, so a missed tick is
# caught up by the next one and schedules change without restarting beat.
EVERY_MINUTE = crontab(minute="*")
app.conf.beat_schedule = {
    "record-heartbeat": {"task": "core.tasks.record_heartbeat", "schedule": EVERY_MINUTE},
    "cut-due-trains": {
        "task": "releases.tasks.cut_due_trains_task",
        "schedule": EVERY_MINUTE,
        # A tick that waited longer than a minute is superseded by the next one.
        "options": {"expires": 55},
    },
    "send-due-reminders": {
        "task": "releases.tasks.send_due_reminders_task",
        "schedule": EVERY_MINUTE,
        "options": {"expires": 55},
    },
    # Turns are planned months ahead; hourly keeps the horizon moving and is cheap.
    "plan-rotations": {
        "task": "releases.tasks.plan_rotations_task",
        "schedule": crontab(minute=7),
        "options": {"expires": 55 * 60},
    },
    "prune-notifications": {
        "task": "releases.tasks.prune_notifications_task",
        "schedule": crontab(hour=3, minute=17),
        "options": {"expires": 60 * 60},
    },
}


@app.on_after_configure.connect
def _create_filesystem_broker_folders(sender: Celery, **kwargs) -> None:
    """The filesystem transport of the embedded default needs its folders to exist."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
