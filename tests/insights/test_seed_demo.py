import pytest
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD
from accounts.models import Membership, Role, Team, User
from core.models import AuditEntry
from releases.models import Release, Train

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        sorted(User.objects.values_list("username", "password")),
        sorted(Team.objects.values_list("slug", "timezone")),
        sorted(Membership.objects.values_list("user__username", "team__slug", "role")),
        AuditEntry.objects.count(),
        sorted(Release.objects.values_list("train__name", "version", "status")),
    )


def test_seed_demo_builds_a_believable_organisation_and_prints_the_logins(capsys, client):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert Team.objects.count() >= 3
    assert User.objects.count() >= 10
    for username in ("captain", "manager", "engineer"):
        assert f"{username:<10} / {DEMO_PASSWORD}" in out
        assert client.login(username=username, password=DEMO_PASSWORD)
    assert Membership.objects.filter(user__username="manager", role=Role.MANAGER).exists()
    assert User.objects.get(username="admin").is_staff


def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    first = _snapshot()
    call_command("seed_demo")
    # Passwords are re-hashed with a new salt each run; compare everything else exactly.
    second = _snapshot()
    assert [u for u, _ in first[0]] == [u for u, _ in second[0]]
    assert first[1:] == second[1:]


def test_seed_demo_large_scale_adds_benchmark_volumes():
    call_command("seed_demo", "--scale", "large")
    assert Team.objects.count() >= 40
    assert User.objects.count() >= 1000
    assert Release.objects.count() >= 5000
    # Scale teams look like real ones: checklists, and a rotation captaining every train.
    scale_trains = Train.objects.filter(team__slug__startswith="team-")
    assert not scale_trains.filter(checklist_template__isnull=True).exists()
    assert not scale_trains.filter(rotation__isnull=True).exists()
    count = User.objects.count()
    call_command("seed_demo", "--scale", "large")
    assert User.objects.count() == count


def test_seed_demo_gives_every_demo_team_trains_with_months_of_history():
    call_command("seed_demo")
    for slug in ("checkout", "platform", "mobile"):
        assert Train.objects.filter(team__slug=slug).exists()
    assert Release.objects.filter(status="released").count() >= 20
    assert Release.objects.filter(status__in=["rolled_back", "cancelled"]).exists()
    oldest = Release.objects.order_by("cut_at").first()
    newest = Release.objects.order_by("-cut_at").first()
    assert (newest.cut_at - oldest.cut_at).days >= 90
    assert Release.objects.filter(captain__isnull=False).count() == Release.objects.count()


def test_the_demo_captain_has_a_release_in_flight_today_with_its_checklist_half_done():
    call_command("seed_demo")
    release = Release.objects.get(captain__username="captain", status="stabilizing")
    items = release.checklist_items.all()
    assert items.filter(ticked_at__isnull=False).exists()
    assert items.filter(ticked_at__isnull=True, is_required=True).exists()
    assert release.is_critical and release.rehearsal_at and release.failure_modes.exists()
    assert release.rollback_plan.is_complete
    # History walked through its gates the way people do: by ticking, not by overriding.
    released = Release.objects.filter(status="released").first()
    assert not released.checklist_items.filter(stage="before_approval", ticked_at=None).exists()
    assert not Release.objects.filter(gate_overrides__isnull=False).exists()
