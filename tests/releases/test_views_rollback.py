"""The rollback plan and critical-release panels of the release page, and the printable sheet:
reading, writing without JavaScript (POST + redirect) and with HTMX (the panel in place, 422 with
errors), refusals (403 for who you are, 409 for a finished release, 404 for outsiders)."""

import zoneinfo
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from releases.models import (
    FailureMode,
    RehearsalRole,
    ReleaseEvent,
    ReleaseStatus,
    RollbackPlan,
)
from releases.services.checklists import checklist_snapshot, checklist_tick, default_template
from releases.services.rollback import (
    RollbackAnswersInput,
    failure_mode_add,
    rehearsal_role_assign,
    rehearsal_schedule,
    release_set_critical,
    rollback_plan_update,
    rollback_rehearsed,
)
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
GRAFANA = "https://grafana.example.com/d/checkout"


@pytest.fixture
def team():
    return TeamFactory(name="Checkout team", slug="checkout", timezone="Europe/Berlin")


@pytest.fixture
def manager(team):
    user = UserFactory(username="morgan", first_name="Morgan", last_name="Lee")
    MembershipFactory(user=user, team=team, role="manager")
    return user


@pytest.fixture
def captain(team):
    user = UserFactory(username="cato", first_name="Cato", last_name="Quinn")
    MembershipFactory(user=user, team=team, role="engineer")
    return user


@pytest.fixture
def engineer(team):
    user = UserFactory(username="erin", first_name="Erin", last_name="Roe")
    MembershipFactory(user=user, team=team, role="engineer")
    return user


@pytest.fixture
def outsider():
    user = UserFactory(username="olly")
    MembershipFactory(user=user, team=TeamFactory(slug="payments"), role="manager")
    return user


@pytest.fixture
def train(team):
    return TrainFactory(team=team, name="checkout", slug="checkout", requires_rollback_plan=True)


@pytest.fixture
def release(train, captain):
    now = timezone.now()
    release = ReleaseFactory(
        train=train,
        version="4.12.0",
        status=ReleaseStatus.CUT,
        captain=captain,
        cut_at=now - timedelta(hours=2),
        target_at=now + timedelta(hours=46),
    )
    checklist_snapshot(release, default_template(train.team_id))
    RollbackPlan.objects.create(release=release)
    return release


@pytest.fixture
def critical(release, captain):
    return release_set_critical(
        actor=captain, release=release, critical=True, reason="Drops the legacy orders table"
    )


def url(name, release, *args):
    return reverse(f"releases:{name}", args=[release.pk, *args])


