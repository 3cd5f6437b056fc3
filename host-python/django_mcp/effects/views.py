"""Routed views: their gates for a caller, and the `view.call` effect.

A view runs as Django's handler would run it: the callback the URL resolves to (so
`as_view(**initkwargs)` and the converters' `to_python` apply), with a request carrying the
caller's user, method, query and body, a template response rendered, an async view awaited.
Middleware does not run; what the view relies on from it (user, session, messages, no CSRF
check for this server-side call) is on the request, and LoginRequiredMiddleware's rule is
one of the view's gates.

The body rule: a JSON object sent to a form view (FormView, CreateView, UpdateView,
DeleteView) is form-encoded, as a browser sends the form: on a POST, `request.POST` and the
form see it (Django parses no other method's body into `request.POST`). Any other body is
JSON (`application/json`), readable as `request.body`. Query values and form values are
text: lists repeat the name, booleans are "true"/"false", null is empty.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from asgiref.sync import async_to_sync, iscoroutinefunction
from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.db import connections, transaction
from django.http import Http404, HttpRequest, HttpResponseBase
from django.urls import Resolver404, ResolverMatch, get_urlconf, resolve, set_urlconf

from django_mcp.effects import EffectError, Forbidden
from django_mcp.effects.responses import describe
from django_mcp.facts.view_gates import Gate
from django_mcp.facts.views import PathError, RoutedView
from django_mcp.requests import form_pairs
from django_mcp.seam import JSON, ViewCall

if TYPE_CHECKING:
    from django_mcp.facts.registry import Registry
    from django_mcp.requests import CallerContext

logger = logging.getLogger("django_mcp.effects")


def view_call(effect: ViewCall, caller: CallerContext, registry: Registry) -> dict[str, Any]:
    routed = registry.view(effect["view"])
    method = effect["method"]
    refuse_unless_taken(method, routed.methods)
    query = effect.get("query") or {}
    if not isinstance(query, dict):
        raise EffectError("validation", "query must be an object", fields={"query": ["must be an object"]})
    path_info, match = resolved(routed, effect.get("path") or {})
    body, content_type = _encoded_body(routed, effect.get("body"))
    request = view_request(caller, method, path_info, query, body, content_type)
    request.resolver_match = match
    if routed.urlconf != settings.ROOT_URLCONF:
        request.urlconf = routed.urlconf
    # Held to the view's gates here too: the engine's check is never the only one.
    if not view_passes(routed, request, match.kwargs):
        raise Forbidden()
    with urlconf_of(routed):
        result = respond(
            routed,
            request,
            match,
            atomic=effect["atomic"],
            rollback_from=effect["rollback_from"],
            read=lambda response: _status_and(describe(rendered(response, routed), effect["masked"])),
        )
    if method == "HEAD":
        result["body"] = None  # as the server would send it
        result.pop("truncated", None)
    return result


def refuse_unless_taken(method: str, methods: Iterable[str]) -> None:
    """Refuse a method the view (or the DRF handler) does not take (`methods`, lower case;
    empty: any), before anything runs: it would answer 405, or reach another handler on the
    same route. A view that takes GET takes HEAD, as Django's View does. The engine words the
    refusal, naming the methods the view takes."""
    taken = {*methods, "head"} if "get" in methods else set(methods)
    if taken and method.lower() not in taken:
        raise EffectError("method_not_allowed", f"the view does not take {method}")


def view_request(
    caller: CallerContext,
    method: str,
    path_info: str,
    query: dict[str, JSON],
    body: bytes | None,
    content_type: str | None,
) -> HttpRequest:
    """The caller's request to a view. Django's own limits on what a request may carry
    (DATA_UPLOAD_MAX_NUMBER_FIELDS and the like) hold here too: over them, the argument is
    refused."""
    try:
        return caller.request(method, path_info, query, body=body, content_type=content_type)
    except SuspiciousOperation as exc:
        message = f"Invalid arguments: query: {exc}"
        raise EffectError("validation", message, fields={"query": [str(exc)]}) from None


def view_passes(routed: RoutedView, request: HttpRequest, kwargs: dict[str, Any] | None = None) -> bool:
    """Whether the request's user passes every gate of the view that guards the request's
    method. `kwargs` are the resolved path values (none when asked for a listing): a mixin's
    test sees them as `self.kwargs`."""
    return all(_passes(gate, routed, request, kwargs or {}) for gate in routed.gates if gate.guards(request.method))


def view_listed(routed: RoutedView, request: HttpRequest) -> bool:
    """Whether the user may call the view with at least one of its methods (a gate on `post`
    alone does not hide a view the user may GET)."""
    methods = routed.methods or ["get"]
    return any(
        all(_passes(gate, routed, request, {}) for gate in routed.gates if gate.guards(method)) for method in methods
    )


def _passes(gate: Gate, routed: RoutedView, request: HttpRequest, kwargs: dict[str, Any]) -> bool:
    user = request.user
    if gate.kind == "public":
        return True
    if gate.kind == "login":
        return bool(user.is_authenticated and user.is_active)
    if gate.kind == "staff":
        return bool(user.is_active and user.is_staff)
    if gate.kind == "permission":
        return bool(user.has_perms(gate.permissions))
    if gate.kind == "test":
        try:
            return bool(_run_test(gate, routed, request, kwargs))
        except PermissionDenied:  # how AccessMixin and raise_exception say no
            return False
        except Exception:
            # A test that needs what the call does not provide (e.g. path values at listing
            # time) cannot say yes: the gate stays closed.
            logger.warning(
                "the test %s of the view %s failed; treated as not passed", gate.label, routed.id, exc_info=True
            )
            return False
    return False


def _run_test(gate: Gate, routed: RoutedView, request: HttpRequest, kwargs: dict[str, Any]) -> Any:
    if gate.test is not None:
        if iscoroutinefunction(gate.test):
            return async_to_sync(gate.test)(request.user)
        return gate.test(request.user)
    # Otherwise a mixin's test: the view has a class and the gate a check (facts/view_gates.py).
    view = routed.view_class(**routed.initkwargs)  # type: ignore[misc]
    view.setup(request, **kwargs)
    return gate.view_check(view)  # type: ignore[misc]


def resolved(routed: RoutedView, values: JSON) -> tuple[str, ResolverMatch]:
    """(path_info, ResolverMatch) for these path values; resolving runs the converters'
    `to_python` and proves the path leads to this very view."""
    if not isinstance(values, dict):
        raise EffectError("validation", "path must be an object", fields={"path": ["must be an object"]})
    try:
        path_info = routed.path_for(values)
    except PathError as exc:
        raise EffectError("validation", str(exc), fields={"path": [str(exc)]}) from None
    try:
        match = resolve(path_info, routed.urlconf)
    except Resolver404:
        match = None
    if match is None or match.func is not routed.callback:
        message = "the path values do not lead to this view"
        raise EffectError("validation", message, fields={"path": [message]})
    return path_info, match


def _encoded_body(routed: RoutedView, body: JSON) -> tuple[bytes | None, str | None]:
    if body is None:
        return None, None
    if isinstance(body, dict) and routed.class_kind == "form":
        return urlencode(form_pairs(body)).encode(), "application/x-www-form-urlencoded"
    return json.dumps(body).encode(), "application/json"


@contextlib.contextmanager
def urlconf_of(routed: RoutedView) -> Iterator[None]:
    """Within the call, reverse() works in the view's own URLconf, as Django's handler
    arranges for a request that has `urlconf` set."""
    if routed.urlconf == settings.ROOT_URLCONF:
        yield
        return
    previous = get_urlconf()
    set_urlconf(routed.urlconf)
    try:
        yield
    finally:
        set_urlconf(previous)


def respond(
    routed: RoutedView,
    request: HttpRequest,
    match: ResolverMatch,
    atomic: bool,
    rollback_from: int,
    read: Callable[[Any], tuple[int, Any]],
) -> Any:
    """The view's response as a result: `read` makes it `(status, result)`. A call that may
    write (`atomic`, as the engine says) runs in a transaction on every database, as
    ATOMIC_REQUESTS would; any call runs in one on the databases whose ATOMIC_REQUESTS is on,
    as Django's handler would; less the databases the view opts out of. Rolled back when the
    view fails or answers `rollback_from` or above; the response is read inside it, since
    templates and streams query lazily."""
    try:
        with _transactions(routed.callback, every_database=atomic) as aliases:
            response = None
            try:
                response = _run(match.func, request, match.args, match.kwargs)
                status, result = read(response)
            finally:
                if isinstance(response, HttpResponseBase):
                    _release(response)
            if aliases and status >= rollback_from:
                for alias in aliases:
                    transaction.set_rollback(True, using=alias)
            return result
    except Http404 as exc:
        return _error_result(404, _message(exc, "Not Found"))
    except PermissionDenied as exc:
        return _error_result(403, _message(exc, "Forbidden"))
    except BadRequest as exc:
        return _error_result(400, _message(exc, "Bad Request"))
    except SuspiciousOperation:
        return _error_result(400, "Bad Request")  # its message may describe an attack: kept in the logs


def _status_and(result: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return result["status"], result


@contextlib.contextmanager
def _transactions(callback: Callable[..., Any], every_database: bool) -> Iterator[list[str]]:
    opted_out: set[str] = getattr(callback, "_non_atomic_requests", set())
    aliases = [
        alias
        for alias in connections
        if alias not in opted_out and (every_database or connections[alias].settings_dict.get("ATOMIC_REQUESTS"))
    ]
    with contextlib.ExitStack() as stack:
        for alias in aliases:
            stack.enter_context(transaction.atomic(using=alias))
        yield aliases


def _run(callback: Callable[..., Any], request: HttpRequest, args: Iterable[Any], kwargs: dict[str, Any]) -> Any:
    if iscoroutinefunction(callback):
        return async_to_sync(callback)(request, *args, **kwargs)
    response = callback(request, *args, **kwargs)
    if hasattr(response, "__await__"):  # a sync-looking callable that returned a coroutine
        response = async_to_sync(_awaited)(response)
    return response


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def rendered(response: Any, routed: RoutedView) -> HttpResponseBase:
    if not isinstance(response, HttpResponseBase):
        # Django's handler refuses these too; the message stays in the logs.
        raise ValueError(f"the view {routed.id} returned {type(response).__name__}, not an HttpResponse")
    if hasattr(response, "render") and callable(response.render):
        response = response.render()
    return response


def _release(response: HttpResponseBase) -> None:
    """Close the files and streams a response holds. Not `response.close()`: that would also
    send `request_finished`, and Django closes the database connections on it, in the middle
    of the MCP request."""
    for closer in getattr(response, "_resource_closers", ()):
        try:
            closer()
        except Exception:
            logger.debug("closing a response resource failed", exc_info=True)


def _message(exc: BaseException, default: str) -> str:
    message = exc.args[0] if exc.args else None
    return message if isinstance(message, str) and message else default


def _error_result(status: int, message: str) -> dict[str, Any]:
    return {"status": status, "headers": {"Content-Type": "text/plain; charset=utf-8"}, "body": message}
