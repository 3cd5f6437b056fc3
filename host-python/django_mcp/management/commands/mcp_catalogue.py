"""`manage.py mcp_catalogue [--user USERNAME | --key KEY_ID] [--json]`: see what you serve.

What a caller is offered is asked of the server itself — `tools/list`,
`resources/templates/list` and `prompts/list`, paged to the end through `server.handle` with
the caller's identity, as a client's requests are — so gates and a key's allowlist apply
exactly as they do to that caller. What loading the catalogue left out comes from where it
was decided: the warnings the engine runtime keeps from gathering the facts and loading them.
"""

import json
from collections import Counter

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter
from django.test.utils import override_settings

from django_mcp import conf, server
from django_mcp.facts.views import view_function
from django_mcp.identity import Identity
from django_mcp.management.commands.mcp_key import active_user
from django_mcp.models import MCPAPIKey

#: Tokens are estimated as a descriptor's bytes divided by this (rounded up): a rule of thumb
#: for JSON and English text; a client's tokenizer may count otherwise.
BYTES_PER_TOKEN = 4
LARGEST_SHOWN = 10
#: The lists asked, by the key their pages keep the items under.
LISTS = {"tools": "tools/list", "resourceTemplates": "resources/templates/list", "prompts": "prompts/list"}
SURFACES = ("admin", "views", "drf", "search", "custom")

JSON_KEYS_HELP = """
With --json, one JSON document:
  caller              {"user", "key", "allowed_tools", "assumed_superuser"}: who was asked for
  counts              {"tools", "resource_templates", "prompts"}: what that caller is offered
  tools_by_surface    {"admin", "views", "drf", "search", "custom"}: tool counts
  tools_by_app        {app label: tool count}; "-" for tools of no installed app
  tools_list          {"bytes", "estimated_tokens", "token_estimate"}: the tools/list
                      descriptors as compact JSON (UTF-8); tokens = bytes / 4, rounded up
  tools               [{"name", "surface", "app", "bytes"}] in tools/list order
  largest_tools       the 10 largest of "tools", largest first
  discovery           {"mode", "threshold", "applies", "listed", "listed_bytes"}: whether
                      tools/list answers this caller with discovery's meta-tools instead of
                      "tools" ("listed": the names it answers, "listed_bytes" their bytes)
  left_out            [{"source": "facts" | "engine", "message"}]: what loading the
                      catalogue left out or described only in part, and why (the start-up
                      log's warnings), whoever the caller
"""


