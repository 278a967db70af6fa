"""The beat task cuts through a real worker on the real Redis broker and PostgreSQL."""

import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from releases.models import Release
from releases.tasks import cut_due_trains_task
from tests.celery_worker import running_worker
from tests.conftest import require
from tests.releases.factories import TrainFactory


def test_beat_ticks_the_cutter_every_minute():
    entry = app.conf.beat_schedule["cut-due-trains"]
    assert entry["task"] == "releases.tasks.cut_due_trains_task"
    assert entry["schedule"].minute == set(range(60))


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_cuts_a_due_departure_once():
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set: no real broker to test")
    require(connection.vendor == "postgresql", "the worker shares the test database on PostgreSQL")
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    train = TrainFactory(handled_through=datetime.now(UTC) - timedelta(days=8))
    with running_worker() as queue:
        # Two ticks at once, as with a second beat: still exactly one cut.
        cut_due_trains_task.apply_async(queue=queue)
        cut_due_trains_task.apply_async(queue=queue)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not Release.objects.filter(train=train).exists():
            time.sleep(0.2)
        time.sleep(1)  # let the second tick finish too
    assert Release.objects.filter(train=train).count() == 1
