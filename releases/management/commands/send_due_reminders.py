from django.core.management.base import BaseCommand

from releases.models import NotificationKind
from releases.reminders import send_due_reminders


class Command(BaseCommand):
    help = (
        "Send every reminder that is due now and enqueue deliveries due again (the same code the "
        "beat task runs every minute). Safe to run any time: nothing is ever sent twice."
    )

    def handle(self, *args, **options):
        counts = send_due_reminders()
        errors = counts.pop("errors")
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count}")
        if errors:
            self.stderr.write(self.style.ERROR(f"{errors} step(s) failed; see the log."))
        claimed = sum(counts.get(kind, 0) for kind in NotificationKind.values)
        self.stdout.write(self.style.SUCCESS(f"{claimed} deliveries claimed"))
