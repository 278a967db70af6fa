from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiScope, User
from accounts.services import api_token_issue


class Command(BaseCommand):
    help = "Issue an API token for a user and print it (shown once; only a hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="Shell token", help="A name to recognise it by.")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            choices=ApiScope.values,
            help="Repeat for several scopes. Default: read.",
        )

    def handle(self, *args, username: str, name: str, scopes: list[str] | None, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named “{username}”.") from exc
        try:
            issued = api_token_issue(
                actor=None, user=user, name=name, scopes=scopes or [ApiScope.READ]
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stderr.write(
            f"Token “{issued.token.name}” for {user.username} with scopes "
            f"{', '.join(issued.token.scopes)}. Store it now; it is not shown again."
        )
        self.stdout.write(issued.raw)
