"""The figures: a line per scenario as it finishes, a table, a JSON file, ratios to an older run."""

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench.runner import Result

RESULTS_DIR = Path(__file__).resolve().parent / "results"  # gitignored


def size_text(size: int | None) -> str:
    if size is None:
        return "-"
    return f"{size / 1024:.1f} kB" if size >= 1024 else f"{size} B"


def line(result: Result) -> str:
    return (
        f"  {result.name:<16} median {result.median_ms:8.1f} ms   p90 {result.p90_ms:8.1f} ms"
        f"   {result.queries:4d} queries   {size_text(result.size)}"
    )


def table(results: list[Result]) -> str:
    rows = [("scenario", "what", "median ms", "p90 ms", "queries", "size")]
    rows += [
        (
            r.name,
            r.what,
            f"{r.median_ms:.1f}",
            f"{r.p90_ms:.1f}",
            str(r.queries),
            size_text(r.size),
        )
        for r in results
    ]
    return _grid(rows, right=(2, 3, 4, 5))


def save(results: list[Result], meta: dict, directory: Path = RESULTS_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{stamp}.json"
    document = {**meta, "results": [asdict(result) for result in results]}
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def load(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def comparison(old: dict, results: list[Result]) -> str:
    """New median over old median per scenario: below 1.00 is faster."""
    before = {item["name"]: item for item in old["results"]}
    rows = [("scenario", "old ms", "new ms", "ratio", "queries old → new")]
    for r in results:
        if r.name not in before:
            rows.append((r.name, "-", f"{r.median_ms:.1f}", "new", f"- → {r.queries}"))
            continue
        was = before[r.name]
        rows.append(
            (
                r.name,
                f"{was['median_ms']:.1f}",
                f"{r.median_ms:.1f}",
                f"{r.median_ms / was['median_ms']:.2f}",
                f"{was['queries']} → {r.queries}",
            )
        )
    return _grid(rows, right=(1, 2, 3, 4))


def _grid(rows: list[tuple[str, ...]], *, right: tuple[int, ...]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def cell(i: int, text: str) -> str:
        return text.rjust(widths[i]) if i in right else text.ljust(widths[i])

    lines = ["  ".join(cell(i, text) for i, text in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
