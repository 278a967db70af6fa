"""The release page: status, times, changes, deployments, timeline, transitions and the captain."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from releases.models import ReleaseEvent, ReleaseStatus
from releases.services.changes import deployment_record
from releases.services.lifecycle import release_assign_captain, release_transition
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ChangeItemFactory, ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def team():
    return TeamFactory(name="Checkout team", slug="checkout", timezone="Europe/Berlin")


@pytest.fixture
def manager(team):
    user = UserFactory(username="morgan", first_name="Morgan", last_name="Lee")
    MembershipFactory(user=user, team=team, role="manager")
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
def release(team):
    train = TrainFactory(team=team, name="checkout", slug="checkout")
    return ReleaseFactory(
        train=train,
        version="4.12.0",
        status=ReleaseStatus.CUT,
        cut_at=timezone.now() - timedelta(hours=2),
        target_at=timezone.now() + timedelta(hours=46),
    )


def transition_url(release):
    return reverse("releases:release_transition", args=[release.pk])


def captain_url(release):
    return reverse("releases:release_captain", args=[release.pk])


def test_the_release_page_shows_everything_a_captain_needs(client, manager, engineer, release):
    ChangeItemFactory(train=release.train, release=release, title="Faster search")
    release_transition(actor=engineer, release=release, to_status="stabilizing", note="QA begins")
    deployment_record(actor=engineer, release=release, environment="staging", status="succeeded")
    client.force_login(manager)
    response = client.get(release.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert '<nav class="breadcrumbs"' in html
    assert f'href="{release.train.get_absolute_url()}"' in html
    assert '<span class="badge badge--stabilizing">Stabilizing</span>' in html
    assert "Scheduled release" in html
    assert "Faster search" in html and "1 change" in html
    assert "staging" in html and "Succeeded" in html
    assert "QA begins" in html and "Erin Roe" in html
    assert f'datetime="{release.target_at.isoformat()}"' in html  # counts down in app.js
    assert "Overdue" not in html
    assert 'aria-current="step"' in html
    # A manager may move it on, roll nothing back yet, and cancel with a reason.
    assert 'name="to" value="approved"' in html
    assert 'hx-confirm="Cancel checkout 4.12.0? It will not be released."' in html
    assert "Roll back" not in html
    assert 'name="captain"' in html


def test_a_released_release_offers_a_confirmed_roll_back(client, manager, release):
    for status in ("stabilizing", "approved", "deploying", "released"):
        release_transition(actor=manager, release=release, to_status=status)
    client.force_login(manager)
    html = client.get(release.get_absolute_url()).content.decode()
    assert 'hx-confirm="Roll back checkout 4.12.0?"' in html
    assert 'name="to" value="rolled_back"' in html
    assert "Cancel checkout" not in html


def test_outsiders_get_404(client, outsider, release):
    client.force_login(outsider)
    assert client.get(release.get_absolute_url()).status_code == 404
    response = client.post(transition_url(release), {"to": "stabilizing"})
    assert response.status_code == 404
    assert client.post(captain_url(release), {"captain": ""}).status_code == 404
    release.refresh_from_db()
    assert release.status == "cut"
    assert not ReleaseEvent.objects.exists()


def test_a_member_moves_a_release_forward(client, engineer, release):
    client.force_login(engineer)
    response = client.post(transition_url(release), {"to": "stabilizing", "note": "QA"})
    assert response.status_code == 302
    release.refresh_from_db()
    assert release.status == "stabilizing"
    event = ReleaseEvent.objects.get()
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        engineer,
        "cut",
        "stabilizing",
        "QA",
    )
    html = client.get(response.url).content.decode()
    assert "checkout 4.12.0 is stabilizing." in html


def test_an_htmx_transition_answers_with_the_status_actions_and_timeline(client, engineer, release):
    client.force_login(engineer)
    response = client.post(transition_url(release), {"to": "stabilizing"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="release-main"')
    assert "<html" not in html and "Deployments" not in html
    assert '<span class="badge badge--stabilizing">Stabilizing</span>' in html
    assert 'id="timeline-heading"' in html and 'id="actions-heading"' in html
    assert "checkout 4.12.0 is stabilizing." in html


def test_an_illegal_transition_is_a_clear_message_and_writes_nothing(client, engineer, release):
    client.force_login(engineer)
    response = client.post(transition_url(release), {"to": "released"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "A cut release cannot move to released." in html
    assert 'class="message message--error"' in html
    release.refresh_from_db()
    assert release.status == "cut"
    assert not ReleaseEvent.objects.exists()


def test_an_unknown_status_is_refused(client, engineer, release):
    client.force_login(engineer)
    response = client.post(transition_url(release), {"to": "shipped"})
    assert response.status_code == 400
    release.refresh_from_db()
    assert release.status == "cut"


def test_an_illegal_htmx_transition_reloads_the_page_with_the_message(client, engineer, release):
    client.force_login(engineer)
    response = client.post(transition_url(release), {"to": "released"}, **HTMX)
    assert (response.status_code, response.headers["HX-Refresh"]) == (400, "true")
    html = client.get(release.get_absolute_url()).content.decode()
    assert "A cut release cannot move to released." in html
    assert not ReleaseEvent.objects.exists()


def test_an_engineer_who_is_not_captain_cannot_approve(client, engineer, manager, release):
    release_transition(actor=manager, release=release, to_status="stabilizing")
    client.force_login(engineer)
    html = client.get(release.get_absolute_url()).content.decode()
    assert 'value="approved"' not in html and 'value="cancelled"' not in html
    assert "Only the release captain or a manager" in html
    response = client.post(transition_url(release), {"to": "approved"})
    assert response.status_code == 403
    assert "Only the release captain or a manager" in response.content.decode()
    release.refresh_from_db()
    assert release.status == "stabilizing"
    assert ReleaseEvent.objects.count() == 1


def test_the_captain_may_approve(client, engineer, manager, release):
    release_transition(actor=manager, release=release, to_status="stabilizing")
    release_assign_captain(actor=manager, release=release, captain=engineer)
    client.force_login(engineer)
    assert 'value="approved"' in client.get(release.get_absolute_url()).content.decode()
    assert client.post(transition_url(release), {"to": "approved"}).status_code == 302
    release.refresh_from_db()
    assert release.status == "approved"


def test_cancelling_needs_a_reason(client, manager, release):
    client.force_login(manager)
    response = client.post(transition_url(release), {"to": "cancelled", "note": "  "})
    assert response.status_code == 400
    assert "Say why the release is cancelled." in response.content.decode()
    release.refresh_from_db()
    assert release.status == "cut"
    response = client.post(transition_url(release), {"to": "cancelled", "note": "Bad build"})
    assert response.status_code == 302
    release.refresh_from_db()
    assert (release.status, release.finished_at is not None) == ("cancelled", True)
    html = client.get(release.get_absolute_url()).content.decode()
    assert "badge--cancelled" in html and "This release is finished" in html


def test_a_manager_assigns_the_captain(client, manager, engineer, release):
    client.force_login(manager)
    response = client.post(captain_url(release), {"captain": str(engineer.pk)}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="release-main"')
    assert "Erin Roe captains checkout 4.12.0." in html
    assert "Captain assigned" in html
    release.refresh_from_db()
    assert release.captain == engineer
    assert client.post(captain_url(release), {"captain": ""}).status_code == 302
    release.refresh_from_db()
    assert release.captain is None


def test_engineers_cannot_assign_the_captain(client, engineer, release):
    client.force_login(engineer)
    response = client.post(captain_url(release), {"captain": str(engineer.pk)})
    assert response.status_code == 403
    release.refresh_from_db()
    assert release.captain is None
    assert 'name="captain"' not in client.get(release.get_absolute_url()).content.decode()


def test_the_captain_must_be_a_team_member(client, manager, outsider, release):
    client.force_login(manager)
    response = client.post(captain_url(release), {"captain": str(outsider.pk)})
    assert response.status_code == 400
    assert "Choose a member of the team as captain." in response.content.decode()
    release.refresh_from_db()
    assert release.captain is None


def test_the_release_page_query_count_is_bounded(
    client, manager, engineer, release, django_assert_max_num_queries
):
    for index in range(40):
        ChangeItemFactory(train=release.train, release=release, author=engineer)
        deployment_record(
            actor=engineer,
            release=release,
            environment=f"env-{index}",
            status="succeeded",
            now=datetime(2026, 3, 1, tzinfo=UTC),
        )
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        assert client.get(release.get_absolute_url()).status_code == 200


def test_a_release_past_its_target_is_marked_overdue(client, engineer, release):
    release.target_at = timezone.now() - timedelta(hours=1)
    release.save()
    client.force_login(engineer)
    assert "Overdue" in client.get(release.get_absolute_url()).content.decode()
