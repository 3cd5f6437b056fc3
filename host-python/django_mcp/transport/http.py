"""Streamable HTTP: one POST carries one JSON-RPC message; the answer is JSON, or an SSE
stream when the request received notifications (progress, log messages) on the way.

Order of checks: method (405), Origin (403), size (413: a smaller cap without
Authorization), media type (415), UTF-8 (400), credential (429 once its key id or address
failed too often, 401 / 403), then the engine; server.handle refuses a request without a
credential for a method that needs one. Every answer is audited, and everything the endpoint
does runs under the request's one correlation id (its audit line's).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port, validate_host
from django.utils.log import log_response
from django.views.decorators.csrf import csrf_exempt

from django_mcp import audit, conf, correlation, oauth, rate_limits, server, sessions, telemetry
from django_mcp.identity import authenticate
from django_mcp.keys import presented_key_id
from django_mcp.seam import CredentialStatus, Refusal, RefusalKind
from django_mcp.transport.threads import on_long_lived_threads

UNAUTHORIZED_STATES = frozenset(CredentialStatus)

#: Headers a 2026-07-28 request repeats from its body; the engine checks they agree.
MCP_HEADERS = ("mcp-protocol-version", "mcp-method", "mcp-name")


def _meta_key(name: str) -> str:
    """Where Django's request keeps header `name` (what `request.headers` is built from)."""
    return "HTTP_" + name.upper().replace("-", "_")


#: The endpoint reads its few headers from `request.META`: `request.headers` would parse
#: every header of every request into a mapping first.
_META_MCP_HEADERS = tuple((name, _meta_key(name)) for name in MCP_HEADERS)
_META_AUTHORIZATION, _META_SESSION = _meta_key("Authorization"), _meta_key(sessions.HEADER)


class Answer(HttpResponse):
    """Every answer of the endpoint. Once Django's ASGI handler has sent a response it closes
    it, and leaves it in a reference cycle (an exception of the handler's per-request tasks,
    whose traceback holds the handler's frame) that waits for the cyclic collector, under load
    hundreds of requests later: the body is let go on that close. Only on the ASGI handler's:
    the test clients close a response before a test reads it."""

    def close(self) -> None:
        super().close()
        if self._handler_class is not None and issubclass(self._handler_class, ASGIHandler):
            self.content = b""


@csrf_exempt
@on_long_lived_threads
def mcp_endpoint(
    request: HttpRequest, toolset: list[str] | tuple[str, ...] = (), read_only: bool = False
) -> HttpResponse:
    """The endpoint; `toolset` and `read_only` come from the `include()`'s extra kwargs
    (urls.py) and narrow what this mount serves, whatever the key allows."""
    with correlation.new_request():
        response = _answer(request, _endpoint_scope(toolset, read_only))
        # Django logs a 4xx or 5xx answer ("Unauthorized: /mcp/") once the view has returned,
        # outside this correlation; logged here in its words, Django does not log it again.
        if response.status_code >= 400:
            log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request)
        return response


def _endpoint_scope(toolset: list[str] | tuple[str, ...], read_only: bool) -> dict[str, Any] | None:
    if isinstance(toolset, str) or not all(isinstance(entry, str) and entry for entry in toolset):
        raise ImproperlyConfigured("django_mcp.urls: toolset must be a list of names and patterns")
    if not toolset and not read_only:
        return None
    return {"toolset": list(toolset), "read_only": bool(read_only)}


