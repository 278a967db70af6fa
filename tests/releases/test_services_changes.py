from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from releases.models import ChangeItem, Deployment, ReleaseEvent
from releases.services.changes import change_item_add, change_item_set_ready, deployment_record
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.releases.factories import ReleaseFactory, TrainFactory

pytestmark = pytest.mark.django_db


def test_members_add_changes_and_ci_resends_are_idempotent():
    train = TrainFactory()
    member = MembershipFactory(team=train.team).user
    first = change_item_add(actor=member, train=train, title="A", external_id="PR-1")
    again = change_item_add(
        actor=member, train=train, title="A v2", external_id="PR-1", is_ready=True
    )
    assert first.pk == again.pk
    assert ChangeItem.objects.get().title == "A v2"
    change_item_set_ready(actor=member, item=again, ready=False)
    assert ChangeItem.objects.get().is_ready is False


def test_bad_changes_and_outsiders_are_refused():
    train = TrainFactory()
    member = MembershipFactory(team=train.team).user
    with pytest.raises(ValidationError):
        change_item_add(actor=member, train=train, title="", link="not a url")
    with pytest.raises(PermissionDenied):
        change_item_add(actor=UserFactory(), train=train, title="sneaky")
    assert not ChangeItem.objects.exists()


def test_deployments_are_recorded_and_updated_by_external_id():
    release = ReleaseFactory()
    ci = MembershipFactory(team=release.train.team).user
    started = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    deployment = deployment_record(
        actor=ci, release=release, environment="Production", status="started",
        started_at=started, external_id="run-7",
    )  # fmt: skip
    assert deployment.finished_at is None and deployment.environment == "production"
    done = deployment_record(
        actor=ci, release=release, environment="production", status="succeeded",
        finished_at=started + timedelta(minutes=9), external_id="run-7",
    )  # fmt: skip
    assert done.pk == deployment.pk and done.started_at == started
    assert Deployment.objects.get().status == "succeeded"
    assert ReleaseEvent.objects.filter(kind="deployment").count() == 2


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"environment": "", "status": "started"}, "environment"),
        ({"environment": "prod", "status": "exploded"}, "status"),
        (
            {
                "environment": "prod", "status": "failed",
                "started_at": datetime(2026, 3, 5, 10, tzinfo=UTC),
                "finished_at": datetime(2026, 3, 5, 9, tzinfo=UTC),
            },
            "finished_at",
        ),
    ],
)  # fmt: skip
def test_bad_deployments_write_nothing(kwargs, field):
    release = ReleaseFactory()
    ci = MembershipFactory(team=release.train.team).user
    with pytest.raises(ValidationError) as error:
        deployment_record(actor=ci, release=release, **kwargs)
    assert field in error.value.message_dict
    assert not Deployment.objects.exists()
