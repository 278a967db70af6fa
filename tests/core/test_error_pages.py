"""Refusals and missing pages explain themselves in the product's own layout."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from releases.models import BlackoutPeriod
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def engineer():
    user = UserFactory(username="erin")
    MembershipFactory(user=user, team=TeamFactory(slug="checkout"), role="engineer")
    return user


def test_a_refusal_says_why_and_that_nothing_changed(client, engineer):
    blackout = BlackoutPeriod.objects.create(
        team=engineer.teams.get(),
        starts_on=date.today(),
        ends_on=date.today() + timedelta(days=2),
        reason="Freeze",
    )
    client.force_login(engineer)
    response = client.get(reverse("releases:blackout_delete", args=[blackout.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You can't do that here" in html
    assert "Only a manager of this team can lift blackouts." in html
    assert "Nothing was changed" in html
    assert 'class="topbar"' in html


def test_a_missing_page_is_a_friendly_404(client, engineer):
    client.force_login(engineer)
    response = client.get("/releases/999999/")
    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()


def test_a_server_error_page_renders_without_a_request_context():
    from django.template.loader import get_template

    html = get_template("500.html").render({})
    assert "Something went wrong on our side" in html