def _answer(request: HttpRequest, endpoint: dict[str, Any] | None) -> HttpResponse:
    if request.method != "POST":
        response = Answer(status=405)
        response["Allow"] = "POST"
        audit.refused("streamable-http", "method not allowed", wire_status=405)
        return response
    if not _origin_allowed(request):
        return _refused({"kind": RefusalKind.FOREIGN_ORIGIN})
    # Without a credential only small messages are served (initialize, ping, discover), so an
    # anonymous caller can make the engine parse only that much.
    header = request.META.get(_META_AUTHORIZATION)
    limit = int(conf.get("DJANGO_MCP_MAX_BODY_BYTES" if header is not None else "DJANGO_MCP_ANONYMOUS_MAX_BODY_BYTES"))
    too_large: Refusal = {"kind": RefusalKind.BODY_TOO_LARGE, "limit": limit}
    if _declared_length(request) > limit:
        return _refused(too_large)
    content_type = request.content_type or ""
    if content_type and not (content_type == "application/json" or content_type.endswith("+json")):
        return _refused({"kind": RefusalKind.MEDIA_TYPE})
    body = request.read(limit + 1)
    if len(body) > limit:
        return _refused(too_large)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _refused({"kind": RefusalKind.INVALID_UTF8})

    session_id = request.META.get(_META_SESSION)
    if session_id is not None and not sessions.is_valid(session_id):
        return _refused({"kind": RefusalKind.UNKNOWN_SESSION})

    # Once for all who need it: an OAuth token's audience, the requests the engine's effects make.
    host = request.get_host()
    identity = None
    if header is not None:
        # Limited before the key is looked up or its secret hashed (a legacy key's hash is slow).
        key_id, address = presented_key_id(header), request.META.get("REMOTE_ADDR")
        retry_after = rate_limits.credential_failures_blocked(key_id, address)
        if retry_after is not None:
            return _refused({"kind": RefusalKind.CREDENTIAL_FAILURES_LIMITED, "retry_after": retry_after})
        status, identity = authenticate(header, request, host)
        if status in UNAUTHORIZED_STATES:
            rate_limits.count_credential_failure(key_id, address)
            return _unauthorized(request, CredentialStatus(status))
        if status == "inactive_user":
            return _refused({"kind": RefusalKind.INACTIVE_USER})
        if status == "insufficient_scope":
            return _no_mcp_scope(request)
        if identity is not None and identity.key is not None:
            identity.key.touch_last_used()
        if identity is not None:
            identity = identity.at_endpoint(endpoint)

    outcome = server.handle(
        text,
        identity=identity,
        transport="http",
        host=host,
        scheme=request.scheme,
        headers={name: request.META[key] for name, key in _META_MCP_HEADERS if key in request.META},
        trace=telemetry.http_facts(request),
    )
    if outcome.reply is None:
        return Answer(status=outcome.http_status)
    if outcome.notifications and _accepts_event_stream(request):
        response = _event_stream(outcome.notifications, outcome.reply, outcome.http_status)
    else:
        response = Answer(outcome.reply, status=outcome.http_status, content_type="application/json")
    for name, value in outcome.headers.items():
        response[name] = value
    if outcome.method == "initialize" and outcome.http_status == 200:
        response[sessions.HEADER] = sessions.issue()
    if outcome.http_status == 401:
        _challenge(response, request, None)
    return response


def _accepts_event_stream(request: HttpRequest) -> bool:
    return "text/event-stream" in request.META.get("HTTP_ACCEPT", "")


def _event_stream(notifications: list[str], reply: bytes, status: int) -> HttpResponse:
    """The request's notifications, then its response, as one SSE stream. The stream is
    written once the work is done (see docs/protocol.md): every event arrives, in order."""
    events = [*(notification.encode() for notification in notifications), reply]
    body = b"".join(b"event: message\ndata: " + event + b"\n\n" for event in events)
    response = Answer(body, status=status, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _origin_allowed(request: HttpRequest) -> bool:
    """Browsers send Origin; a page on a foreign site must not reach this endpoint (DNS
    rebinding). Allowed: CSRF_TRUSTED_ORIGINS, and the hosts of ALLOWED_HOSTS, as Django
    matches them."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    for trusted in getattr(settings, "CSRF_TRUSTED_ORIGINS", ()):
        scheme, _, netloc = trusted.partition("://")
        if scheme == parts.scheme and (
            netloc == parts.netloc or (netloc.startswith("*") and parts.netloc.endswith(netloc[1:]))
        ):
            return True
    hosts = list(settings.ALLOWED_HOSTS or ())
    if settings.DEBUG and not hosts:
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    domain, _port = split_domain_port(parts.netloc)
    return bool(domain) and validate_host(domain, hosts)


def _refused(refusal: Refusal) -> HttpResponse:
    """The engine's answer to a message refused before it was read (audited as such)."""
    outcome = server.refuse(refusal, transport="http")
    response = Answer(outcome.reply, status=outcome.http_status, content_type="application/json")
    for name, value in outcome.headers.items():
        response[name] = value
    return response


def _unauthorized(request: HttpRequest, status: CredentialStatus) -> HttpResponse:
    # With OAuth on (an authorization server, or a resolver of another's tokens), a client may
    # hold a token instead of a key: both are named.
    tokens = bool(conf.get("DJANGO_MCP_OAUTH") or conf.get("DJANGO_MCP_BEARER_RESOLVER"))
    response = _refused({"kind": RefusalKind.INVALID_CREDENTIAL, "status": status, "tokens": tokens})
    _challenge(response, request, "invalid_token")
    return response


def _no_mcp_scope(request: HttpRequest) -> HttpResponse:
    """An OAuth token that carries neither MCP scope: it may ask for them (RFC 6750 step-up)."""
    response = _refused({"kind": RefusalKind.NO_MCP_SCOPE})
    response["WWW-Authenticate"] = oauth.insufficient_scope_challenge(
        " ".join(oauth.scopes_supported()), oauth.resource(request)
    )
    return response


def _challenge(response: HttpResponse, request: HttpRequest, error: str | None) -> None:
    """RFC 6750: an error code only when a credential was sent; RFC 9728: where to find how to
    get one, when OAuth resource-server mode is configured."""
    parameters = ['realm="django-mcp"']
    if error:
        parameters.append(f'error="{error}"')
    parameters.extend(oauth.challenge_parameters(request))
    response["WWW-Authenticate"] = "Bearer " + ", ".join(parameters)
