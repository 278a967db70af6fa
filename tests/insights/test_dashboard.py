import pytest

from core.services import heartbeat_record
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_dashboard_lists_the_viewers_teams_and_roles(client):
    user = UserFactory(first_name="Erin")
    MembershipFactory(user=user, team=TeamFactory(name="Checkout"), role="manager")
    TeamFactory(name="Secret Team")
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "Hello, Erin" in html
    assert "Checkout" in html and "Manager" in html
    assert "Secret Team" not in html


def test_dashboard_without_teams_explains_what_to_do(client):
    client.force_login(UserFactory())
    assert "You are not in a team yet" in client.get("/").content.decode()


def test_only_staff_see_the_system_status(client):
    heartbeat_record(name="scheduler", hostname="worker@box")
    client.force_login(UserFactory())
    assert "Scheduler" not in client.get("/").content.decode()
    client.force_login(UserFactory(is_staff=True))
    html = client.get("/").content.decode()
    assert "Scheduler" in html and "worker@box" in html


def test_dashboard_shows_releases_in_flight_and_next_departures(
    client, django_assert_max_num_queries
):
    from tests.releases.factories import ReleaseFactory, TrainFactory

    user = UserFactory()
    team = TeamFactory(name="Checkout")
    MembershipFactory(user=user, team=team)
    for n in range(6):
        train = TrainFactory(team=team, name=f"Web {n}")
        ReleaseFactory(train=train, version=f"4.{n}.0", status="stabilizing", captain=user)
    TrainFactory(name="Hidden train")
    client.force_login(user)
    with django_assert_max_num_queries(15):
        html = client.get("/").content.decode()
    assert "Web 0 4.0.0" in html and "you are captain" in html
    assert "Next departures" in html and "Web 5" in html
    assert "Hidden train" not in html
