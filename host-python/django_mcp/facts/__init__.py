"""Gather what the engine needs to know about this Django project, as JSON facts.

Facts are collected once per process (lazily, on the first MCP request) and again when a
``DJANGO_MCP_*`` setting changes. See docs/engine-protocol.md for the shape.
"""

import json

import django_mcp
from django_mcp import conf, custom
from django_mcp.facts.admin import AdminRegistry, collect_admins
from django_mcp.facts.models import model_facts


def gather() -> tuple[str, AdminRegistry]:
    registry, admins = collect_admins()
    registry.custom, custom_facts = custom.collect()
    models = [model_facts(model) for model in registry.models()]
    facts = {
        "protocol": 1,
        "server": {"name": "django-mcp", "version": django_mcp.__version__},
        "settings": {
            "tool_names": conf.get("DJANGO_MCP_TOOL_NAMES"),
            "page_size": int(conf.get("DJANGO_MCP_PAGE_SIZE")),
            "redact_fields": [*conf.get("DJANGO_MCP_REDACT_FIELDS"), "django_mcp.MCPAPIKey.secret_hash"],
            "test_hooks": bool(conf.get("DJANGO_MCP_TEST_HOOKS")),
        },
        "models": models,
        "admins": admins,
        "custom": custom_facts,
    }
    return json.dumps(facts, separators=(",", ":")), registry
