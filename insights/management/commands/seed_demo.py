from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.demo import DEMO_PASSWORD, seed_accounts, seed_accounts_at_scale
from releases.demo import seed_releases, seed_releases_at_scale

SCALES = {
    "large": {
        "accounts": {"teams": 40, "users_per_team": 25},
        "releases": {"trains_per_team": 2, "weeks": 104},
    }
}


class Command(BaseCommand):
    help = "Load a believable demo organisation. Safe to run again: it changes nothing twice."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=["demo", "large"],
            default="demo",
            help="'large' adds benchmark volumes on top of the demo organisation.",
        )

    def handle(self, *args, scale: str, **options):
        with transaction.atomic():
            users = seed_accounts()
            trains = seed_releases()
            if scale == "large":
                seed_accounts_at_scale(**SCALES["large"]["accounts"])
                seed_releases_at_scale(**SCALES["large"]["releases"])
        if trains:
            self.stdout.write(f"Created {len(trains)} trains with four months of history.")
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Log in with:"))
        for user in users:
            teams = ", ".join(
                f"{m.team.name} ({m.role})" for m in user.memberships.select_related("team")
            )
            note = "staff, opens /admin/" if user.is_staff else teams
            self.stdout.write(f"  {user.username:<10} / {DEMO_PASSWORD}   {note}")
