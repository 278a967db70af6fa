"""Every legal and illegal release transition, with its permissions and timeline."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from releases.models import TRANSITIONS, Release, ReleaseEvent, ReleaseStatus
from releases.services.lifecycle import can_transition, release_assign_captain, release_transition
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.releases.factories import ReleaseFactory

pytestmark = pytest.mark.django_db

LEGAL = [(frm, to) for frm, tos in TRANSITIONS.items() for to in tos]
ILLEGAL = [
    (frm, to) for frm in ReleaseStatus.values for to in ReleaseStatus.values
    if to not in TRANSITIONS[frm]
]  # fmt: skip


@pytest.fixture
def manager_and_release():
    release = ReleaseFactory()
    manager = MembershipFactory(team=release.train.team, role="manager").user
    return manager, release


@pytest.mark.parametrize("from_status, to_status", LEGAL)
def test_every_legal_transition_is_recorded(manager_and_release, from_status, to_status):
    manager, release = manager_and_release
    Release.objects.filter(pk=release.pk).update(status=from_status)
    release.refresh_from_db()
    moved = release_transition(actor=manager, release=release, to_status=to_status, note="why")
    assert moved.status == to_status
    event = ReleaseEvent.objects.get(release=release)
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        manager,
        from_status,
        to_status,
        "why",
    )
    if to_status == "released":
        assert moved.released_at is not None
    if to_status in ("rolled_back", "cancelled"):
        assert moved.finished_at is not None


@pytest.mark.parametrize("from_status, to_status", ILLEGAL)
def test_every_illegal_transition_is_refused_and_writes_nothing(
    manager_and_release, from_status, to_status
):
    manager, release = manager_and_release
    Release.objects.filter(pk=release.pk).update(status=from_status)
    release.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        release_transition(actor=manager, release=release, to_status=to_status, note="x")
    assert "to" in error.value.message_dict
    release.refresh_from_db()
    assert release.status == from_status
    assert not ReleaseEvent.objects.exists()


def test_an_unknown_status_is_refused(manager_and_release):
    manager, release = manager_and_release
    with pytest.raises(ValidationError, match="not a release status"):
        release_transition(actor=manager, release=release, to_status="shipped")


def test_cancelling_needs_a_reason(manager_and_release):
    manager, release = manager_and_release
    with pytest.raises(ValidationError, match="Say why"):
        release_transition(actor=manager, release=release, to_status="cancelled", note=" ")


def test_engineers_stabilize_but_only_captain_or_manager_approve():
    release = ReleaseFactory()
    engineer = MembershipFactory(team=release.train.team, role="engineer").user
    release_transition(actor=engineer, release=release, to_status="stabilizing")
    release.refresh_from_db()
    assert not can_transition(engineer, release, "approved")
    with pytest.raises(PermissionDenied, match="captain or a manager"):
        release_transition(actor=engineer, release=release, to_status="approved")
    Release.objects.filter(pk=release.pk).update(captain=engineer)
    release.refresh_from_db()
    assert can_transition(engineer, release, "approved")
    assert release_transition(actor=engineer, release=release, to_status="approved").status == (
        "approved"
    )


def test_outsiders_cannot_touch_a_release():
    release = ReleaseFactory()
    with pytest.raises(PermissionDenied, match="not a member"):
        release_transition(actor=UserFactory(), release=release, to_status="stabilizing")
    release.refresh_from_db()
    assert release.status == "cut"


def test_a_stale_copy_cannot_skip_the_lock(manager_and_release):
    manager, release = manager_and_release
    stale = Release.objects.get(pk=release.pk)
    release_transition(actor=manager, release=release, to_status="cancelled", note="dup")
    with pytest.raises(ValidationError):
        release_transition(actor=manager, release=stale, to_status="stabilizing")


def test_managers_assign_a_captain_from_the_team(manager_and_release):
    manager, release = manager_and_release
    member = MembershipFactory(team=release.train.team).user
    release_assign_captain(actor=manager, release=release, captain=member)
    release.refresh_from_db()
    assert release.captain == member
    assert ReleaseEvent.objects.get(kind="captain").actor == manager
    with pytest.raises(ValidationError, match="member of the train's team"):
        release_assign_captain(actor=manager, release=release, captain=UserFactory())
    with pytest.raises(PermissionDenied):
        release_assign_captain(actor=member, release=release, captain=member)
