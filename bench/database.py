"""Where the benchmark's data lives. Runs before django.setup(): the settings read these variables.

`sqlite` (the default) is a fresh file in a temporary DATA_DIR. `env` takes DATABASE_URL as given
(PostgreSQL) but works in a database of its own, `<name>_bench`, dropped and created anew, so the
developer's database is never touched.
"""

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent


@dataclass
class Target:
    kind: str  # "sqlite" or "postgresql"
    description: str
    data_dir: Path
    pg_name: str = ""
    pg_params: dict = field(default_factory=dict)  # how to reach the server, without a dbname

    def cleanup(self, *, keep: bool) -> str:
        """Remove what the run made, unless asked to keep it; says what happened."""
        if keep:
            return (
                f"Kept {self.description}. Open it with:\n"
                f"  DATA_DIR={self.data_dir} DATABASE_URL={os.environ['DATABASE_URL']} "
                ".venv/bin/python manage.py runserver"
            )
        if self.pg_name:
            _drop(self.pg_params, self.pg_name)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        return f"Removed {self.description}."


def configure(db: str) -> Target:
    """Point the settings at the benchmark's own database; call before django.setup()."""
    # Read .env as the settings do (real variables win), so `--db env` sees its DATABASE_URL.
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    data_dir = Path(tempfile.mkdtemp(prefix="stationmaster-bench-"))
    os.environ.update(
        DATA_DIR=str(data_dir),
        DEBUG="false",  # measure what production serves
        ALLOWED_HOSTS="testserver",  # django.test.Client's host name
        LOG_LEVEL="WARNING",  # keep the report readable
    )
    # Deliveries are stubbed; whatever else is enqueued lands in DATA_DIR, never a real broker.
    os.environ.pop("REDIS_URL", None)
    if db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'db.sqlite3'}"
        return Target("sqlite", f"the SQLite database in {data_dir}", data_dir)

    url = os.environ.get("DATABASE_URL", "")
    if not url:
        shutil.rmtree(data_dir, ignore_errors=True)
        raise SystemExit("--db env needs DATABASE_URL, e.g. postgres://postgres@127.0.0.1/sm")
    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        shutil.rmtree(data_dir, ignore_errors=True)
        raise SystemExit(f"--db env is for PostgreSQL; DATABASE_URL is {config['ENGINE']}.")
    name = f"{config['NAME']}_bench"
    params = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        **config.get("OPTIONS", {}),
    }
    params = {key: value for key, value in params.items() if value is not None}
    _drop(params, name)
    _execute(params, "CREATE DATABASE {}", name)
    os.environ["DATABASE_URL"] = urlsplit(url)._replace(path=f"/{name}").geturl()
    where = config.get("HOST") or "the local socket"
    return Target(
        "postgresql",
        f"PostgreSQL database {name} on {where} (your {config['NAME']} is not touched)",
        data_dir,
        pg_name=name,
        pg_params=params,
    )


def _drop(params: dict, name: str) -> None:
    # FORCE: a connection left open by a crashed run must not keep the old data alive.
    _execute(params, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


def _execute(params: dict, statement: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    # CREATE and DROP DATABASE cannot run inside the database itself, nor in a transaction.
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as connection:
        connection.execute(sql.SQL(statement).format(sql.Identifier(name)))
