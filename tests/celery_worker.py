"""A real Celery worker process for tests, consuming from the real Redis broker.

The worker runs manage.py's settings in a subprocess. When the suite runs on PostgreSQL it is
pointed at the test database, so tasks that read and write rows can be tested end to end.
"""

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def _database_url_for_worker() -> str | None:
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        return None  # an in-memory SQLite test database cannot be shared with another process
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


@contextmanager
def running_worker(*, timeout: float = 30):
    """Start `celery worker` on a queue of its own; yield the queue name; stop it afterwards."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "false",
    }
    database_url = _database_url_for_worker()
    if database_url:
        env["DATABASE_URL"] = database_url
        env["CONN_MAX_AGE"] = "0"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--pool", "solo", "--queues", queue, "--hostname", f"{queue}@%h",
            "--without-gossip", "--without-mingle", "--loglevel", "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        _wait_until_ready(process, queue, timeout)
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_ready(process: subprocess.Popen, queue: str, timeout: float) -> None:
    from config.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"the Celery worker exited early:\n{output}")
        replies = app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=0.5)
        if replies:
            return
    process.kill()
    raise RuntimeError("the Celery worker did not become ready in time")
