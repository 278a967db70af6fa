from django.core.management.base import BaseCommand

from releases.services.cutting import cut_due_trains


class Command(BaseCommand):
    help = "Cut every train departure that is due now (the same code the beat task runs)."

    def handle(self, *args, **options):
        report = cut_due_trains()
        for release in report.cut:
            self.stdout.write(f"Cut {release.train.team.name} / {release}")
        self.stdout.write(self.style.SUCCESS(str(report)))
