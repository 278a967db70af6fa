import pytest

from core.navigation import current_section
from tests.accounts.factories import UserFactory


@pytest.mark.parametrize(
    "view_name, section",
    [
        ("insights:dashboard", "dashboard"),
        ("releases:calendar", "calendar"),
        ("releases:train_list", "trains"),
        ("incidents:hotfix_list", "hotfixes"),
        ("incidents:incident_list", "incidents"),
        ("flags:flag_list", "flags"),
        ("insights:metrics", "metrics"),
        ("accounts:profile", None),
        (None, None),
    ],
)
def test_current_section(view_name, section):
    assert current_section(view_name) == section


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, label",
    [("/", "Dashboard"), ("/calendar/", "Calendar"), ("/trains/", "Trains"),
     ("/hotfixes/", "Hotfixes"), ("/incidents/", "Incidents"), ("/flags/", "Flags"),
     ("/metrics/", "Metrics")],
)  # fmt: skip
def test_every_section_page_renders_and_marks_itself_current(client, url, label):
    client.force_login(UserFactory())
    html = client.get(url).content.decode()
    assert f'aria-current="page">{label}</a>' in html


@pytest.mark.django_db
def test_admin_link_only_for_staff(client):
    client.force_login(UserFactory())
    assert 'href="/admin/"' not in client.get("/").content.decode()
    client.force_login(UserFactory(is_staff=True))
    assert 'href="/admin/"' in client.get("/").content.decode()


@pytest.mark.django_db
def test_the_account_menu_names_the_person_and_has_initials_for_small_screens(client):
    client.force_login(UserFactory(first_name="Casey", last_name="Carter"))
    html = client.get("/").content.decode()
    assert '<span class="usermenu__name">Casey Carter</span>' in html
    assert '<span class="usermenu__initials" aria-hidden="true">CC</span>' in html
