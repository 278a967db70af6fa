"""The benchmark harness still runs: every scenario on a tiny dataset. No timing is asserted."""

import pytest
from django.test import Client

from accounts.models import Role
from bench import dataset, report, runner, scenarios
from bench.__main__ import parse_args

pytestmark = pytest.mark.django_db


@pytest.fixture
def subjects():
    dataset.seed("tiny")
    return dataset.prepare_subjects()


def test_every_scenario_runs_and_the_results_compare_with_a_saved_run(subjects, tmp_path):
    results = runner.run(scenarios.SCENARIOS, scenarios.make_context(subjects), repeat=2)

    assert [r.name for r in results] == scenarios.NAMES
    for result in results:
        assert len(result.times_ms) == 2
        assert result.queries > 0, result.name
        if result.name.startswith("tick-"):
            assert result.size is None
        else:
            assert result.size > 0, result.name
    assert "release-page" in report.table(results)

    saved = report.save(results, {"database": "sqlite"}, tmp_path)
    assert saved.parent == tmp_path
    ratios = report.comparison(report.load(saved), results)
    for name in scenarios.NAMES:
        [row] = [row for row in ratios.splitlines() if row.startswith(name + " ")]
        assert " 1.00 " in row, row  # the same run: every median ratio is exactly one


def test_the_viewer_manages_the_busiest_team_and_sees_the_busiest_release(subjects):
    assert subjects.viewer.username == "manager"
    # The scale volumes belong to teams the demo users are not in; the bench joins the busiest.
    assert subjects.team.slug == "team-000"
    assert subjects.viewer.memberships.get(team=subjects.team).role == Role.MANAGER
    assert subjects.team.trains.filter(pk=subjects.train.pk).exists()
    assert subjects.release.checklist_items.count() >= 10
    assert subjects.rotation.members.count() >= 2


def test_a_page_that_does_not_answer_200_stops_the_run():
    # Nobody is logged in here, so the page redirects to the login instead of rendering.
    ctx = scenarios.Context(subjects=None, browser=Client(), anonymous=Client())
    dashboard = scenarios.select(["dashboard"])
    with pytest.raises(scenarios.BenchError, match="answered 302"):
        runner.run(dashboard, ctx, repeat=1)


def test_only_names_known_scenarios():
    assert [s.name for s in scenarios.select(["tick-cut", "dashboard"])] == [
        "dashboard",
        "tick-cut",
    ]
    with pytest.raises(ValueError, match="Unknown scenario dashbord"):
        scenarios.select(["dashbord"])
    with pytest.raises(SystemExit):
        parse_args(["--repeat", "0"])
