"""`make run`'s last step: web, worker and beat start together on SQLite with no Redis,
serve /readyz, and all stop on Ctrl-C."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DEBUG="false",
        SECRET_KEY="embedded-test-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        DATA_DIR=str(tmp_path),
    )
    return env


def test_runstack_serves_and_stops_cleanly_on_ctrl_c(tmp_path):
    env = _embedded_env(tmp_path)
    manage = [sys.executable, str(ROOT / "manage.py")]
    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([*manage, *step], env=env, cwd=ROOT, check=True, timeout=180)

    port = _free_port()
    stack = subprocess.Popen(
        [*manage, "runstack", "--bind", f"127.0.0.1:{port}", "--web-workers", "1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []

    def collect_output():
        for line in stack.stdout:
            lines.append(line)

    reader = threading.Thread(target=collect_output, daemon=True)
    reader.start()
    try:
        ready = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and ready is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    ready = (r.status, json.load(r))
            except OSError:
                time.sleep(0.5)
        assert ready is not None, "the web server never answered"
        status, body = ready
        assert status == 200, body
        assert body["checks"]["database"]["detail"] == "sqlite"
        assert body["checks"]["broker"]["detail"] == "filesystem"

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as r:
            assert b"Log in" in r.read()
        # The web answers first; give worker and beat the time to report in on a busy machine.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            any("beat: Starting" in line for line in lines)
            and any("ready." in line for line in lines)
        ):
            time.sleep(0.5)
        assert stack.poll() is None, "a process of the stack died"
    finally:
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=40)
        reader.join(timeout=10)

    output = "".join(lines)

    assert stack.returncode == 0, output
    assert "Stopped web, worker and beat." in output
    assert "celery@" in output or "worker@" in output, "the worker started"
    assert "beat: Starting" in output, "beat started"
