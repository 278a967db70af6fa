"""python -m bench [--db sqlite|env] [--repeat N] [--only NAME ...] [--keep] [--compare FILE]

Builds a fresh database (SQLite in a temporary DATA_DIR by default; `--db env` uses DATABASE_URL's
PostgreSQL server in a database named `<name>_bench`), migrates it, runs `seed_demo --scale
large`, and times each scenario of bench/scenarios.py as the demo manager: a warm-up, a run that
counts queries, then N timed runs. Prints medians and p90s, saves bench/results/<time>.json and,
with --compare, the ratio of each median to an earlier run's.
"""

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import django
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from bench import database

# Pages render without collectstatic, as in the tests; a manifest lookup is a dict lookup anyway.
PLAIN_STATIC = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Time Stationmaster's busy pages on a large dataset."
    )
    parser.add_argument(
        "--db",
        choices=["sqlite", "env"],
        default="sqlite",
        help="sqlite: a fresh file in a temporary directory (default); env: the PostgreSQL "
        "server of DATABASE_URL, in a database of its own named <name>_bench",
    )
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per scenario (7)")
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="run only these scenarios (names as printed)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database afterwards and say where it is"
    )
    parser.add_argument(
        "--compare", type=Path, metavar="FILE", help="an earlier results JSON to compare with"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1.")
    if args.compare and not args.compare.is_file():
        parser.error(f"--compare: there is no file {args.compare}.")
    return args, parser


def main(argv: list[str] | None = None) -> None:
    started = time.perf_counter()
    args, parser = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    target = database.configure(args.db)
    try:
        try:
            django.setup()
        except ImproperlyConfigured as exc:  # most often: no SECRET_KEY
            raise SystemExit(f"Cannot start Django: {exc}") from None
        _run(args, parser, target)
    finally:
        if apps.ready:
            connections.close_all()  # PostgreSQL will not drop a database still in use
        print(target.cleanup(keep=args.keep))
    print(f"The whole run took {time.perf_counter() - started:.0f} s.")


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser, target) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    from bench import dataset, report, runner, scenarios

    try:
        chosen = scenarios.select(args.only)
    except ValueError as exc:
        parser.error(str(exc))
    old = report.load(args.compare) if args.compare else None
    print(f"Database: {target.description}", flush=True)
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": PLAIN_STATIC}):
        clock = time.perf_counter()
        call_command("migrate", verbosity=0)
        migrate_s = time.perf_counter() - clock
        clock = time.perf_counter()
        with runner.deliveries_stubbed():
            dataset.seed("large")
        seed_s = time.perf_counter() - clock
        rows = dataset.row_counts()
        print(f"Migrated in {migrate_s:.1f} s; seed_demo --scale large took {seed_s:.1f} s.")
        print("Rows: " + ", ".join(f"{count} {name}" for name, count in rows.items()))
        subjects = dataset.prepare_subjects()
        print(dataset.describe(subjects))
        print(f"{len(chosen)} scenarios, warm-up + {args.repeat} timed runs each:", flush=True)
        results = runner.run(
            chosen,
            scenarios.make_context(subjects),
            repeat=args.repeat,
            on_result=lambda result: print(report.line(result), flush=True),
        )
    print()
    print(report.table(results))
    meta = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": _git_commit(),
        "database": target.kind,
        "scale": "large",
        "repeat": args.repeat,
        "migrate_seconds": round(migrate_s, 1),
        "seed_seconds": round(seed_s, 1),
        "rows": rows,
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "django": django.get_version(),
    }
    path = report.save(results, meta)
    print(f"\nSaved {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    if old is not None:
        print(f"\nCompared with {args.compare} ({old.get('git', '?')}, {old.get('database')}):")
        print(report.comparison(old, results))


def _git_commit() -> str:
    """The commit measured, marked "+changes" when the work tree differs from it."""

    def git(*command: str) -> subprocess.CompletedProcess:
        # --no-optional-locks: never take the index lock from under someone committing.
        return subprocess.run(
            ["git", "--no-optional-locks", *command], capture_output=True, text=True, check=False
        )

    try:
        head = git("rev-parse", "--short", "HEAD")
        if head.returncode:
            return "unknown"
        dirty = git("diff", "--quiet", "HEAD").returncode == 1
    except OSError:
        return "unknown"
    return head.stdout.strip() + ("+changes" if dirty else "")


if __name__ == "__main__":
    sys.exit(main())
