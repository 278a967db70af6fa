"""Checklist template pages and a train's release settings, end to end through the views."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEntry
from releases.models import (
    ChecklistItem,
    ChecklistTemplate,
    ChecklistTemplateItem,
    Stage,
    TemplateKind,
    Train,
    TrainRollbackDefaults,
)
from releases.services.checklists import (
    checklist_snapshot,
    template_create,
    template_item_add,
    train_set_checklist_template,
)
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def team():
    # New teams get the three starter checklists (releases/signals.py).
    return TeamFactory(name="Checkout team", slug="checkout")


@pytest.fixture
def manager(team):
    user = UserFactory(username="morgan", first_name="Morgan")
    MembershipFactory(user=user, team=team, role="manager")
    return user


@pytest.fixture
def engineer(team):
    user = UserFactory(username="erin", first_name="Erin")
    MembershipFactory(user=user, team=team, role="engineer")
    return user


@pytest.fixture
def other_team():
    return TeamFactory(name="Payments", slug="payments")


@pytest.fixture
def outsider(other_team):
    user = UserFactory(username="olly")
    MembershipFactory(user=user, team=other_team, role="manager")
    return user


@pytest.fixture
def hotfix(team, manager):
    """A small checklist of our own: two items before approval, one during the deploy."""
    checklist = template_create(
        actor=manager, team=team, name="Quick fix", kind=TemplateKind.HOTFIX
    )
    for text, stage in [
        ("Fix reviewed", Stage.BEFORE_APPROVAL),
        ("Staging verified", Stage.BEFORE_APPROVAL),
        ("Watch the error rate", Stage.DURING_DEPLOY),
    ]:
        template_item_add(actor=manager, template=checklist, text=text, stage=stage)
    return checklist


@pytest.fixture
def train(team):
    return TrainFactory(team=team, name="Checkout", slug="checkout")


def url(name, *args):
    return reverse(f"releases:{name}", args=args)


def items(checklist, stage=None):
    rows = ChecklistTemplateItem.objects.filter(template=checklist).order_by("position", "id")
    if stage:
        rows = rows.filter(stage=stage)
    return list(rows.values_list("text", flat=True))


def item(checklist, text):
    return ChecklistTemplateItem.objects.get(template=checklist, text=text)


def item_data(prefix="add", **overrides):
    data = {
        "text": "Feature flags reviewed",
        "stage": Stage.BEFORE_APPROVAL,
        "help_text": "",
        "is_required": "on",
        "tickable_by": "member",
        **overrides,
    }
    return {f"{prefix}-{key}": value for key, value in data.items() if value is not None}


def oob_stage(stage):
    """A stage section sent out of band, to be swapped in by its id."""
    return f'id="stage-{stage}" aria-labelledby="stage-{stage}-heading" hx-swap-oob="true"'


def world():
    """Everything these pages could write, to prove a refusal wrote nothing."""
    return (
        list(
            ChecklistTemplate.objects.order_by("id").values_list(
                "id", "name", "kind", "description"
            )
        ),
        list(
            ChecklistTemplateItem.objects.order_by("id").values_list(
                "id", "stage", "position", "text", "help_text", "is_required", "tickable_by"
            )
        ),
        list(
            Train.objects.order_by("id").values_list("checklist_template", "requires_rollback_plan")
        ),
        list(TrainRollbackDefaults.objects.order_by("id").values()),
        AuditEntry.objects.count(),
    )


# --- the list ------------------------------------------------------------------------------------


def test_list_groups_checklists_by_team_with_counts_kinds_and_trains(
    client, manager, team, hotfix, train, other_team
):
    train_set_checklist_template(actor=manager, train=train, template=hotfix)
    second = TeamFactory(name="Search team", slug="search")
    MembershipFactory(user=manager, team=second, role="engineer")
    client.force_login(manager)

    response = client.get(url("checklist_template_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Checkout team" in html and "Search team" in html
    assert "Payments" not in html  # not the viewer's team
    assert html.count("Standard release") == 2  # the starter checklist of both teams
    assert url("checklist_template_detail", hotfix.pk) in html
    assert "Hotfix</span>" in html  # the kind badge
    assert train.get_absolute_url() in html  # which trains use it
    assert url("checklist_template_create") in html
    assert f"?team={team.slug}" in html and "?team=search" not in html  # engineer in Search
    assert "Each release gets a copy" in html


def test_list_for_an_engineer_offers_no_new_checklist(client, engineer):
    client.force_login(engineer)
    html = client.get(url("checklist_template_list")).content.decode()
    assert "Standard release" in html
    assert url("checklist_template_create") not in html


def test_list_empty_states(client, team, manager):
    loner = UserFactory(username="loner")
    client.force_login(loner)
    assert (
        "You are not in a team yet" in client.get(url("checklist_template_list")).content.decode()
    )

    ChecklistTemplate.objects.filter(team=team).delete()
    client.force_login(manager)
    html = client.get(url("checklist_template_list")).content.decode()
    assert "No checklists yet" in html
    assert "Create the first checklist" in html


def test_train_list_links_to_checklists(client, engineer):
    client.force_login(engineer)
    html = client.get(url("train_list")).content.decode()
    assert f'href="{url("checklist_template_list")}"' in html


def test_list_page_queries_do_not_grow_with_templates_items_or_trains(client, manager, team):
    client.force_login(manager)
    client.get(url("checklist_template_list"))  # warm up session and caches

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("checklist_template_list")).status_code == 200
        return len(queries)

    before = count()
    for n in range(4):
        checklist = template_create(actor=manager, team=team, name=f"Extra {n}")
        for i in range(3):
            template_item_add(
                actor=manager, template=checklist, text=f"Item {i}", stage="before_cut"
            )
        train = TrainFactory(team=team)
        train_set_checklist_template(actor=manager, train=train, template=checklist)
    other = TeamFactory(name="Another", slug="another")
    MembershipFactory(user=manager, team=other, role="manager")

    assert count() == before
    assert before <= 6  # session, user, memberships, templates, trains using them


# --- the checklist page --------------------------------------------------------------------------


def test_detail_shows_items_grouped_by_stage_in_order(client, manager, hotfix, train):
    train_set_checklist_template(actor=manager, train=train, template=hotfix)
    client.force_login(manager)

    response = client.get(url("checklist_template_detail", hotfix.pk))

    assert response.status_code == 200
    html = response.content.decode()
    stage_positions = [html.index(f'id="stage-{stage}"') for stage in Stage.values]
    assert stage_positions == sorted(stage_positions)
    assert html.index("Fix reviewed") < html.index("Staging verified")
    assert html.index('id="stage-before_approval"') < html.index("Fix reviewed")
    assert html.index('id="stage-during_deploy"') < html.index("Watch the error rate")
    assert "never changes running releases" in html
    assert train.get_absolute_url() in html
    assert 'id="item-add"' in html
    assert url("checklist_template_delete", hotfix.pk) in html
    assert url("checklist_template_item_move", hotfix.pk, item(hotfix, "Fix reviewed").pk) in html


def test_detail_is_read_only_for_engineers(client, engineer, hotfix):
    client.force_login(engineer)
    html = client.get(url("checklist_template_detail", hotfix.pk)).content.decode()
    assert "Fix reviewed" in html
    assert 'id="item-add"' not in html
    assert "/move/" not in html and "/edit/" not in html and "/delete/" not in html
    assert "a manager of Checkout team can change it" in html


def test_outsiders_get_404_everywhere(client, outsider, hotfix, train):
    client.force_login(outsider)
    entry = item(hotfix, "Fix reviewed")
    before = world()
    for name, args in [
        ("checklist_template_detail", (hotfix.pk,)),
        ("checklist_template_delete", (hotfix.pk,)),
        ("checklist_template_item_edit", (hotfix.pk, entry.pk)),
        ("checklist_template_item_remove", (hotfix.pk, entry.pk)),
    ]:
        assert client.get(url(name, *args)).status_code == 404
    for name, args in [
        ("checklist_template_edit", (hotfix.pk,)),
        ("checklist_template_delete", (hotfix.pk,)),
        ("checklist_template_item_add", (hotfix.pk,)),
        ("checklist_template_item_edit", (hotfix.pk, entry.pk)),
        ("checklist_template_item_move", (hotfix.pk, entry.pk)),
        ("checklist_template_item_remove", (hotfix.pk, entry.pk)),
    ]:
        assert client.post(url(name, *args), {"direction": "down"}).status_code == 404
    settings_url = url("train_release_settings", train.team.slug, train.slug)
    assert client.get(settings_url).status_code == 404
    assert client.post(settings_url, {"requires_rollback_plan": "on"}).status_code == 404
    assert world() == before


def test_an_item_of_another_checklist_is_404(client, manager, hotfix, team):
    other = ChecklistTemplate.objects.get(team=team, name="Standard release")
    client.force_login(manager)
    foreign = item(hotfix, "Fix reviewed")
    response = client.post(
        url("checklist_template_item_move", other.pk, foreign.pk), {"direction": "up"}
    )
    assert response.status_code == 404


# --- creating and editing a checklist ------------------------------------------------------------


def test_manager_creates_a_checklist(client, manager, team):
    client.force_login(manager)
    assert client.get(url("checklist_template_create")).status_code == 200

    response = client.post(
        url("checklist_template_create"),
        {"team": team.pk, "name": "Mobile release", "kind": "standard", "description": "Apps"},
    )

    checklist = ChecklistTemplate.objects.get(team=team, name="Mobile release")
    assert response.status_code == 302
    assert response["Location"] == url("checklist_template_detail", checklist.pk) + "#item-add"
    assert checklist.description == "Apps"
    assert AuditEntry.objects.filter(action="checklist_template.created").exists()


def test_duplicate_name_is_a_field_error_and_writes_nothing(client, manager, team):
    client.force_login(manager)
    before = world()

    response = client.post(
        url("checklist_template_create"),
        {"team": team.pk, "name": "hotfix", "kind": "hotfix", "description": ""},
    )

    assert response.status_code == 422
    assert "The team already has a checklist called hotfix." in response.content.decode()
    assert response.context["form"].errors["name"]
    assert world() == before


def test_only_managers_reach_new_checklist(client, engineer, team):
    client.force_login(engineer)
    before = world()
    response = client.post(
        url("checklist_template_create"), {"team": team.pk, "name": "Mine", "kind": "standard"}
    )
    assert response.status_code == 403
    assert "Only a manager of a team can create checklists." in response.content.decode()
    assert world() == before


def test_edit_name_kind_and_description(client, manager, hotfix):
    client.force_login(manager)
    data = {"name": "Hotfix (mobile)", "kind": "hotfix", "description": "For the apps"}

    response = client.post(url("checklist_template_edit", hotfix.pk), data)

    assert response.status_code == 302
    hotfix.refresh_from_db()
    assert (hotfix.name, hotfix.description) == ("Hotfix (mobile)", "For the apps")

    data["name"] = "Hotfix (web)"
    response = client.post(url("checklist_template_edit", hotfix.pk), data, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Saved." in html
    assert 'id="ct-header" hx-swap-oob="true"' in html and "Hotfix (web)" in html
    assert "<html" not in html


def test_edit_to_a_taken_name_is_refused(client, manager, hotfix):
    client.force_login(manager)
    before = world()
    data = {"name": "Standard release", "kind": "hotfix", "description": ""}

    response = client.post(url("checklist_template_edit", hotfix.pk), data, **HTMX)

    assert response.status_code == 422
    assert "already has a checklist called Standard release" in response.content.decode()
    assert world() == before


# --- items ---------------------------------------------------------------------------------------


def test_add_an_item_with_htmx_answers_the_form_and_its_stage(client, manager, hotfix):
    client.force_login(manager)

    response = client.post(
        url("checklist_template_item_add", hotfix.pk),
        item_data(text="Feature flags reviewed", stage="before_approval", tickable_by="captain"),
        **HTMX,
    )

    assert response.status_code == 200
    html = response.content.decode()
    added = item(hotfix, "Feature flags reviewed")
    assert items(hotfix, "before_approval") == [
        "Fix reviewed",
        "Staging verified",
        "Feature flags reviewed",
    ]
    assert added.tickable_by == "captain" and added.is_required
    assert "<html" not in html
    assert 'id="item-add"' in html  # a fresh form for the next item
    assert "Added “Feature flags reviewed” to Before approval." in html
    assert oob_stage("before_approval") in html
    assert f'id="item-{added.pk}"' in html
    assert 'id="ct-status" hx-swap-oob="innerHTML"' in html


def test_add_an_item_without_javascript_redirects(client, manager, hotfix):
    client.force_login(manager)

    response = client.post(
        url("checklist_template_item_add", hotfix.pk),
        item_data(text="Customer support told", stage="after_release", is_required=None),
    )

    added = item(hotfix, "Customer support told")
    assert response.status_code == 302
    assert response["Location"] == url("checklist_template_detail", hotfix.pk) + f"#item-{added.pk}"
    assert added.stage == "after_release" and not added.is_required
    page = client.get(response["Location"]).content.decode()
    assert "Added “Customer support told” to After release / monitoring." in page


def test_an_invalid_item_is_422_and_writes_nothing(client, manager, hotfix):
    client.force_login(manager)
    before = world()

    fragment = client.post(
        url("checklist_template_item_add", hotfix.pk), item_data(text="", stage="nope"), **HTMX
    )
    page = client.post(url("checklist_template_item_add", hotfix.pk), item_data(text=""))

    assert fragment.status_code == page.status_code == 422
    assert "This field is required." in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    assert "<html" in page.content.decode()
    assert world() == before


def test_edit_an_item_inline(client, manager, hotfix):
    client.force_login(manager)
    entry = item(hotfix, "Staging verified")
    edit_url = url("checklist_template_item_edit", hotfix.pk, entry.pk)

    editor = client.get(edit_url, **HTMX)
    assert editor.status_code == 200
    assert f'<li class="ct-item ct-item--editing" id="item-{entry.pk}">' in editor.content.decode()
    assert client.get(edit_url).status_code == 200  # the page for browsers without JavaScript

    response = client.post(
        edit_url,
        item_data(
            prefix=f"item-{entry.pk}",
            text="Staging verified by QA",
            stage="during_deploy",
            help_text="Ask in #qa",
            tickable_by="captain",
        ),
        **HTMX,
    )

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#stage-before_approval"
    html = response.content.decode()
    assert oob_stage("during_deploy") in html
    entry.refresh_from_db()
    assert (entry.text, entry.stage, entry.help_text, entry.tickable_by) == (
        "Staging verified by QA",
        "during_deploy",
        "Ask in #qa",
        "captain",
    )
    # Where it lands within its new stage is the service's business (it keeps its position).
    assert sorted(items(hotfix, "during_deploy")) == [
        "Staging verified by QA",
        "Watch the error rate",
    ]
    assert items(hotfix, "before_approval") == ["Fix reviewed"]


def test_edit_an_item_without_javascript(client, manager, hotfix):
    client.force_login(manager)
    entry = item(hotfix, "Fix reviewed")
    edit_url = url("checklist_template_item_edit", hotfix.pk, entry.pk)

    refused = client.post(edit_url, item_data(prefix=f"item-{entry.pk}", text=""))
    assert refused.status_code == 422
    assert "<html" in refused.content.decode()
    entry.refresh_from_db()
    assert entry.text == "Fix reviewed"

    response = client.post(edit_url, item_data(prefix=f"item-{entry.pk}", text="Fix peer-reviewed"))
    assert response.status_code == 302
    assert response["Location"].endswith(f"#item-{entry.pk}")
    entry.refresh_from_db()
    assert entry.text == "Fix peer-reviewed"


def test_move_items_up_and_down_within_their_stage(client, manager, hotfix):
    client.force_login(manager)
    second = item(hotfix, "Staging verified")
    move_url = url("checklist_template_item_move", hotfix.pk, second.pk)

    response = client.post(move_url, {"direction": "up"}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert items(hotfix, "before_approval") == ["Staging verified", "Fix reviewed"]
    assert html.index("Staging verified") < html.index("Fix reviewed")
    assert "<html" not in html
    assert items(hotfix, "during_deploy") == ["Watch the error rate"]  # other stages untouched

    response = client.post(move_url, {"direction": "down"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#item-{second.pk}")
    assert items(hotfix, "before_approval") == ["Fix reviewed", "Staging verified"]

    client.post(move_url, {"direction": "down"})  # already last: nothing to do
    assert items(hotfix, "before_approval") == ["Fix reviewed", "Staging verified"]
    assert client.post(move_url, {"direction": "sideways"}).status_code == 400


def test_remove_an_item(client, manager, hotfix):
    client.force_login(manager)
    first, second = item(hotfix, "Fix reviewed"), item(hotfix, "Staging verified")

    confirm = client.get(url("checklist_template_item_remove", hotfix.pk, first.pk))
    assert confirm.status_code == 200
    assert "Remove “Fix reviewed” from Quick fix?" in confirm.content.decode()
    assert items(hotfix, "before_approval") == ["Fix reviewed", "Staging verified"]

    response = client.post(url("checklist_template_item_remove", hotfix.pk, first.pk))
    assert response.status_code == 302
    assert items(hotfix, "before_approval") == ["Staging verified"]

    response = client.post(url("checklist_template_item_remove", hotfix.pk, second.pk), **HTMX)
    assert response.status_code == 200
    assert "Nothing to do at this stage." in response.content.decode()
    assert items(hotfix, "before_approval") == []


# --- deleting a checklist, and the releases that copied it ---------------------------------------


def test_delete_asks_first_naming_the_checklist_and_its_trains(client, manager, hotfix, train):
    train_set_checklist_template(actor=manager, train=train, template=hotfix)
    client.force_login(manager)

    response = client.get(url("checklist_template_delete", hotfix.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Delete checklist “Quick fix”?" in html
    assert "Trains using it:" in html and train.name in html
    assert "Releases keep their copies" in html
    assert ChecklistTemplate.objects.filter(pk=hotfix.pk).exists()


def test_delete_and_edits_leave_release_copies_alone(client, manager, hotfix, train):
    train_set_checklist_template(actor=manager, train=train, template=hotfix)
    release = ReleaseFactory(train=train)
    checklist_snapshot(release, hotfix)
    copied = list(release.checklist_items.order_by("position").values_list("stage", "text"))
    client.force_login(manager)

    entry = item(hotfix, "Fix reviewed")
    client.post(
        url("checklist_template_item_edit", hotfix.pk, entry.pk),
        item_data(prefix=f"item-{entry.pk}", text="Changed afterwards"),
    )
    client.post(
        url("checklist_template_item_remove", hotfix.pk, item(hotfix, "Staging verified").pk)
    )
    response = client.post(url("checklist_template_delete", hotfix.pk))

    assert response.status_code == 302
    assert response["Location"] == url("checklist_template_list")
    assert not ChecklistTemplate.objects.filter(pk=hotfix.pk).exists()
    train.refresh_from_db()
    assert train.checklist_template is None
    assert copied == [
        ("before_approval", "Fix reviewed"),
        ("before_approval", "Staging verified"),
        ("during_deploy", "Watch the error rate"),
    ]
    assert (
        list(
            ChecklistItem.objects.filter(release=release)
            .order_by("position")
            .values_list("stage", "text")
        )
        == copied
    )


def test_delete_with_htmx_redirects_to_the_list(client, manager, hotfix):
    client.force_login(manager)
    response = client.post(url("checklist_template_delete", hotfix.pk), **HTMX)
    assert response["HX-Redirect"] == url("checklist_template_list")
    assert not ChecklistTemplate.objects.filter(pk=hotfix.pk).exists()


# --- engineers read, managers write --------------------------------------------------------------


def _writes(checklist, entry):
    return [
        ("post", url("checklist_template_edit", checklist.pk), {"name": "X", "kind": "hotfix"}),
        ("get", url("checklist_template_delete", checklist.pk), {}),
        ("post", url("checklist_template_delete", checklist.pk), {}),
        ("post", url("checklist_template_item_add", checklist.pk), item_data()),
        ("get", url("checklist_template_item_edit", checklist.pk, entry.pk), {}),
        (
            "post",
            url("checklist_template_item_edit", checklist.pk, entry.pk),
            item_data(prefix=f"item-{entry.pk}", text="Mine now"),
        ),
        (
            "post",
            url("checklist_template_item_move", checklist.pk, entry.pk),
            {"direction": "down"},
        ),
        ("get", url("checklist_template_item_remove", checklist.pk, entry.pk), {}),
        ("post", url("checklist_template_item_remove", checklist.pk, entry.pk), {}),
    ]


def test_engineers_are_refused_every_write_with_a_message(client, engineer, hotfix):
    client.force_login(engineer)
    before = world()
    for method, target, data in _writes(hotfix, item(hotfix, "Fix reviewed")):
        response = getattr(client, method)(target, data)
        assert response.status_code == 403, target
        assert "Only a manager of this team can" in response.content.decode(), target
        assert "Nothing was changed" in response.content.decode()
    assert world() == before


def test_engineers_refused_under_htmx_get_a_reload_with_the_message(client, engineer, hotfix):
    client.force_login(engineer)
    before = world()
    entry = item(hotfix, "Fix reviewed")

    response = client.post(
        url("checklist_template_item_move", hotfix.pk, entry.pk), {"direction": "down"}, **HTMX
    )

    assert response.status_code == 403
    assert response["HX-Refresh"] == "true"
    assert world() == before
    page = client.get(url("checklist_template_detail", hotfix.pk)).content.decode()
    assert "Only a manager of this team can edit checklists." in page


# --- a train's release settings ------------------------------------------------------------------


def settings_data(**overrides):
    data = {
        "checklist_template": "",
        "detection": "Error rate on https://grafana.example.com/d/checkout",
        "revert_method": "redeploy_previous",
        "revert_minutes": "10",
        "revert_notes": "",
        "data_impact": "None",
        "requires_rollback_plan": "on",
    }
    return {key: value for key, value in {**data, **overrides}.items() if value is not None}


def test_train_page_shows_the_release_settings_card(client, engineer, manager, hotfix, train):
    train_set_checklist_template(actor=manager, train=train, template=hotfix)
    client.force_login(engineer)

    html = client.get(train.get_absolute_url()).content.decode()

    assert 'id="release-settings"' in html
    assert url("checklist_template_detail", hotfix.pk) in html
    assert "No default plan yet" in html
    assert "A manager of Checkout team can change these." in html
    assert url("train_release_settings", train.team.slug, train.slug) not in html

    client.force_login(manager)
    html = client.get(train.get_absolute_url()).content.decode()
    assert url("train_release_settings", train.team.slug, train.slug) in html
    assert 'name="checklist_template"' in html


def test_manager_sets_checklist_rollback_defaults_and_the_requirement(
    client, manager, hotfix, train
):
    client.force_login(manager)
    settings_url = url("train_release_settings", train.team.slug, train.slug)
    assert client.get(settings_url).status_code == 200

    response = client.post(settings_url, settings_data(checklist_template=hotfix.pk))

    assert response.status_code == 302
    assert response["Location"] == train.get_absolute_url() + "#release-settings"
    train.refresh_from_db()
    assert train.checklist_template == hotfix
    assert train.requires_rollback_plan
    defaults = train.rollback_defaults
    assert defaults.revert_method == "redeploy_previous" and defaults.revert_minutes == 10
    assert defaults.is_complete

    # With htmx the card swaps itself; clearing the checklist and the requirement.
    response = client.post(settings_url, settings_data(requires_rollback_plan=None), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="release-settings"' in html and "Saved." in html
    train.refresh_from_db()
    assert train.checklist_template is None
    assert not train.requires_rollback_plan


def test_a_checklist_of_another_team_is_refused(client, manager, train, other_team):
    foreign = ChecklistTemplate.objects.get(team=other_team, name="Standard release")
    client.force_login(manager)
    before = world()

    response = client.post(
        url("train_release_settings", train.team.slug, train.slug),
        settings_data(checklist_template=foreign.pk),
        **HTMX,
    )

    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert world() == before


def test_invalid_rollback_defaults_write_nothing(client, manager, hotfix, train):
    client.force_login(manager)
    before = world()

    response = client.post(
        url("train_release_settings", train.team.slug, train.slug),
        settings_data(checklist_template=hotfix.pk, revert_minutes="5000"),
    )

    assert response.status_code == 422
    assert "<html" in response.content.decode()
    assert response.context["release_settings"].form.errors["revert_minutes"]
    assert world() == before


def test_engineers_cannot_change_release_settings(client, engineer, hotfix, train):
    client.force_login(engineer)
    settings_url = url("train_release_settings", train.team.slug, train.slug)
    before = world()

    assert client.get(settings_url).status_code == 403
    response = client.post(settings_url, settings_data(checklist_template=hotfix.pk))

    assert response.status_code == 403
    assert "Only a manager of this team can change trains." in response.content.decode()
    assert world() == before
