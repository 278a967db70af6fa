"""Timing: a warm-up, one run that counts queries, then `repeat` timed runs per scenario."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.scenarios import Context, Scenario


@dataclass(frozen=True)
class Result:
    name: str
    what: str
    median_ms: float
    p90_ms: float
    queries: int
    size: int | None  # response bytes; None for a direct call
    times_ms: list[float]


def deliveries_stubbed():
    """Deliveries would go to a worker through the broker; the bench measures only the claim."""
    return mock.patch("releases.services.notifications._enqueue", lambda *a, **kw: None)


def p90(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def measure(scenario: Scenario, ctx: Context, *, repeat: int) -> Result:
    scenario.run(ctx)  # warm-up: first-use imports, template loading, caches
    # Queries are counted on a run of their own: logging every query costs time (on SQLite an
    # extra query each), which must not be in the timed runs.
    with CaptureQueriesContext(connection) as queries:
        size = scenario.run(ctx)
    # Read now: the next request empties the connection's query log that `queries` looks at.
    query_count = len(queries)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        scenario.run(ctx)
        times.append((time.perf_counter() - start) * 1000)
    return Result(
        name=scenario.name,
        what=scenario.what,
        median_ms=statistics.median(times),
        p90_ms=p90(times),
        queries=query_count,
        size=size,
        times_ms=times,
    )


def run(
    scenarios: list[Scenario],
    ctx: Context,
    *,
    repeat: int,
    on_result: Callable[[Result], None] = lambda result: None,
) -> list[Result]:
    results = []
    with deliveries_stubbed():
        for scenario in scenarios:
            result = measure(scenario, ctx, repeat=repeat)
            on_result(result)
            results.append(result)
    return results
