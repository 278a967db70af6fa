"""Static checks for the container deployment files (Docker is not needed).

The Compose Specification JSON schema in ``compose-spec.json`` (next to this file) is
vendored verbatim from the GitHub repository ``compose-spec/compose-spec``, file
``schema/compose-spec.json`` (commit 00655e2222608fa6eaecdf12ac5195889ca2244a).
To update it, replace that file with a newer copy of the same path.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SCHEMA_FILE = Path(__file__).with_name("compose-spec.json")

APP_SERVICES = ("web", "worker", "beat")
ALL_SERVICES = ("postgres", "redis", "migrate", *APP_SERVICES)


# --- helpers -------------------------------------------------------------------------


class InterpolationError(ValueError):
    pass


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Resolve Compose-style ``$VAR``/``${VAR...}`` references (nested defaults allowed).

    Supports ``$$``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
    ``${VAR:?error}`` and ``${VAR?error}``, which is what docker-compose.yml uses.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$":
            out.append(char)
            i += 1
            continue
        nxt = text[i + 1 : i + 2]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt != "{":
            match = _NAME.match(text, i + 1)
            if match:
                out.append(env.get(match.group(), ""))
                i = match.end()
            else:
                out.append("$")
                i += 1
            continue
        # ${...}: find the matching closing brace, honouring nested ${...}.
        depth, j = 1, i + 2
        while j < len(text) and depth:
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
            j += 1
        if depth:
            raise InterpolationError(f"unterminated ${{ in {text!r}")
        body = text[i + 2 : j - 1]
        name_match = _NAME.match(body)
        if not name_match:
            raise InterpolationError(f"invalid variable name in {text!r}")
        name, rest = name_match.group(), body[name_match.end() :]
        value = env.get(name)
        if rest == "":
            out.append(value or "")
        elif rest[:2] in (":-", ":?") or rest[:1] in ("-", "?"):
            colon = rest.startswith(":")
            op = rest[1] if colon else rest[0]
            arg = rest[2:] if colon else rest[1:]
            missing = value is None or (colon and value == "")
            if not missing:
                out.append(value)
            elif op == "-":
                out.append(_interpolate(arg, env))
            else:
                reason = _interpolate(arg, env)
                raise InterpolationError(f"required variable {name} is missing a value: {reason}")
        else:
            raise InterpolationError(f"unsupported expression ${{{body}}}")
        i = j
    return "".join(out)


def _interpolate_tree(node, env: dict[str, str]):
    if isinstance(node, dict):
        return {key: _interpolate_tree(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolate_tree(value, env) for value in node]
    if isinstance(node, str):
        return _interpolate(node, env)
    return node


def _load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _fast_and_self_contained():
    """Override the Django-specific autouse fixture from tests/conftest.py.

    These checks only read files, so they run without Django settings (and with
    ``-p no:django``, where pytest-django's ``settings`` fixture does not exist).
    """


@pytest.fixture(scope="module")
def compose() -> dict:
    return _load_compose()


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def _errors(validator: Draft7Validator, document: dict) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    ]


def _python_code_in(command: list[str]) -> str:
    assert "-c" in command, command
    return command[command.index("-c") + 1]


# --- docker-compose.yml --------------------------------------------------------------


def test_vendored_schema_is_the_compose_specification():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["title"] == "Compose Specification"
    assert "service" in schema["definitions"]


def test_compose_file_is_valid_against_compose_spec(compose, validator):
    assert _errors(validator, compose) == []


def test_compose_file_is_valid_after_interpolation(compose, validator):
    resolved = _interpolate_tree(compose, {"SECRET_KEY": "test-secret"})
    assert _errors(validator, resolved) == []

    env = resolved["services"]["web"]["environment"]
    assert env["SECRET_KEY"] == "test-secret"
    assert env["DATABASE_URL"] == (
        "postgres://stationmaster:stationmaster@postgres:5432/stationmaster"
    )
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert resolved["services"]["web"]["ports"] == ["8000:8000"]


def test_compose_requires_secret_key(compose):
    with pytest.raises(InterpolationError, match="SECRET_KEY"):
        _interpolate_tree(compose, {})


def test_postgres_password_flows_into_database_url(compose):
    resolved = _interpolate_tree(compose, {"SECRET_KEY": "x", "POSTGRES_PASSWORD": "s3cret"})
    assert resolved["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == "s3cret"
    assert ":s3cret@postgres:5432/" in resolved["services"]["worker"]["environment"]["DATABASE_URL"]


def test_compose_has_no_obsolete_version_key(compose):
    assert "version" not in compose


def test_expected_services_exist(compose):
    assert set(ALL_SERVICES) <= set(compose["services"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_migrations(compose, name):
    depends_on = compose["services"][name]["depends_on"]
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert depends_on["redis"]["condition"] == "service_healthy"


def test_migrate_is_one_shot(compose):
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_beat_runs_exactly_once(compose):
    beat = compose["services"]["beat"]
    assert beat["deploy"]["replicas"] == 1
    assert "scale" not in beat
    assert "--schedule" in beat["command"]
    assert beat["command"][beat["command"].index("--schedule") + 1].startswith("/app/var/")


def test_long_running_services_restart_and_have_healthchecks(compose):
    long_running = {
        name: service
        for name, service in compose["services"].items()
        if service.get("restart") == "unless-stopped"
    }
    assert set(long_running) == {"postgres", "redis", "web", "worker", "beat"}
    for name, service in long_running.items():
        if name == "beat":  # beat serves nothing to probe; it may have no healthcheck
            continue
        healthcheck = service.get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        assert not healthcheck.get("disable"), f"{name} healthcheck is disabled"
        assert healthcheck.get("test"), f"{name} healthcheck has no test"


def test_web_healthcheck_probes_readyz(compose):
    test = compose["services"]["web"]["healthcheck"]["test"]
    code = _python_code_in(test)
    assert "/readyz" in code
    compile(code, "<web healthcheck>", "exec")


def test_worker_healthcheck_pings_its_own_node(compose):
    test = compose["services"]["worker"]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    assert "inspect ping" in test[1]
    # $$ is Compose's escape, so the container's shell expands $HOSTNAME.
    assert "celery@$$HOSTNAME" in test[1]


def test_app_services_share_env_file_and_volume(compose):
    for name in ("migrate", *APP_SERVICES):
        service = compose["services"][name]
        assert service["build"]["context"] == "."
        assert service["env_file"] == [{"path": ".env", "required": False}]
        assert "app-var:/app/var" in service["volumes"]
    assert {"postgres-data", "app-var"} <= set(compose["volumes"])


# --- Dockerfile ----------------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with comments dropped and continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        keyword, _, args = pending.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    assert not pending, "Dockerfile ends with a line continuation"
    return instructions


def test_dockerfile_essentials():
    instructions = _dockerfile_instructions()
    by_keyword: dict[str, list[str]] = {}
    for keyword, args in instructions:
        by_keyword.setdefault(keyword, []).append(args)

    # Base image and layout.
    assert any("python:3.13-slim" in args for args in by_keyword.get("ARG", [])), by_keyword
    assert by_keyword["WORKDIR"][-1] == "/app"
    assert "8000" in by_keyword["EXPOSE"][-1].split()

    # Non-root user for the final stage.
    users = by_keyword.get("USER", [])
    assert users, "Dockerfile has no USER instruction"
    assert users[-1].split(":")[0] not in {"root", "0"}

    # Static files collected at build time, with a throwaway SECRET_KEY.
    collect = [args for args in by_keyword.get("RUN", []) if "collectstatic" in args]
    assert collect, "Dockerfile does not run collectstatic"
    assert "SECRET_KEY=" in collect[0]
    assert "--noinput" in collect[0]

    # Health check against /healthz using Python's urllib (no curl in slim images).
    healthchecks = by_keyword.get("HEALTHCHECK", [])
    assert healthchecks, "Dockerfile has no HEALTHCHECK"
    cmd = healthchecks[-1].split(" CMD ", 1)[1]
    code = _python_code_in(json.loads(cmd))
    assert "urllib" in code
    assert "/healthz" in code
    compile(code, "<Dockerfile healthcheck>", "exec")

    # Default command: gunicorn serving the WSGI app.
    default_cmd = json.loads(by_keyword["CMD"][-1])
    command_line = " ".join(default_cmd)
    assert "gunicorn config.wsgi:application" in command_line
    assert "--bind 0.0.0.0:8000" in command_line
    assert shlex.split(default_cmd[-1])[0] == "exec"


def test_dockerfile_sets_python_env():
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "PYTHONDONTWRITEBYTECODE=1" in text
    assert "PYTHONUNBUFFERED=1" in text
