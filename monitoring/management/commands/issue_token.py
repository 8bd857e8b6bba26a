"""Issue an API token from the command line and print its key, once:

    python manage.py issue_token --user donor --programme CIUDADES --scope read --days 90

The same rules as the account page: the user must be a member of the programme, only a role
that writes may hold a write token, and a token lasts 1–366 days. The key is the first line
of the output, on its own (``manage.py issue_token … | head -n 1``); the second says when it
expires."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.forms_tokens import DEFAULT_DAYS, check_token_request
from monitoring.models import ApiToken, Programme


class Command(BaseCommand):
    help = "Issue an API token for a user and a programme; prints the key once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="Username.")
        parser.add_argument("--programme", required=True, help="Programme code, e.g. CIUDADES.")
        parser.add_argument(
            "--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.READ, help="read|write"
        )
        parser.add_argument(
            "--days", type=int, default=DEFAULT_DAYS, help="Days until it expires (1–366)."
        )
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args: Any, **options: Any) -> None:
        username, code = options["user"], options["programme"]
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is disabled.")
        programme = Programme.objects.filter(code=code).first()
        if programme is None:
            raise CommandError(f"No programme with code {code!r}.")
        scope, days = options["scope"], options["days"]
        try:
            check_token_request(user=user, programme=programme, scope=scope, days=days)
        except ValidationError as exc:
            problems = "; ".join(
                f"--{field}: {message}"
                for field, messages in exc.message_dict.items()
                for message in messages
            )
            raise CommandError(problems) from exc
        name = options["name"] or f"{programme.code} {scope} (command line)"
        token, key = ApiToken.issue(
            user=user, programme=programme, scope=scope, days=days, name=name[:100]
        )
        self.stdout.write(key)
        self.stdout.write(
            f"Expires {token.expires_at:%Y-%m-%d %H:%M %Z} ({username}, {programme.code}, "
            f"{scope}). The key is not stored and will not be shown again."
        )