class Command(BaseCommand):
    help = (
        "See what you serve: the tools, resource templates and prompts a caller is offered (counts by "
        "kind, by surface and by app), the bytes of the tools/list descriptors and their estimated tokens "
        f"(bytes / {BYTES_PER_TOKEN}), the largest descriptors, and what was left out of the catalogue, "
        "with the reason. Without --user or --key: what a superuser would be offered. The lists are "
        "asked of the server as a client's requests are: audited, and counted against the caller's "
        "rate limit."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        return super().create_parser(
            prog_name, subcommand, epilog=JSON_KEYS_HELP, formatter_class=_KeysAsWrittenFormatter, **kwargs
        )

    def add_arguments(self, parser):
        caller = parser.add_mutually_exclusive_group()
        caller.add_argument("--user", metavar="USERNAME", help="What this user is offered (with no key's allowlist).")
        caller.add_argument(
            "--key", metavar="KEY_ID", help="What this key is offered: its user's, within its allowed_tools."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON document on stdout (keys below).")

    def handle(self, *args, user=None, key=None, **options):
        # Every form built with the facts: what loading leaves out is reported in full.
        with server.eager_forms():
            self._handle(user, key, options)

    def _handle(self, user, key, options):
        identity, caller = _identity(user, key)
        listed = {name: _list_all(identity, method, name) for name, method in LISTS.items()}
        runtime = server.state.get_runtime()
        tool_sources, left_out = runtime.tool_sources(), runtime.load_warnings()  # before any reload
        served = listed["tools"]
        if any(tool["name"] not in {source["name"] for source in tool_sources} for tool in served):
            # Discovery answered with its meta-tools: the tools behind them are listed with it off.
            with override_settings(DJANGO_MCP_DISCOVERY="off"):
                server.reset()
                listed["tools"] = _list_all(identity, "tools/list", "tools")
            server.reset()
        report = _report(caller, listed, tool_sources, left_out, server.state.registry)
        report["discovery"] = _discovery(served, listed["tools"])
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self.write_text(report)

    def write_text(self, report):
        caller, counts, tools_list = report["caller"], report["counts"], report["tools_list"]
        if caller["assumed_superuser"]:
            self.stdout.write("Offered to a superuser (no --user or --key given):")
        elif caller["key"]:
            allowed = ", ".join(caller["allowed_tools"]) or "every tool"
            self.stdout.write(f"Offered to key {caller['key']} of {caller['user']} (allowed_tools: {allowed}):")
        else:
            self.stdout.write(f"Offered to {caller['user']} (no key, so no allowed_tools):")
        self.stdout.write(
            f"  {counts['tools']} tools, {counts['resource_templates']} resource templates, {counts['prompts']} prompts"
        )
        self.stdout.write(f"  tools by surface: {_counted(report['tools_by_surface'])}")
        self.stdout.write(f"  tools by app: {_counted(report['tools_by_app']) or '-'}")
        self.stdout.write(
            f"  tools/list descriptors: {tools_list['bytes']} bytes, "
            f"~{tools_list['estimated_tokens']} tokens ({tools_list['token_estimate']})"
        )
        if report["largest_tools"]:
            self.stdout.write("Largest descriptors (bytes):")
            width = len(str(report["largest_tools"][0]["bytes"]))
            for tool in report["largest_tools"]:
                self.stdout.write(f"  {str(tool['bytes']).rjust(width)}  {tool['name']}")
        discovery = report["discovery"]
        if discovery["applies"]:
            self.stdout.write(
                f"Discovery ({discovery['mode']}, threshold {discovery['threshold']}) applies: "
                f"tools/list answers {', '.join(discovery['listed'])} "
                f"({discovery['listed_bytes']} bytes) instead of the tools above"
            )
        else:
            self.stdout.write(
                f"Discovery ({discovery['mode']}, threshold {discovery['threshold']}) does not "
                "apply: tools/list answers the tools above"
            )
        self.stdout.write(f"Left out of the catalogue, or described only in part ({len(report['left_out'])}):")
        for warning in report["left_out"]:
            self.stdout.write(f"  [{warning['source']}] {warning['message']}")


class _KeysAsWrittenFormatter(DjangoHelpFormatter):
    """Django's help layout, with the JSON keys (the epilog) laid out as written."""

    def _fill_text(self, text, width, indent):
        return "".join(indent + line for line in text.splitlines(keepends=True))


def _identity(username, key_id):
    """(Identity, caller description) of the caller asked for; a CommandError for one who
    is unknown or offered nothing."""
    if key_id is not None:
        key = MCPAPIKey.objects.select_related("user").filter(key_id=key_id).first()
        if key is None:
            raise CommandError(f"key not found: {key_id!r}")
        if key.is_revoked or key.is_expired:
            raise CommandError(f"key {key_id} is {key.status_label()}: it is offered nothing")
        if not key.user.is_active:
            raise CommandError(f"the user of key {key_id} is not active: it is offered nothing")
        return Identity.of_key(key), _caller(key.user.get_username(), key_id, list(key.allowed_tools or []))
    if username is not None:
        return Identity(active_user(username)), _caller(username, None, [])
    User = get_user_model()
    # Never saved: no account is made or borrowed; permissions pass as for any active superuser.
    superuser = User(is_active=True, is_staff=True, is_superuser=True)
    return Identity(superuser), _caller(None, None, [], assumed_superuser=True)


def _caller(user, key, allowed_tools, assumed_superuser=False):
    return {"user": user, "key": key, "allowed_tools": allowed_tools, "assumed_superuser": assumed_superuser}


def _list_all(identity, method, items_key):
    """Every item of a list method's pages for `identity`, as the server answers them."""
    items, params = [], {}
    while True:
        message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        reply = json.loads(server.handle(json.dumps(message), identity=identity, transport="stdio").reply)
        if "error" in reply:
            raise CommandError(f"{method} was refused: {reply['error']['message']}")
        items.extend(reply["result"][items_key])
        if "nextCursor" not in reply["result"]:
            return items
        params = {"cursor": reply["result"]["nextCursor"]}


def _report(caller, listed, tool_sources, left_out, registry):
    sources = {source["name"]: source for source in tool_sources}
    tools = []
    for descriptor in listed["tools"]:
        source = sources[descriptor["name"]]
        size = len(_compact(descriptor))
        tools.append(
            {
                "name": descriptor["name"],
                "surface": source["surface"],
                "app": _app_of(source, registry) or "-",
                "bytes": size,
            }
        )
    total = sum(tool["bytes"] for tool in tools)
    by_surface = Counter(tool["surface"] for tool in tools)
    return {
        "caller": caller,
        "counts": {
            "tools": len(tools),
            "resource_templates": len(listed["resourceTemplates"]),
            "prompts": len(listed["prompts"]),
        },
        "tools_by_surface": {surface: by_surface[surface] for surface in SURFACES},
        "tools_by_app": dict(sorted(Counter(tool["app"] for tool in tools).items())),
        "tools_list": {
            "bytes": total,
            "estimated_tokens": -(-total // BYTES_PER_TOKEN),
            "token_estimate": f"bytes / {BYTES_PER_TOKEN}, rounded up",
        },
        "tools": tools,
        "largest_tools": sorted(tools, key=lambda tool: -tool["bytes"])[:LARGEST_SHOWN],
        "left_out": left_out,
    }


def _discovery(served, tools):
    """Whether tools/list answered `served` (discovery's meta-tools) rather than `tools`."""
    applies = [tool["name"] for tool in served] != [tool["name"] for tool in tools]
    return {
        "mode": conf.get("DJANGO_MCP_DISCOVERY"),
        "threshold": conf.get("DJANGO_MCP_DISCOVERY_THRESHOLD"),
        "applies": applies,
        "listed": [tool["name"] for tool in served],
        "listed_bytes": sum(len(_compact(tool)) for tool in served),
    }


def _compact(descriptor):
    return json.dumps(descriptor, separators=(",", ":"), ensure_ascii=False).encode()


def _app_of(source, registry):
    """The label of the app a tool comes from: its model's, or that of the module its view or
    handler is defined in; None when no installed app contains it."""
    match source["surface"]:
        case "admin" | "search":
            return source["source"].partition(".")[0]
        case "views":
            routed = registry.view(source["source"])
            return _app_of_module((routed.view_class or view_function(routed.callback)).__module__)
        case "drf":
            return _app_of_module(registry.drf(source["source"]).view_class.__module__)
        case _:
            tool = registry.custom.tools.get(source["name"])
            return _app_of_module(tool.handler.__module__) if tool is not None else None


def _app_of_module(module):
    config = apps.get_containing_app_config(module)
    return config.label if config is not None else None


def _counted(counts):
    return ", ".join(f"{name} {count}" for name, count in counts.items() if count)
