"""Run web, Celery worker and Celery beat together in the foreground (the embedded default).

Ctrl-C (or SIGTERM) stops all three; if one of them dies, the others are stopped too, so a
half-running stack never looks healthy.
"""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

STOP_GRACE_SECONDS = 15


class Command(BaseCommand):
    help = "Start gunicorn, a Celery worker and Celery beat; stop them all on Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help="host:port for the web server")
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--worker-concurrency", type=int, default=2)

    def handle(self, *args, bind: str, web_workers: int, worker_concurrency: int, **options):
        python = sys.executable
        commands = {
            "web": [
                python, "-m", "gunicorn", "config.wsgi:application",
                "--bind", bind, "--workers", str(web_workers), "--access-logfile", "-",
            ],
            "worker": [
                python, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
                "--concurrency", str(worker_concurrency), "--hostname", "worker@%h",
            ],
            "beat": [
                python, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }  # fmt: skip
        processes = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}
        stopping = False

        def request_stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

        host, _, port = bind.rpartition(":")
        self.stdout.write(
            self.style.SUCCESS(f"Stationmaster is starting at http://{host or '127.0.0.1'}:{port}")
            + "  (web, worker and beat; Ctrl-C stops all of them)"
        )
        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"{name} exited with code {process.returncode}; stopping.")
                    exit_code = process.returncode or 1
                    stopping = True
                    break
            time.sleep(0.5)

        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        self.stdout.write("Stopped web, worker and beat.")
        sys.exit(exit_code)
