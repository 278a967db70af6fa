"""Tasks travel through the real Redis broker to a real worker process and back."""

import os
import time

import pytest
from django.conf import settings

from core.models import Heartbeat
from core.tasks import ping, record_heartbeat
from tests.celery_worker import running_worker
from tests.conftest import require


@pytest.fixture
def redis_broker():
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set: no real broker to test")
    assert settings.CELERY_BROKER_URL.startswith("redis://")


def test_a_task_round_trips_through_redis_and_a_worker(redis_broker):
    with running_worker() as queue:
        result = ping.apply_async(queue=queue)
        assert result.get(timeout=30) == "pong"


@pytest.mark.django_db(transaction=True)
def test_a_worker_writes_to_the_database(redis_broker):
    require(
        settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql",
        "needs PostgreSQL so the worker process can share the test database",
    )
    with running_worker() as queue:
        record_heartbeat.apply_async(queue=queue)
        # The task ignores its result, so poll the row it writes.
        deadline = time.monotonic() + 30
        while (
            time.monotonic() < deadline and not Heartbeat.objects.filter(name="scheduler").exists()
        ):
            time.sleep(0.2)
    heartbeat = Heartbeat.objects.get(name="scheduler")
    assert heartbeat.hostname.startswith(queue)


def test_the_beat_schedule_ticks_every_minute():
    from config.celery import app

    entry = app.conf.beat_schedule["record-heartbeat"]
    assert entry["task"] == "core.tasks.record_heartbeat"
    assert entry["schedule"].minute == set(range(60))


def test_tasks_are_acknowledged_late_and_time_limited():
    from config.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
