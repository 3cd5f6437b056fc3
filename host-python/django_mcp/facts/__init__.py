"""Gather what the engine needs to know about this Django project, as JSON facts.

Facts are collected once per process (lazily, on the first MCP request) and again when a
``DJANGO_MCP_*`` setting changes. See docs/engine-protocol.md for the shape. The admins'
forms may be deferred: the engine asks for them (``admin.forms``) when a request needs them.
"""

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth import get_user_model

import django_mcp
from django_mcp import conf
from django_mcp.facts import custom
from django_mcp.facts.admin import collect_admins
from django_mcp.facts.registry import Registry
from django_mcp.facts.drf import collect_drf
from django_mcp.facts.models import model_facts
from django_mcp.facts.resources import resource_models, user_prompts
from django_mcp.facts.search import searches
from django_mcp.facts.views import collect_views


def gather(defer_forms: bool = False) -> tuple[str, Registry]:
    with _collections_paused():
        return _gather(defer_forms)


@contextmanager
def _collections_paused() -> Iterator[None]:
    """Python's cyclic collector paused while gathering: gathering allocates many objects,
    each allocation burst triggers a collection, and every full collection walks the whole
    heap, which grows with the project's models (Django's model, field and URL objects). Any
    cyclic garbage gathering leaves is collected once the collector runs again. A collector
    the project turned off stays off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _Texts(list):
    """A list whose items are JSON texts already: written into the facts as they are."""


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _dumps(facts: dict) -> str:
    """`_json(facts)`, with each `_Texts` written as the array of its texts."""
    members = (
        _json(key) + ":" + ("[" + ",".join(value) + "]" if isinstance(value, _Texts) else _json(value))
        for key, value in facts.items()
    )
    return "{" + ",".join(members) + "}"


def _gather(defer_forms: bool) -> tuple[str, Registry]:
    # Each admin's and model's facts become text as soon as they are gathered: held as
    # Python objects until the end, they would be the bulk of gathering's allocations,
    # interleaved with the caches Django fills meanwhile, which then pin the memory they
    # were freed from.
    registry, admins = collect_admins(defer_forms, keep=_json)
    registry.custom, custom_facts = custom.collect()
    # Before models(): the models of resources and searches need facts too.
    resources = resource_models(registry)
    search_facts = searches(registry)
    models = _Texts(_json(model_facts(model)) for model in registry.models())
    facts = {
        "protocol": 1,
        "server": {"name": "django-mcp", "version": django_mcp.__version__},
        "settings": {
            "tool_names": conf.get("DJANGO_MCP_TOOL_NAMES"),
            "page_size": int(conf.get("DJANGO_MCP_PAGE_SIZE")),
            "redact_fields": list(conf.get("DJANGO_MCP_REDACT_FIELDS")),
            "user_model": get_user_model()._meta.label,
            "test_hooks": bool(conf.get("DJANGO_MCP_TEST_HOOKS")),
            "resources_disabled": bool(conf.get("DJANGO_MCP_RESOURCES_DISABLED")),
            "field_resource_max_bytes": int(conf.get("DJANGO_MCP_FIELD_RESOURCE_MAX_BYTES")),
            "discovery": conf.get("DJANGO_MCP_DISCOVERY"),
            "discovery_threshold": int(conf.get("DJANGO_MCP_DISCOVERY_THRESHOLD")),
        },
        "models": models,
        "admins": _Texts(admins),
        "resource_models": resources,
        "searches": search_facts,
        "user_prompts": user_prompts(),
        "custom": custom_facts,
        "views": collect_views(registry),
        "drf": collect_drf(registry),
    }
    return _dumps(facts), registry
