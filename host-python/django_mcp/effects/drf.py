"""DRF views: their permission classes for a caller, and the `drf.call` effect.

A call goes where an HTTP request would: the route's callback, so DRF builds its own
`Request` (the caller's user through DRF's forced authentication, which also skips the CSRF
check session authentication makes), runs `initial()` (permission classes, throttles), the
handler with its `get_object()`, serializer context, `perform_*` hooks, paginator and filter
backends. The answer is the Response's data, not its rendering. A call that may write runs
in a transaction rolled back on any answer from 400 up: a refused write leaves nothing.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from django_mcp import conf
from django_mcp.effects import EffectError
from django_mcp.engine import RawJSON
from django_mcp.effects.responses import describe, masked_json
from django_mcp.effects.views import refuse_unless_taken, rendered, resolved, respond, urlconf_of, view_request
from django_mcp.facts.drf import DrfView, view_instance
from django_mcp.facts.views import RoutedView
from django_mcp.seam import DrfCall

if TYPE_CHECKING:
    from django_mcp.facts.registry import Registry
    from django_mcp.requests import CallerContext

logger = logging.getLogger("django_mcp.effects")


def drf_call(effect: DrfCall, caller: CallerContext, registry: Registry) -> Any:
    view = registry.drf(effect["view"])
    handler = effect.get("handler") or ""
    try:
        routed = view.route(handler)
    except KeyError:
        raise EffectError("validation", "this view has no such handler") from None
    method = effect["method"]
    refuse_unless_taken(method, view.methods[handler])
    query = effect.get("query") or {}
    if not isinstance(query, dict):
        raise EffectError("validation", "query must be an object", fields={"query": ["must be an object"]})
    path_info, match = resolved(routed, effect.get("path") or {})
    body = effect.get("body")
    encoded = None if body is None else json.dumps(body).encode()
    request = view_request(caller, method, path_info, query, encoded, "application/json" if encoded else None)
    request.resolver_match = match
    request.META["HTTP_ACCEPT"] = "application/json"
    # DRF's Request authenticates with these (as its test client's force_authenticate does).
    request._force_auth_user = request.user
    with urlconf_of(routed):
        return respond(
            routed,
            request,
            match,
            atomic=effect["atomic"],
            rollback_from=effect["rollback_from"],
            read=lambda response: _read(response, routed, effect["masked"]),
        )


def _read(response: Any, routed: RoutedView, masked: Collection[str]) -> tuple[int, Any]:
    """(status, `{status, headers, body}`) with a DRF Response's data masked as views' JSON is
    (`masked_json`) and rendered to JSON once, as DRF's JSON renderer would; any other
    response (a view may return a plain HttpResponse) described as views' are."""
    from rest_framework.response import Response
    from rest_framework.utils.encoders import JSONEncoder

    if not isinstance(response, Response):
        result = describe(rendered(response, routed), masked)
        return result["status"], result
    headers = {name: value for name, value in response.items() if name in ("Location", "Retry-After", "Allow")}
    data = masked_json(response.data, masked, convert=JSONEncoder().default)
    body = json.dumps(data, cls=JSONEncoder, separators=(",", ":"), allow_nan=False)  # as STRICT_JSON
    limit = int(conf.get("DJANGO_MCP_MAX_RESULT_BYTES"))
    if len(body) > limit:  # ASCII: json.dumps escapes the rest, so characters are bytes
        # An unpaged list reaches the engine whole, to be paged there: it must fit its memory.
        raise EffectError(
            "too_large",
            f"The answer is {len(body)} bytes of JSON, more than the {limit} bytes a "
            "result may be (DJANGO_MCP_MAX_RESULT_BYTES): ask for less, with the view's filters "
            "or a paginated endpoint.",
        )
    text = f'{{"status":{response.status_code},"headers":{json.dumps(headers)},"body":{body}}}'
    return response.status_code, RawJSON(text)


def drf_permits(view: DrfView, handler: str, caller: CallerContext) -> bool:
    """Whether the view's permission classes let the caller reach `handler` with the first
    method that reaches it (`has_permission`; object permissions are the view's business
    when it fetches the object)."""
    from rest_framework.exceptions import APIException

    method = (view.methods.get(handler) or ["get"])[0].upper()
    try:
        routed = view.route(handler)
        judged = _judged_without_view(routed)
        if judged is not None:
            classes, shown = judged
            request = caller.request(method)
            return all(permission().has_permission(request, shown) for permission in classes)
        instance = view_instance(routed, handler, caller.request(method))
        instance.check_permissions(instance.request)
    except APIException:
        return False
    except Exception:
        logger.warning(
            "the permission classes of %s (%s) failed; treated as not passed", view.id, handler or "view", exc_info=True
        )
        return False
    return True


class _DeclaredQueryset:
    """What a view that keeps GenericAPIView's `get_queryset` shows DjangoModelPermissions: its
    declared queryset, of which the permission reads the model."""

    def __init__(self, view_class: type[Any]) -> None:
        self.queryset = view_class.queryset
        self._ignore_model_permissions = getattr(view_class, "_ignore_model_permissions", False)

    def get_queryset(self) -> Any:
        return self.queryset


_without_view: dict[tuple[Any, ...], tuple[tuple[Any, ...], _DeclaredQueryset | None] | None] = {}


def _judged_without_view(routed: RoutedView) -> tuple[tuple[Any, ...], _DeclaredQueryset | None] | None:
    """(the route's permission classes, the view to show them) when judging them needs
    neither the view nor DRF's request, which cost ~50 µs a gate: the view keeps DRF's
    `get_permissions`/`check_permissions`, and each class is one of DRF's own that reads only
    the request's user and method (AllowAny, IsAuthenticated, IsAdminUser,
    IsAuthenticatedOrReadOnly, or none of its own), or a DjangoModelPermissions, which also
    reads the model of a view that keeps GenericAPIView's `get_queryset` (shown its declared
    queryset). None otherwise: a project's class may read anything of the view."""
    cls: type[Any] = routed.view_class  # type: ignore[assignment]  # a DRF view: it has a class
    classes = tuple(routed.initkwargs.get("permission_classes", cls.permission_classes))
    queryset_given = "queryset" in routed.initkwargs
    key = (cls, classes, queryset_given)
    if key not in _without_view:
        from rest_framework import generics, permissions
        from rest_framework.views import APIView

        request_only = {
            permissions.BasePermission.has_permission,
            permissions.AllowAny.has_permission,
            permissions.IsAuthenticated.has_permission,
            permissions.IsAdminUser.has_permission,
            permissions.IsAuthenticatedOrReadOnly.has_permission,
        }
        model = permissions.DjangoModelPermissions
        reads_model = [
            c
            for c in classes
            if inspect.isclass(c) and c.has_permission is model.has_permission and c._queryset is model._queryset
        ]
        declared = (
            getattr(cls, "get_queryset", None) is generics.GenericAPIView.get_queryset
            and getattr(cls, "queryset", None) is not None
            and not queryset_given
        )
        plain = (
            cls.get_permissions is APIView.get_permissions
            and cls.check_permissions is APIView.check_permissions
            and all(
                inspect.isclass(c)
                and c.__init__ is object.__init__
                and (c.has_permission in request_only or c in reads_model)
                for c in classes
            )
            and (not reads_model or declared)
        )
        _without_view[key] = (classes, _DeclaredQueryset(cls) if reads_model else None) if plain else None
    return _without_view[key]
