"""Readiness checks, one per dependency. Each returns (ok, detail) and never raises."""

from django.conf import settings
from django.db import connections
from kombu import Connection

BROKER_TIMEOUT_SECONDS = 2


def check_database() -> tuple[bool, str]:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not ready"; the detail says which
        return False, f"{type(exc).__name__}: {exc}"
    return True, connections["default"].vendor


def check_broker() -> tuple[bool, str]:
    url = settings.CELERY_BROKER_URL
    try:
        with Connection(
            url,
            connect_timeout=BROKER_TIMEOUT_SECONDS,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
            # Redis connects lazily: a real command proves the server answers.
            if conn.transport_cls == "redis" or url.startswith(("redis://", "rediss://")):
                conn.default_channel.client.ping()
            transport = conn.transport.driver_name
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, transport


CHECKS = {"database": check_database, "broker": check_broker}
