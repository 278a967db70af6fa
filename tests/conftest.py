import os
import shutil

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would refuse ORM calls
# from it without this. Tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def require(condition: bool, reason: str, *, strict_env: str = "REQUIRE_SERVICES") -> None:
    """Skip when a real component is missing locally; in CI (strict_env set) fail instead."""
    if condition:
        return
    if os.environ.get(strict_env):
        pytest.fail(f"{reason} ({strict_env} is set, so this must not be skipped)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_and_self_contained(request, settings, monkeypatch):
    # Reminders enqueue deliveries for a worker; no test leaves them in a real broker's queue.
    # Tests about enqueueing (marked `enqueue`) watch or run the task themselves.
    if not request.node.get_closest_marker("enqueue"):
        monkeypatch.setattr("releases.services.notifications._enqueue", lambda *a, **kw: None)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests render pages without running collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require(
        os.path.exists(CHROMIUM),
        f"Chromium not found at {CHROMIUM} (apt-get install chromium)",
        strict_env="REQUIRE_BROWSER",
    )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }
