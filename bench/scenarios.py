"""What the benchmark measures: the pages people open most, what calendar apps and CI poll, and
the two ticks beat runs every minute.

Each scenario makes one request or call and returns the response size in bytes (None for a
call that renders nothing). It raises BenchError when the answer is not what a person would get,
so an error page is never timed as if it were the page.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bench.dataset import Subjects
from releases.reminders import send_due_reminders
from releases.services.cutting import cut_due_trains


class BenchError(Exception):
    pass


@dataclass(frozen=True)
class Context:
    subjects: Subjects
    browser: Client  # logged in as the viewer, with a session like a browser's
    anonymous: Client  # the feed and the API authenticate by key or token, not by session


def make_context(subjects: Subjects) -> Context:
    browser = Client()
    browser.force_login(subjects.viewer)
    return Context(subjects=subjects, browser=browser, anonymous=Client())


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    run: Callable[[Context], int | None]


def _get(client: Client, url: str, **kwargs) -> int:
    response = client.get(url, **kwargs)
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}, not 200.")
    return len(response.content)


def _page(url: Callable[[Subjects], str]) -> Callable[[Context], int]:
    """A page of the viewer's, opened in their logged-in browser."""
    return lambda ctx: _get(ctx.browser, url(ctx.subjects))


def _feed(ctx: Context) -> int:
    return _get(ctx.anonymous, reverse("releases:calendar_feed", args=[ctx.subjects.feed_key]))


def _api_releases(ctx: Context) -> int:
    return _get(
        ctx.anonymous,
        "/api/v1/releases",
        query_params={"train": ctx.subjects.train.pk},
        headers={"authorization": f"Bearer {ctx.subjects.api_token}"},
    )


def _cut_tick(ctx: Context) -> None:
    cut_due_trains(timezone.now())


def _reminders_tick(ctx: Context) -> None:
    counts = send_due_reminders(timezone.now())
    # The tick logs a failing step and carries on; a benchmark must not time a failure.
    if counts["errors"]:
        raise BenchError(f"send_due_reminders reported {counts['errors']} failing step(s).")


SCENARIOS = [
    Scenario(
        "calendar-month", "calendar, this month", _page(lambda s: reverse("releases:calendar"))
    ),
    Scenario(
        "calendar-agenda",
        "calendar, agenda",
        _page(lambda s: reverse("releases:calendar") + "?view=agenda"),
    ),
    Scenario("train-list", "train list", _page(lambda s: reverse("releases:train_list"))),
    Scenario(
        "train-page",
        "the train with the longest history",
        _page(lambda s: reverse("releases:train_detail", args=[s.train.team.slug, s.train.slug])),
    ),
    Scenario(
        "release-page",
        "the release with the longest checklist",
        _page(lambda s: reverse("releases:release_detail", args=[s.release.pk])),
    ),
    Scenario("rotation-list", "rotations", _page(lambda s: reverse("releases:rotation_list"))),
    Scenario(
        "rotation-page",
        "the biggest rotation",
        _page(lambda s: reverse("releases:rotation_detail", args=[s.rotation.pk])),
    ),
    Scenario("dashboard", "dashboard", _page(lambda s: reverse("insights:dashboard"))),
    Scenario("inbox", "notifications", _page(lambda s: reverse("releases:notification_list"))),
    Scenario("delivery-log", "delivery log", _page(lambda s: reverse("releases:delivery_list"))),
    Scenario("ics-feed", "personal iCalendar feed", _feed),
    Scenario("api-releases", "GET /api/v1/releases?train=", _api_releases),
    # The ticks write; they run last so that the pages above see the seeded data as it was.
    Scenario("tick-cut", "cut_due_trains(now)", _cut_tick),
    Scenario("tick-reminders", "send_due_reminders(now)", _reminders_tick),
]
NAMES = [scenario.name for scenario in SCENARIOS]


def select(names: list[str] | None) -> list[Scenario]:
    """The scenarios named, in their usual order; all of them when none is named."""
    if not names:
        return list(SCENARIOS)
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        raise ValueError(f"Unknown scenario {', '.join(unknown)}; choose from {', '.join(NAMES)}.")
    return [scenario for scenario in SCENARIOS if scenario.name in names]
