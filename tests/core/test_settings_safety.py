"""Settings are safe by default; production variables pass Django's deployment checks.

Settings are read once per process, so each case runs manage.py in a fresh subprocess.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k3J9xv-Qm2pL7wR4tY8uZ1aB5cD6eF0gH3iJ9kL2mN4oP7qR1sT5uV8wX0yZ3aB6c",
    "ALLOWED_HOSTS": "releases.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://releases.example.com",
    "SITE_URL": "https://releases.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "USE_X_FORWARDED_PROTO": "true",
    "EMAIL_URL": "smtp+tls://stationmaster:secret@mail.example.com:587",
}


def _manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    clean.pop("SECRET_KEY", None)
    clean.pop("DEBUG", None)
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright in tests only
    # A developer's .env must not leak in: point DATA_DIR and the working dir elsewhere.
    full_env = {**clean, "DATA_DIR": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def test_check_deploy_reports_no_issues_with_production_variables(tmp_path):
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV, tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_the_insecure_defaults(tmp_path):
    # Without the TLS variables the same check must complain: proves the test above is not vacuous.
    env = {"DEBUG": "false", "SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"]}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = _manage("check", env={"DEBUG": "false", "SECRET_KEY": ""}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize("debug_value, expected", [(None, "False"), ("true", "True")])
def test_debug_is_off_unless_set(tmp_path, debug_value, expected):
    env = {"SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"]}
    if debug_value is not None:
        env["DEBUG"] = debug_value
    result = _manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)",
        env=env, tmp_path=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


def test_embedded_sqlite_is_opened_for_three_processes(tmp_path):
    """WAL, a busy timeout and IMMEDIATE transactions keep "database is locked" away."""
    env = {"SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"], "DATABASE_URL": ""}
    code = (
        "import json; from django.db import connection; "
        "connection.ensure_connection(); c = connection.cursor(); "
        "c.execute('PRAGMA journal_mode'); mode = c.fetchone()[0]; "
        "c.execute('PRAGMA busy_timeout'); busy = c.fetchone()[0]; "
        "print(json.dumps([mode, busy, connection.settings_dict['OPTIONS']['transaction_mode']]))"
    )
    result = _manage("shell", "-c", code, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    mode, busy_ms, transaction_mode = json.loads(result.stdout.strip().splitlines()[-1])
    assert mode == "wal"
    assert busy_ms >= 5000
    assert transaction_mode == "IMMEDIATE"
    assert (tmp_path / "db.sqlite3").exists()
