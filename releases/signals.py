"""Every new team starts with the starter checklists (accounts knows nothing of releases)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Team
from releases.services.checklists import starter_templates_create


@receiver(post_save, sender=Team, dispatch_uid="releases.team_starter_checklists")
def give_new_team_starter_checklists(sender, instance: Team, created: bool, raw=False, **kwargs):
    if created and not raw:
        starter_templates_create(instance)
