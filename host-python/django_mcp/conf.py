"""The package's settings, read from Django settings with their documented defaults."""

import threading

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS = {
    "DJANGO_MCP_ADMIN_SITES": ("django.contrib.admin.site",),
    "DJANGO_MCP_REQUIRE_AUTH": True,
    "DJANGO_MCP_PAGE_SIZE": 100,
    "DJANGO_MCP_TOOL_NAMES": "portable",
    "DJANGO_MCP_REDACT_FIELDS": (),
    "DJANGO_MCP_MAX_BODY_BYTES": 4 * 1024 * 1024,
    # A request without Authorization may only initialize, ping or discover: small messages.
    "DJANGO_MCP_ANONYMOUS_MAX_BODY_BYTES": 64 * 1024,
    "DJANGO_MCP_ENGINE_WASM": None,
    "DJANGO_MCP_ENGINE_CACHE_DIR": None,
    "DJANGO_MCP_TEST_HOOKS": False,
    "DJANGO_MCP_CUSTOM": (),
    "DJANGO_MCP_BEARER_RESOLVER": None,
    "DJANGO_MCP_OAUTH": None,
    "DJANGO_MCP_RATE_LIMITS": None,
    "DJANGO_MCP_RATE_LIMIT_CACHE": "default",
    # Failed credential checks per key id and per client address (REMOTE_ADDR), then 429.
    "DJANGO_MCP_AUTH_FAILURE_LIMITS": {"key": "10/m", "address": "60/m"},
    "DJANGO_MCP_RESOURCE_MODELS": (),
    # Search tools: "app.Model" or {"model", "search_fields", "filter_fields", "fields", "permission"}.
    "DJANGO_MCP_MODEL_SEARCH": (),
    "DJANGO_MCP_RESOURCES_DISABLED": False,
    "DJANGO_MCP_PROMPTS": (),
    "DJANGO_MCP_FIELD_RESOURCE_MAX_BYTES": 10 * 1024 * 1024,
    # The largest DRF answer handed to the engine (an unpaged list is paged there, whole).
    "DJANGO_MCP_MAX_RESULT_BYTES": 4 * 1024 * 1024,
    # URLconfs walked for views besides ROOT_URLCONF (module paths).
    "DJANGO_MCP_URLCONFS": (),
    # fnmatch patterns against a view's URL name, route or module.qualname.
    "DJANGO_MCP_VIEW_EXCLUDE": (),
    # None: every view; else only the views these patterns match.
    "DJANGO_MCP_VIEW_INCLUDE": None,
    # "auto": over the threshold of tools a caller may use, tools/list answers the discovery
    # meta-tools (find_tools, describe_tools, call_read_only_tool, call_tool); "always"; "off".
    "DJANGO_MCP_DISCOVERY": "auto",
    "DJANGO_MCP_DISCOVERY_THRESHOLD": 40,
    # {"opentelemetry": bool | None, "prometheus": bool | None}; None: on when installed.
    "DJANGO_MCP_TELEMETRY": {},
    # The bearer token django_mcp.metrics.view asks for; None: it asks for none.
    "DJANGO_MCP_METRICS_TOKEN": None,
    # Long-lived threads the endpoint's work runs on under ASGI (transport/threads.py); 0: none,
    # each request's work stays on the thread Django gave it.
    "DJANGO_MCP_THREADS": 0,
}


#: Each setting as read: once per process and settings change, not on every request (an unset
#: setting, the usual case, costs `settings` an AttributeError raised and caught on each read).
_read: dict[str, object] = {}
_UNREAD = object()
#: Counts the changes, so a read that began before one is not kept after it.
_changes = [0]
_lock = threading.Lock()


def get(name: str):
    value = _read.get(name, _UNREAD)
    if value is _UNREAD:
        changes = _changes[0]
        value = getattr(settings, name, DEFAULTS[name])
        with _lock:
            if changes == _changes[0]:
                _read[name] = value
    return value


def _forget(**kwargs: object) -> None:
    """Any setting changed (`override_settings`, pytest-django's `settings`): read them again.
    Connected when this module is imported, before any receiver of a module that reads it."""
    with _lock:
        _changes[0] += 1
        _read.clear()


setting_changed.connect(_forget, dispatch_uid="django_mcp.conf")
