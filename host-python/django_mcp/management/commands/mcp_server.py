"""`DJANGO_MCP_KEY=<key_id>.<secret> python manage.py mcp_server` — MCP over STDIO."""

import os
import sys

from django.core.management.base import BaseCommand, CommandError

from django_mcp.keys import authenticate_credential
from django_mcp.transport import stdio


class Command(BaseCommand):
    help = "Serve MCP over STDIO for the user of the key in DJANGO_MCP_KEY."

    def handle(self, *args, **options):
        credential = os.environ.get("DJANGO_MCP_KEY")
        if not credential:
            raise CommandError("DJANGO_MCP_KEY environment variable is required (the key's <key_id>.<secret>).")
        check = authenticate_credential(credential)
        if check.status != "ok":
            raise CommandError(f"DJANGO_MCP_KEY was refused: {check.status.replace('_', ' ')}.")
        sys.stderr.write(f"django-mcp: serving MCP over STDIO as {check.key.user} (key {check.key.key_id})\n")
        sys.stderr.flush()
        stdio.serve(check.key, stdin=sys.stdin, stdout=self.stdout._out)
