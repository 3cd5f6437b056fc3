"""DRF views: their permission classes for a caller, and the `drf.call` effect.

A call goes where an HTTP request would: the route's callback, so DRF builds its own
`Request` (the caller's user through DRF's forced authentication, which also skips the CSRF
check session authentication makes), runs `initial()` (permission classes, throttles), the
handler with its `get_object()`, serializer context, `perform_*` hooks, paginator and filter
backends. The answer is the Response's data, not its rendering. A call that may write runs
in a transaction rolled back on any answer from 400 up: a refused write leaves nothing.
"""

import json
import logging

from django_mcp.effects import EffectError
from django_mcp.engine import RawJSON
from django_mcp.effects.responses import describe
from django_mcp.effects.views import SAFE_METHODS, rendered, resolved, respond, urlconf_of, view_request
from django_mcp.facts.drf import view_instance

logger = logging.getLogger("django_mcp.effects")


def drf_call(effect, caller, registry):
    view = registry.drf(effect["view"])
    try:
        routed = view.route(effect.get("handler") or "")
    except KeyError:
        raise EffectError("validation", "this view has no such handler") from None
    method = str(effect.get("method") or "GET").upper()
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
        return respond(routed, request, match, atomic=method not in SAFE_METHODS,
                       read=lambda response: _read(response, routed), rollback_from=400)


def _read(response, routed):
    """(status, `{status, headers, body}`) with a DRF Response's data rendered to JSON once,
    as DRF's JSON renderer would; any other response (a view may return a plain
    HttpResponse) described as views' are."""
    from rest_framework.response import Response
    from rest_framework.utils.encoders import JSONEncoder

    if not isinstance(response, Response):
        result = describe(rendered(response, routed))
        return result["status"], result
    headers = {name: value for name, value in response.items() if name in ("Location", "Retry-After", "Allow")}
    body = json.dumps(response.data, cls=JSONEncoder, separators=(",", ":"), allow_nan=False)  # as STRICT_JSON
    text = f'{{"status":{response.status_code},"headers":{json.dumps(headers)},"body":{body}}}'
    return response.status_code, RawJSON(text)


def drf_permits(view, handler, caller):
    """Whether the view's permission classes let the caller reach `handler` with the first
    method that reaches it (`has_permission`; object permissions are the view's business
    when it fetches the object)."""
    from rest_framework.exceptions import APIException

    method = (view.methods.get(handler) or ["get"])[0].upper()
    try:
        routed = view.route(handler)
        judged_by_request = _request_only_permissions(routed)
        if judged_by_request is not None:
            request = caller.request(method)
            return all(permission().has_permission(request, None) for permission in judged_by_request)
        instance = view_instance(routed, handler, caller.request(method))
        instance.check_permissions(instance.request)
    except APIException:
        return False
    except Exception:
        logger.warning("the permission classes of %s (%s) failed; treated as not passed", view.id, handler or "view",
                       exc_info=True)
        return False
    return True


_request_only = {}


def _request_only_permissions(routed):
    """The route's permission classes when each is one of DRF's own that reads nothing but
    the request's user and method (AllowAny, IsAuthenticated, IsAdminUser,
    IsAuthenticatedOrReadOnly, or none of its own) and the view keeps DRF's
    `get_permissions`/`check_permissions`: judging them needs no view and no DRF request,
    which cost ~50 µs a gate. None otherwise (a `DjangoModelPermissions` reads the view's
    queryset, a custom class anything)."""
    cls = routed.view_class
    classes = tuple(routed.initkwargs.get("permission_classes", cls.permission_classes))
    key = (cls, classes)
    if key not in _request_only:
        from rest_framework import permissions
        from rest_framework.views import APIView

        own = {permissions.BasePermission.has_permission, permissions.AllowAny.has_permission,
               permissions.IsAuthenticated.has_permission, permissions.IsAdminUser.has_permission,
               permissions.IsAuthenticatedOrReadOnly.has_permission}
        plain = (cls.get_permissions is APIView.get_permissions and cls.check_permissions is APIView.check_permissions
                 and all(isinstance(c, type) and c.__init__ is object.__init__ and c.has_permission in own
                         for c in classes))
        _request_only[key] = classes if plain else None
    return _request_only[key]