def page(client, release) -> str:
    response = client.get(release.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def plan_data(**overrides):
    data = {
        "detection": f"Checkout error rate above 2% {GRAFANA}.\nSupport tickets about payments",
        "revert_method": "redeploy_previous",
        "revert_minutes": "12",
        "revert_notes": "",
        "data_impact": "Adds a nullable column; nothing to undo.",
    }
    return {**data, **overrides}


def plan_of(release) -> RollbackPlan:
    return RollbackPlan.objects.get(release=release)


def plan_events(release) -> int:
    return ReleaseEvent.objects.filter(
        release=release, kind=ReleaseEvent.Kind.ROLLBACK_PLAN
    ).count()


# --- the rollback plan panel -----------------------------------------------------------------


def test_the_panel_shows_the_three_answers_with_links_and_what_is_missing(
    client, engineer, release
):
    rollback_plan_update(
        actor=engineer,
        release=release,
        answers=RollbackAnswersInput(
            detection=f"Error rate on {GRAFANA}.\nSupport tickets",
            revert_method="redeploy_previous",
            revert_minutes=10,
        ),
    )
    client.force_login(engineer)
    html = page(client, release)
    assert 'id="rollback-plan"' in html
    assert "How will we know it is wrong?" in html and "How quickly can we revert?" in html
    # The link is a link (without the full stop after it), opened without handing over the page.
    assert f'<a href="{GRAFANA}" rel="noopener noreferrer" target="_blank"' in html
    assert "Support tickets" in html
    assert "Redeploy the previous version" in html and "about 10 minutes" in html
    assert '<span class="badge badge--warning">Incomplete</span>' in html
    assert "Still open:</strong> what data might be affected." in html
    assert "requires a complete plan before a release is approved" in html
    assert "The rollback has not been rehearsed." in html
    assert f'href="{url("release_print", release)}"' in html
    assert f'action="{url("rollback_plan", release)}"' in html


def test_an_empty_plan_asks_all_three_questions_with_the_form_open(client, engineer, release):
    client.force_login(engineer)
    html = page(client, release)
    assert html.count("Not answered yet") == 3
    assert (
        "Still open:</strong> how we will know it is wrong, how quickly we can revert, "
        "what data might be affected." in html
    )
    assert '<details class="disclosure rollback-edit" open>' in html
    assert '<label for="rollback-detection">How will we know it is wrong?</label>' in html
    assert 'id="rollback-detection_helptext"' in html


def test_a_release_without_a_plan_row_still_shows_the_panel(client, engineer, release):
    RollbackPlan.objects.filter(release=release).delete()
    client.force_login(engineer)
    assert "Not answered yet" in page(client, release)


def test_saving_without_javascript_redirects_back_to_the_panel(client, engineer, release):
    client.force_login(engineer)
    response = client.post(url("rollback_plan", release), plan_data())
    assert response.status_code == 302
    assert response["Location"] == f"{release.get_absolute_url()}#rollback-plan"
    plan = plan_of(release)
    assert (plan.revert_method, plan.revert_minutes, plan.updated_by) == (
        "redeploy_previous",
        12,
        engineer,
    )
    assert plan.is_complete and plan_events(release) == 1
    html = client.get(response["Location"]).content.decode()
    assert "Rollback plan saved; it answers all three questions." in html
    assert '<span class="badge badge--success">Complete</span>' in html


def test_saving_with_htmx_swaps_the_panel_in_place(client, engineer, release):
    client.force_login(engineer)
    response = client.post(url("rollback_plan", release), plan_data(data_impact=""), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="rollback-plan"')
    assert "<html" not in html and 'id="critical-release"' not in html
    assert "Rollback plan saved. Still open: what data might be affected." in html
    assert 'role="status"' in html
    assert plan_of(release).detection.startswith("Checkout error rate")


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        ("-5", "Minutes cannot be negative."),
        ("soon", "Give the minutes as a whole number, such as 15."),
        ("2000", "A revert longer than a day is not a plan."),
    ],
)
def test_bad_minutes_come_back_with_the_error_and_nothing_is_written(
    client, engineer, release, minutes, message
):
    client.force_login(engineer)
    response = client.post(url("rollback_plan", release), plan_data(revert_minutes=minutes), **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert '<div class="form-errors" role="alert">' in html
    assert f'<ul class="field__errors" id="rollback-revert_minutes_error"><li>{message}' in html
    assert '<a href="#rollback-revert_minutes">Minutes to revert</a>' in html
    assert '<details class="disclosure rollback-edit" open>' in html
    # What was typed is kept.
    assert "Support tickets about payments" in html
    assert plan_of(release).detection == "" and plan_events(release) == 0


def test_bad_input_without_javascript_shows_the_whole_page_with_the_errors(
    client, engineer, release
):
    client.force_login(engineer)
    response = client.post(url("rollback_plan", release), plan_data(revert_minutes="-1"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html and 'id="release-main"' in html
    assert "Minutes cannot be negative." in html
    assert plan_of(release).revert_minutes is None


def test_other_without_steps_is_saved_but_flagged_incomplete(client, engineer, release):
    client.force_login(engineer)
    response = client.post(
        url("rollback_plan", release), plan_data(revert_method="other", revert_notes=""), **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Still open: the revert steps." in html
    assert "“Other” needs the revert steps written down." in html
    plan = plan_of(release)
    assert plan.revert_method == "other" and plan.missing_answers == ["the revert steps"]


def test_recording_a_rehearsal(client, engineer, release):
    client.force_login(engineer)
    today = timezone.localdate()
    response = client.post(
        url("rollback_rehearsed", release), {"rehearsed_on": today.isoformat()}, **HTMX
    )
    assert response.status_code == 200
    plan = plan_of(release)
    assert (plan.rehearsed_on, plan.rehearsed_by) == (today, engineer)
    html = response.content.decode()
    assert f'Rollback rehearsed on <time datetime="{today:%Y-%m-%d}">' in html
    assert "by Erin Roe." in html


def test_a_rehearsal_in_the_future_is_refused(client, engineer, release):
    client.force_login(engineer)
    tomorrow = timezone.localdate() + timedelta(days=2)
    response = client.post(
        url("rollback_rehearsed", release), {"rehearsed_on": tomorrow.isoformat()}, **HTMX
    )
    assert response.status_code == 422
    assert "A rehearsal cannot be in the future." in response.content.decode()
    assert plan_of(release).rehearsed_on is None


def test_a_finished_release_shows_its_plan_read_only_and_refuses_changes(client, engineer, release):
    rollback_plan_update(
        actor=engineer, release=release, answers=RollbackAnswersInput(detection="Errors")
    )
    release.status = ReleaseStatus.CANCELLED
    release.save()
    client.force_login(engineer)
    html = page(client, release)
    assert "This release is cancelled; its rollback plan is kept as it was." in html
    assert f'action="{url("rollback_plan", release)}"' not in html
    assert f'action="{url("rollback_rehearsed", release)}"' not in html

    response = client.post(url("rollback_plan", release), plan_data())
    assert response.status_code == 409
    assert f"{release} is cancelled; its rollback plan is kept as it was." in (
        response.content.decode()
    )
    response = client.post(url("rollback_plan", release), plan_data(), **HTMX)
    assert response.status_code == 409 and response["HX-Refresh"] == "true"
    assert plan_of(release).detection == "Errors"


def test_a_rolled_back_release_puts_its_plan_first(client, engineer, release):
    release.status = ReleaseStatus.ROLLED_BACK
    release.save()
    client.force_login(engineer)
    response = client.get(release.get_absolute_url())
    assert response.context["rollback_first"] is True
    html = response.content.decode()
    assert "rollback-panel--rolled-back" in html
    assert "Rolled back — the plan:" in html


def test_the_panel_alone_for_htmx_and_the_page_otherwise(client, engineer, release):
    client.force_login(engineer)
    response = client.get(url("rollback_plan", release), **HTMX)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="rollback-plan"')
    response = client.get(url("rollback_plan", release))
    assert response.status_code == 302
    assert response["Location"].endswith("#rollback-plan")


def test_outsiders_get_404_for_everything(client, outsider, critical):
    client.force_login(outsider)
    mode = failure_mode_add(actor=critical.captain, release=critical, description="Locks")
    for path, data in [
        (url("rollback_plan", critical), plan_data()),
        (url("rollback_rehearsed", critical), {"rehearsed_on": "2026-01-01"}),
        (url("release_critical", critical), {"critical": "0"}),
        (url("failure_mode_add", critical), {"description": "x"}),
        (url("failure_mode_remove", critical, mode.pk), {}),
        (url("rehearsal_role_assign", critical), {"role": "x", "person": outsider.pk}),
        (url("rehearsal_schedule", critical), {"rehearsal_at": ""}),
    ]:
        assert client.post(path, data).status_code == 404, path
    assert client.get(url("release_print", critical)).status_code == 404
    assert client.get(url("release_critical", critical), **HTMX).status_code == 404
    assert FailureMode.objects.filter(pk=mode.pk).exists()


# --- critical releases ---------------------------------------------------------------------


def test_the_captain_marks_the_release_critical(client, captain, release):
    client.force_login(captain)
    html = page(client, release)
    assert '<span class="badge badge--neutral">Not critical</span>' in html
    response = client.post(
        url("release_critical", release),
        {"critical": "1", "critical_reason": "Migrates the orders table"},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "checklistChanged"
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="critical-release"')
    assert "checkout 4.12.0 is critical now; the rehearsal checklist was added." in html
    assert "Migrates the orders table" in html
    release.refresh_from_db()
    assert release.is_critical and release.critical_reason == "Migrates the orders table"
    assert release.checklist_items.filter(is_rehearsal=True).count() == 6


def test_marking_critical_needs_a_reason(client, captain, release):
    client.force_login(captain)
    response = client.post(
        url("release_critical", release), {"critical": "1", "critical_reason": "  "}, **HTMX
    )
    assert response.status_code == 422
    assert "Say what makes it critical, e.g. a database migration." in response.content.decode()
    release.refresh_from_db()
    assert not release.is_critical


def test_a_manager_unmarks_without_javascript(client, manager, critical):
    client.force_login(manager)
    html = page(client, critical)
    assert "Stop treating checkout 4.12.0 as critical?" in html  # the confirmation names it
    response = client.post(url("release_critical", critical), {"critical": "0"})
    assert response.status_code == 302
    assert response["Location"] == f"{critical.get_absolute_url()}#critical-release"
    critical.refresh_from_db()
    assert not critical.is_critical
    assert not critical.checklist_items.filter(is_rehearsal=True).exists()


def test_an_engineer_who_is_not_captain_is_refused_with_a_403(client, engineer, release):
    client.force_login(engineer)
    html = page(client, release)
    assert "Only the release captain or a manager of the team can mark it critical." in html
    assert f'action="{url("release_critical", release)}"' not in html

    data = {"critical": "1", "critical_reason": "Because"}
    response = client.post(url("release_critical", release), data)
    assert response.status_code == 403
    html = response.content.decode()
    assert "Only the release captain or a manager can mark a release critical." in html
    assert "Nothing was changed." in html

    response = client.post(url("release_critical", release), data, **HTMX)
    assert response.status_code == 403 and response["HX-Refresh"] == "true"
    release.refresh_from_db()
    assert not release.is_critical


def test_an_engineer_sees_the_critical_data_read_only_but_lists_failure_modes(
    client, engineer, captain, critical
):
    rehearsal_role_assign(actor=captain, release=critical, role="Runs the restore", person=engineer)
    client.force_login(engineer)
    html = page(client, critical)
    assert "Drops the legacy orders table" in html
    assert "Runs the restore" in html and "Erin Roe" in html
    assert f'action="{url("rehearsal_role_assign", critical)}"' not in html
    assert f'action="{url("rehearsal_schedule", critical)}"' not in html
    assert "No longer critical" not in html
    assert f'action="{url("failure_mode_add", critical)}"' in html

    response = client.post(
        url("rehearsal_schedule", critical),
        {"rehearsal_at": timezone.localtime(timezone.now(), BERLIN).strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 403
    assert "Only the release captain or a manager can schedule the rehearsal." in (
        response.content.decode()
    )


def test_failure_modes_are_added_and_removed_by_anyone_in_the_team(client, engineer, critical):
    client.force_login(engineer)
    response = client.post(
        url("failure_mode_add", critical),
        {"description": "The migration locks orders", "response": "Kill it and roll back"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The migration locks orders" in html and "Kill it and roll back" in html
    assert "autofocus" in html  # ready for the next one
    mode = FailureMode.objects.get(release=critical)
    assert mode.created_by == engineer

    response = client.post(url("failure_mode_add", critical), {"description": ""}, **HTMX)
    assert response.status_code == 422
    assert "Say what could go wrong." in response.content.decode()

    response = client.post(url("failure_mode_remove", critical, mode.pk))
    assert response.status_code == 302
    assert not FailureMode.objects.filter(pk=mode.pk).exists()


def test_a_cancelled_release_keeps_its_failure_modes_and_roles(client, captain, critical):
    mode = failure_mode_add(actor=captain, release=critical, description="Locks orders")
    role = rehearsal_role_assign(actor=captain, release=critical, role="Watches", person=captain)
    critical.status = ReleaseStatus.CANCELLED
    critical.save()
    client.force_login(captain)
    for name, arg in [("failure_mode_remove", mode.pk), ("rehearsal_role_remove", role.pk)]:
        response = client.post(url(name, critical, arg), **HTMX)
        assert response.status_code == 409 and response["HX-Refresh"] == "true"
        response = client.post(url(name, critical, arg))
        assert response.status_code == 409
        assert f"{critical} is cancelled;" in response.content.decode()
    assert FailureMode.objects.filter(pk=mode.pk).exists()
    assert RehearsalRole.objects.filter(pk=role.pk).exists()


def test_a_failure_mode_of_another_release_is_404(client, engineer, critical, train):
    other = ReleaseFactory(train=train, version="4.13.0")
    mode = failure_mode_add(actor=engineer, release=other, description="Other")
    client.force_login(engineer)
    assert client.post(url("failure_mode_remove", critical, mode.pk)).status_code == 404


def test_roles_are_assigned_to_team_members_and_removed(
    client, captain, engineer, outsider, critical
):
    client.force_login(captain)
    response = client.post(
        url("rehearsal_role_assign", critical),
        {"role": "Runs the database restore", "person": engineer.pk},
        **HTMX,
    )
    assert response.status_code == 200
    assert "Erin Roe: Runs the database restore." in response.content.decode()
    assignment = RehearsalRole.objects.get(release=critical)
    assert assignment.person == engineer

    response = client.post(
        url("rehearsal_role_assign", critical),
        {"role": "Talks to support", "person": outsider.pk},
        **HTMX,
    )
    assert response.status_code == 422
    assert "Choose a member of the train&#x27;s team." in response.content.decode()
    assert RehearsalRole.objects.filter(release=critical).count() == 1

    response = client.post(url("rehearsal_role_remove", critical, assignment.pk), **HTMX)
    assert response.status_code == 200
    assert "Removed the role “Runs the database restore”." in response.content.decode()
    assert not RehearsalRole.objects.exists()


def test_an_engineer_cannot_assign_or_remove_roles(client, captain, engineer, critical):
    assignment = rehearsal_role_assign(
        actor=captain, release=critical, role="Watches dashboards", person=captain
    )
    client.force_login(engineer)
    response = client.post(
        url("rehearsal_role_assign", critical), {"role": "Boss", "person": engineer.pk}
    )
    assert response.status_code == 403
    assert client.post(url("rehearsal_role_remove", critical, assignment.pk)).status_code == 403
    assert list(RehearsalRole.objects.values_list("role", flat=True)) == ["Watches dashboards"]


def test_the_rehearsal_is_scheduled_in_the_viewers_timezone(client, captain, critical):
    client.force_login(captain)  # Europe/Berlin in their profile
    local = timezone.localtime(timezone.now() + timedelta(hours=24), BERLIN).replace(
        second=0, microsecond=0
    )
    response = client.post(
        url("rehearsal_schedule", critical),
        {"rehearsal_at": local.strftime("%Y-%m-%dT%H:%M")},
        **HTMX,
    )
    assert response.status_code == 200
    critical.refresh_from_db()
    assert critical.rehearsal_at == local
    html = response.content.decode()
    assert f'<time datetime="{critical.rehearsal_at.isoformat()}" data-relative' in html
    assert f'value="{local:%Y-%m-%dT%H:%M}"' in html  # the form shows it back, in Berlin time


def test_a_rehearsal_after_the_target_time_is_refused_and_one_can_unschedule(
    client, captain, critical
):
    client.force_login(captain)
    late = timezone.localtime(critical.target_at + timedelta(hours=1), BERLIN)
    response = client.post(
        url("rehearsal_schedule", critical), {"rehearsal_at": late.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 422
    assert "Rehearse before the release&#x27;s target time." in response.content.decode()
    critical.refresh_from_db()
    assert critical.rehearsal_at is None

    rehearsal_schedule(actor=captain, release=critical, at=timezone.now())
    response = client.post(url("rehearsal_schedule", critical), {"rehearsal_at": ""})
    assert response.status_code == 302
    critical.refresh_from_db()
    assert critical.rehearsal_at is None


def test_scheduling_a_rehearsal_of_a_release_that_is_not_critical_is_refused(
    client, captain, release
):
    client.force_login(captain)
    response = client.post(url("rehearsal_schedule", release), {"rehearsal_at": ""}, **HTMX)
    assert response.status_code == 409 and response["HX-Refresh"] == "true"


# --- the printable sheet ----------------------------------------------------------------------


def test_the_print_page_has_the_checklist_the_plan_and_the_rehearsal(
    client, captain, engineer, critical
):
    rollback_plan_update(
        actor=engineer,
        release=critical,
        answers=RollbackAnswersInput(
            detection=f"Watch {GRAFANA}",
            revert_method="flag_off",
            revert_minutes=2,
            data_impact="None",
        ),
    )
    rollback_rehearsed(actor=engineer, release=critical, on=timezone.localdate())
    item = critical.checklist_items.get(text="Staging deploy passed smoke tests")
    checklist_tick(actor=engineer, item=item, ticked=True, note="Green on run 812")
    failure_mode_add(
        actor=engineer, release=critical, description="Lock timeout", response="Roll back"
    )
    rehearsal_role_assign(actor=captain, release=critical, role="Runs the restore", person=engineer)
    rehearsal_schedule(actor=captain, release=critical, at=timezone.now() + timedelta(hours=3))

    client.force_login(engineer)
    response = client.get(url("release_print", critical))
    assert response.status_code == 200
    html = response.content.decode()
    assert "css/print.css" in html
    assert "checkout 4.12.0" in html and "Cato Quinn" in html
    # The checklist by stage, in stage order, a box per item, ticked ones with who and a note.
    stages = ["Before cut", "Before approval", "During deploy", "After release / monitoring"]
    positions = [html.index(f">{stage} <span") for stage in stages]
    assert positions == sorted(positions)
    assert html.count('class="print-box"') == critical.checklist_items.count()
    assert "Changes on the train are merged and green in CI" in html
    assert "Migration rehearsed on a copy of production data" in html  # rehearsal items too
    assert "Ticked by Erin Roe" in html and "Green on run 812" in html
    # The plan's three answers.
    assert f'<a href="{GRAFANA}" rel="noopener noreferrer" class="print-bare">' in html
    assert "Switch a feature flag off" in html and "about 2 minutes" in html
    assert "Rollback rehearsed on" in html
    # The critical release's rehearsal.
    assert "Drops the legacy orders table" in html
    assert "Lock timeout" in html and "Runs the restore" in html
    assert "<time" not in html.split('class="print-sheet"')[1]  # absolute times on paper


def test_the_print_link_is_on_the_panels(client, engineer, release):
    client.force_login(engineer)
    html = page(client, release)
    assert html.count(f'href="{url("release_print", release)}"') == 1


def test_a_critical_release_page_costs_the_same_queries_however_much_it_holds(
    client, captain, manager, critical
):
    def queries_for_the_page():
        client.force_login(captain)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(critical.get_absolute_url()).status_code == 200
        return len(ctx.captured_queries)

    failure_mode_add(actor=captain, release=critical, description="Locks orders")
    rehearsal_role_assign(actor=captain, release=critical, role="Watches", person=manager)
    few = queries_for_the_page()
    for index in range(15):
        failure_mode_add(actor=captain, release=critical, description=f"Failure {index}")
        rehearsal_role_assign(actor=captain, release=critical, role=f"Role {index}", person=captain)
    checklist_snapshot(critical, default_template(critical.train.team_id))
    assert queries_for_the_page() == few
    assert few <= 15
