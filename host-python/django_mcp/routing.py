"""Make `<prefix>` answer like `<prefix>/` for the included endpoint.

`path("mcp/", include("django_mcp.urls"))` matches only `/mcp/`; for `/mcp` Django's
APPEND_SLASH answers a POST with a redirect (or an error under DEBUG), and many MCP
clients do not follow redirects on POST. So, once per URLconf, the endpoint is added
again beside each include, at the prefix without its slash, with the include's extra
kwargs (an endpoint's `toolset` and `read_only`).
"""

import threading

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

_lock = threading.Lock()
_seen = set()


def accept_slashless_endpoint(sender=None, **kwargs):
    resolver = get_resolver()
    if id(resolver) in _seen:
        return
    with _lock:
        if id(resolver) not in _seen:
            _add_siblings(resolver)
            _seen.add(id(resolver))


def _is_ours(entry):
    name = getattr(entry.urlconf_name, "__name__", entry.urlconf_name)
    return name == "django_mcp.urls"


def _add_siblings(resolver):
    from django_mcp.transport import mcp_endpoint

    patterns = resolver.url_patterns
    if not isinstance(patterns, list):
        return
    for index in range(len(patterns) - 1, -1, -1):
        entry = patterns[index]
        if not isinstance(entry, URLResolver):
            continue
        if not _is_ours(entry):
            _add_siblings(entry)
            continue
        route = getattr(entry.pattern, "_route", "")
        already = any(getattr(p, "_django_mcp_slashless", None) == route for p in patterns)
        if isinstance(entry.pattern, RoutePattern) and route.endswith("/") and len(route) > 1 and not already:
            sibling = URLPattern(RoutePattern(route[:-1], is_endpoint=True), mcp_endpoint, entry.default_kwargs)
            # The include it stands beside, so each include gets one sibling.
            sibling._django_mcp_slashless = route
            patterns.insert(index + 1, sibling)
