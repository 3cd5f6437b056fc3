"""`manage.py mcp_key create|list|revoke|rotate|inspect`: manage MCP API keys from the shell."""

import json
import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from django_mcp.models import KEY_ID_LENGTH, MCPAPIKey
from django_mcp.toolsets import check_patterns

SHOWN_ONCE = "This secret is shown ONCE. Store it now."

# Keys made by the original package may start with "-", which argparse takes for an option.
_DASH_KEY_ID = re.compile(rf"-[A-Za-z0-9_-]{{{KEY_ID_LENGTH - 1}}}")


class SubcommandParser(CommandParser):
    """A subcommand parser whose `key_id` positional may start with "-".

    Such a token is moved behind "--" (keeping every real option in front of it), so
    `mcp_key revoke -Ab3...` works without the operator having to know about "--".
    """

    def __init__(self, *, takes_key_id=False, **kwargs):
        self.takes_key_id = takes_key_id
        super().__init__(**kwargs)

    def parse_known_args(self, args=None, namespace=None):
        if self.takes_key_id and args is not None and "--" not in args:
            key_ids = [arg for arg in args if _DASH_KEY_ID.fullmatch(arg)]
            if key_ids:
                args = [arg for arg in args if arg not in key_ids] + ["--", *key_ids]
        return super().parse_known_args(args, namespace)


class Command(BaseCommand):
    help = "Manage django-mcp API keys (create / list / revoke / rotate / inspect)."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True, parser_class=SubcommandParser)

        create = subcommands.add_parser(
            "create", help="Create an MCP API key for a user; prints the wire credential ONCE."
        )
        create.add_argument("username", help="Django username to bind the key to.")
        create.add_argument("--name", required=True, help="Operator-facing label.")
        create.add_argument(
            "--allowed-tools",
            default="",
            help="Comma-separated allowlist (tool names / resource templates / prompt names).",
        )
        create.add_argument(
            "--toolset",
            action="append",
            default=[],
            metavar="PATTERN",
            help="Add a toolset pattern to the allowlist (library.*, library.Book.*, *.read); repeatable.",
        )
        create.add_argument(
            "--read-only",
            action="store_true",
            help="The key reaches only read-only tools, resources and prompts.",
        )
        create.add_argument(
            "--expires-in",
            type=int,
            metavar="DAYS",
            help="Days until the key expires (omit for no expiry).",
        )

        listing = subcommands.add_parser("list", help="List MCP API keys. Never prints secrets.")
        listing.add_argument("--user", help="Filter to a single username.")

        for name, help_text in [
            ("revoke", "Revoke a key; the next request authenticated with it fails."),
            ("rotate", "Issue a fresh secret and print the new credential; revocation stays."),
            ("inspect", "Show key fields incl. allowed_tools and read_only. Never prints the secret."),
        ]:
            subcommand = subcommands.add_parser(name, help=help_text, takes_key_id=True)
            subcommand.add_argument("key_id", help="The part of the credential before the dot.")

        for subcommand in subcommands.choices.values():
            subcommand.add_argument("--json", action="store_true", help="Print one JSON document on stdout.")

    def handle(self, *args, subcommand, **options):
        getattr(self, f"handle_{subcommand}")(options)

    # Subcommands

    def handle_create(self, options):
        user = active_user(options["username"])
        days = options["expires_in"]
        if days is not None and days <= 0:
            raise CommandError("--expires-in must be a positive integer (days)")
        try:
            patterns = check_patterns(options["toolset"])
        except ValueError as e:
            raise CommandError(f"--toolset: {e}") from None
        names = [t.strip() for t in options["allowed_tools"].split(",") if t.strip()]
        key, secret = MCPAPIKey.objects.create_key(
            user,
            name=options["name"],
            allowed_tools=names + patterns,
            read_only=options["read_only"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        self.write_credential(key, secret, options)

    def handle_list(self, options):
        keys = MCPAPIKey.objects.select_related("user").order_by("created_at", "pk")
        if options["user"]:
            keys = keys.filter(**{f"user__{get_user_model().USERNAME_FIELD}": options["user"]})
        if options["json"]:
            self.write_json([describe(key) for key in keys])
            return
        if not keys:
            self.stderr.write("no keys found", style_func=self.style.WARNING)
            return
        header = ["key_id", "name", "user", "status", "created_at", "last_used_at"]
        rows = [
            [
                key.key_id,
                key.name,
                key.user.get_username(),
                key.status_label(),
                isoformat(key.created_at) or "-",
                isoformat(key.last_used_at) or "-",
            ]
            for key in keys
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())

    def handle_revoke(self, options):
        key = self.get_key(options["key_id"])
        key.revoke()
        if options["json"]:
            self.write_json(describe(key))
        else:
            self.stdout.write(f"revoked: {key.key_id}")

    def handle_rotate(self, options):
        key = self.get_key(options["key_id"])
        self.write_credential(key, key.rotate(), options)

    def handle_inspect(self, options):
        key = self.get_key(options["key_id"])
        if options["json"]:
            self.write_json(describe(key))
            return
        fields = describe(key)
        width = max(map(len, fields))
        for label, value in fields.items():
            if label == "allowed_tools":
                value = ",".join(value) if value else "[]"
            elif value is None:
                value = "-"
            self.stdout.write(f"{label.ljust(width)}  {value}")

    # Helpers

    def get_key(self, key_id):
        try:
            return MCPAPIKey.objects.select_related("user").get(key_id=key_id)
        except MCPAPIKey.DoesNotExist:
            raise CommandError(f"key not found: {key_id!r}") from None

    def write_credential(self, key, secret, options):
        if options["json"]:
            self.write_json({**describe(key), "credential": key.credential(secret)})
        else:
            self.stdout.write(key.credential(secret))
        self.stderr.write(SHOWN_ONCE, style_func=self.style.WARNING)

    def write_json(self, document):
        self.stdout.write(json.dumps(document, indent=2))


def isoformat(value):
    return value.isoformat() if value else None


def describe(key):
    """Everything about a key except its secret, in the order `inspect` prints it."""
    return {
        "key_id": key.key_id,
        "name": key.name,
        "user": key.user.get_username(),
        "status": key.status_label(),
        "created_at": isoformat(key.created_at),
        "last_used_at": isoformat(key.last_used_at),
        "expires_at": isoformat(key.expires_at),
        "revoked_at": isoformat(key.revoked_at),
        "allowed_tools": list(key.allowed_tools),
        "read_only": bool(key.read_only),
    }


def active_user(username):
    """The active user named `username`, or a CommandError naming them."""
    User = get_user_model()
    try:
        user = User._default_manager.get_by_natural_key(username)
    except User.DoesNotExist:
        raise CommandError(f"user not found: {username!r}") from None
    if not user.is_active:
        raise CommandError(f"user is not active: {username!r}")
    return user
