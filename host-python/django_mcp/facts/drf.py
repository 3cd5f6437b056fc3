"""Facts about the project's Django REST framework views (import-guarded: without DRF, or
when the project never imports it, there are none).

A ViewSet mounted by a router has several routes (list, detail, one per extra action); they
are grouped here into one view whose endpoints are its handlers, each with the route it is
reached through, the serializer it uses (`get_serializer_class()` with `action` set, as the
view itself resolves it), and for lists the paginator and filter backends. An APIView is one
endpoint. A view or serializer that cannot be described is skipped with a warning.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django_mcp import left_out
from django_mcp.facts.views import (
    RoutedView,
    app_label_of,
    description,
    is_private_callback,
    path_params,
    route_text,
    routed_patterns,
    selected,
    unique_id,
)

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest
    from rest_framework.views import APIView

    from django_mcp.facts.registry import Registry

logger = logging.getLogger("django_mcp.facts")

#: A ViewSet's standard handlers; any other handler is an `@action`.
STANDARD_HANDLERS = ("list", "create", "retrieve", "update", "partial_update", "destroy")
WRITE_METHODS = {"post", "put", "patch"}


@dataclasses.dataclass
class DrfView:
    """A DRF view the engine names by `id`: its routes by handler ("" for an APIView), and
    the methods that reach each handler."""

    id: str
    view_class: type[APIView]
    routes: dict[str, RoutedView]
    methods: dict[str, list[str]]

    def route(self, handler: str) -> RoutedView:
        """The route of `handler`; any other handler is a KeyError."""
        return self.routes[handler]


def collect_drf(registry: Registry) -> list[dict[str, Any]]:
    """The facts of every DRF view on the project's routes, each added to `registry`."""
    if "rest_framework" not in sys.modules:
        return []
    from rest_framework.routers import APIRootView
    from rest_framework.views import APIView
    from rest_framework.viewsets import ViewSetMixin

    with left_out.held() as found:
        for urlconf, pieces, namespaces, pattern in routed_patterns():
            callback = pattern.callback
            cls = getattr(callback, "cls", None)
            if not (isinstance(cls, type) and issubclass(cls, APIView)) or issubclass(cls, APIRootView):
                continue
            if is_private_callback(callback, cls):
                continue
            where = route_text(pieces)
            try:
                params = list(path_params(pieces))
            except ValueError:
                left_out.report(logger, "skipping the DRF route %r: it has unnamed groups", where)
                continue
            if any(p["name"] == "format" for p in params):
                continue  # a router's format-suffix twin of a route kept without it
            name = ":".join((*namespaces, pattern.name)) if pattern.name else None
            found.append(_Route(urlconf, pieces, namespaces, name, callback, cls, params, where))
    groups: dict[tuple[str, type[APIView], str], dict[str, Any]] = {}
    for route, verdict in selected(found, _Route, _Route.labels):
        if verdict is not None:
            left_out.report(
                logger,
                "not serving the DRF route of %s at %r: %s",
                _dotted(route.cls),
                route.where,
                verdict["reason"],
                level=verdict["level"],
            )
            continue
        cls, callback = route.cls, route.callback
        viewset = issubclass(cls, ViewSetMixin)
        basename = (getattr(callback, "initkwargs", None) or {}).get("basename")
        stem = "_".join((*route.namespaces, basename)) if viewset and basename else (route.name or cls.__name__)
        key = (route.urlconf, cls, stem) if viewset else (route.urlconf, cls, route.where)
        group = groups.setdefault(key, {"cls": cls, "viewset": viewset, "stem": stem, "routes": []})
        group["routes"].append((route.urlconf, route.pieces, route.name, callback, route.params, route.where))

    ids: set[str] = set()
    facts = []
    described: dict[type, list[dict[str, Any]]] = {}
    for group in groups.values():
        try:
            view, view_facts = _describe(group, ids, described)
        except Exception:  # one odd view never takes the others down
            left_out.report(
                logger, "skipping the DRF view %s: it could not be described", _dotted(group["cls"]), exc_info=True
            )
            continue
        ids.add(view.id)
        registry.add_drf(view)
        facts.append(view_facts)
    return facts


@dataclasses.dataclass
class _Route:
    """A DRF route as the walk found it, until the engine says whether it is served."""

    urlconf: str
    pieces: tuple[object, ...]
    namespaces: tuple[str, ...]
    name: str | None
    callback: Callable[..., Any]
    cls: type[APIView]
    params: list[dict[str, Any]]
    where: str

    def labels(self) -> dict[str, Any]:
        """What the engine's selection reads; the dotted path of an `@api_view` is DRF's class
        for it. No gates: the view's permission classes decide."""
        return {"name": self.name, "route": self.where, "dotted": f"{self.cls.__module__}.{self.cls.__qualname__}"}


def _dotted(cls: type) -> str:
    return f"{cls.__module__}.{_qualname(cls)}"


def _qualname(cls: type) -> str:
    # `@api_view` makes a class inside DRF and gives it the function's name, not its qualname.
    return cls.__name__ if cls.__qualname__.rsplit(".", 1)[-1] != cls.__name__ else cls.__qualname__


def _describe(
    group: dict[str, Any], ids: set[str], described: dict[type, list[dict[str, Any]]]
) -> tuple[DrfView, dict[str, Any]]:
    cls = group["cls"]
    dotted = _dotted(cls)
    view_id = unique_id(dotted, ids)
    routes, methods_of, endpoints = {}, {}, []
    for urlconf, pieces, name, callback, params, where in group["routes"]:
        routed = RoutedView(
            id=view_id,
            name=name,
            urlconf=urlconf,
            pieces=pieces,
            callback=callback,
            view_class=cls,
            initkwargs=dict(getattr(callback, "initkwargs", None) or {}),
            class_kind=None,
            gates=[],
        )
        for handler, methods in _handlers(callback, cls, group["viewset"]).items():
            if handler in routes:
                continue
            routes[handler] = routed
            methods_of[handler] = methods
            endpoints.append(
                _endpoint(routed, handler, methods, params, where.removesuffix("$"), group["viewset"], described)
            )
    view = DrfView(id=view_id, view_class=cls, routes=routes, methods=methods_of)
    facts = {
        "id": view_id,
        "label": group["stem"],
        "module": cls.__module__,
        "qualname": _qualname(cls),
        "app_label": app_label_of(cls.__module__),
        "model": _model_label(cls),
        "viewset": group["viewset"],
        "description": description(cls),
        "permissions": [_permission_name(p) for p in getattr(cls, "permission_classes", ())],
        "endpoints": endpoints,
    }
    return view, facts


def _model_label(cls: type[APIView]) -> str | None:
    """The label of the model a view's class-level queryset is of (`get_queryset()` may need a
    request: not asked)."""
    queryset = getattr(cls, "queryset", None)
    model = getattr(queryset, "model", None)
    return model._meta.label if model is not None else None


def _handlers(callback: Callable[..., Any], cls: type[APIView], viewset: bool) -> dict[str, list[str]]:
    """{handler: [methods]} reached through this route."""
    if viewset:
        handlers: dict[str, list[str]] = {}
        for method, handler in (getattr(callback, "actions", None) or {}).items():
            handlers.setdefault(handler, []).append(method)
        return handlers
    methods = [m for m in cls.http_method_names if m not in ("options", "head", "trace") and hasattr(cls, m)]
    return {"": methods}


def _endpoint(
    routed: RoutedView,
    handler: str,
    methods: list[str],
    params: list[dict[str, Any]],
    where: str,
    viewset: bool,
    described: dict[type, list[dict[str, Any]]],
) -> dict[str, Any]:
    from django_mcp.requests import CallerContext

    anonymous = CallerContext(None).request((methods[0] if methods else "get").upper())
    view = view_instance(routed, handler, anonymous)
    function = getattr(routed.view_class, handler, None) if handler else None
    is_action = viewset and handler not in STANDARD_HANDLERS
    params = _typed_lookup(view, params)
    facts = {
        "handler": handler,
        "action": is_action,
        "url_path": getattr(function, "url_path", None) if is_action else None,
        "route": where,
        "path_params": params,
        "methods": methods,
        "description": _action_description(function) if is_action else "",
        "serializer": _serializer(view, handler, is_action or handler == "destroy", described),
        "permissions": _permissions(view),
    }
    if handler == "list":
        facts["listing"] = _listing(view)
    return facts


def view_instance(routed: RoutedView, handler: str, request: HttpRequest) -> APIView:
    """The view as DRF's dispatch sets it up for `handler`, with a DRF request around the
    plain `request` (whose method reaches the handler), before any permission check."""
    request._force_auth_user = request.user  # as drf.call authenticates
    view = cast("type[APIView]", routed.view_class)(**routed.initkwargs)  # a DRF view: it has a class
    actions = getattr(routed.callback, "actions", None)
    if actions is not None:
        view.action_map = actions
        view.action = handler
    view.args, view.kwargs = (), {}
    view.headers = {}
    view.format_kwarg = None
    view.request = view.initialize_request(request)
    return view


def _typed_lookup(view: APIView, params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A router's lookup accepts any text (`[^/.]+`); when the field it looks up is an
    integer column, the parameter is typed as one."""
    from django.db import models

    lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
    queryset = getattr(type(view), "queryset", None)
    if lookup is None or queryset is None:
        return params
    try:
        field = (
            queryset.model._meta.pk if view.lookup_field == "pk" else queryset.model._meta.get_field(view.lookup_field)
        )
    except Exception:
        return params
    if not isinstance(field, (models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField)):
        return params
    return [dict(p, converter="int") if p["name"] == lookup and p["converter"] == "regex" else p for p in params]


def _serializer(
    view: APIView, handler: str, own_only: bool, described: dict[type, list[dict[str, Any]]]
) -> list[dict[str, Any]] | None:
    """The serializer's field facts, or None when the view has none we can describe. An
    `@action` (and `destroy`, `own_only`) takes a serializer only when it names its own (in
    `@action` or through `get_serializer_class`): otherwise what it reads from
    `request.data` is its own business, and any JSON object is passed on. `described` keeps
    the facts of the serializer classes whose fields cannot depend on the request or view
    (`context_free`): a viewset's endpoints mostly share one, and building its fields is most
    of describing it."""
    from django_mcp.facts.drf_fields import context_free, serializer_facts  # imports DRF

    if not hasattr(view, "get_serializer_class"):
        return None
    default = getattr(type(view), "serializer_class", None)
    try:
        serializer_class = view.get_serializer_class()
    except Exception:
        serializer_class = default
    if serializer_class is None or own_only and serializer_class is default:
        return None
    shared = described.get(serializer_class)
    if shared is not None:
        return shared
    try:
        serializer = serializer_class(context={"request": view.request, "view": view, "format": None})
        facts = serializer_facts(serializer)
    except Exception:
        left_out.report(
            logger,
            "the serializer %s of %s (%s) could not be described; its body is any object",
            getattr(serializer_class, "__name__", serializer_class),
            _dotted(type(view)),
            handler or "view",
            exc_info=True,
        )
        return None
    try:
        alike = context_free(serializer)
    except Exception:  # an odd class is only described again, never left out for this
        alike = False
    if alike:
        described[serializer_class] = facts
    return facts


def _listing(view: APIView) -> dict[str, Any]:
    from rest_framework.filters import OrderingFilter, SearchFilter
    from django_mcp.facts.drf_fields import filter_facts
    from rest_framework.pagination import CursorPagination, LimitOffsetPagination, PageNumberPagination

    listing: dict[str, Any] = {"pagination": None, "search": None, "ordering": None, "filters": []}
    paginator = getattr(view, "paginator", None)
    if isinstance(paginator, PageNumberPagination):
        listing["pagination"] = {
            "style": "page_number",
            "page_size": paginator.page_size,
            "max_page_size": paginator.max_page_size,
            "page_param": paginator.page_query_param,
            "page_size_param": paginator.page_size_query_param,
        }
    elif isinstance(paginator, LimitOffsetPagination):
        listing["pagination"] = {
            "style": "limit_offset",
            "page_size": paginator.default_limit,
            "max_page_size": paginator.max_limit,
            "page_size_param": paginator.limit_query_param,
            "offset_param": paginator.offset_query_param,
        }
    elif isinstance(paginator, CursorPagination):
        listing["pagination"] = {
            "style": "cursor",
            "page_size": paginator.page_size,
            "max_page_size": paginator.max_page_size,
            "page_param": paginator.cursor_query_param,
            "page_size_param": paginator.page_size_query_param,
        }
    for backend_class in getattr(view, "filter_backends", ()):
        backend = backend_class()
        try:
            if isinstance(backend, SearchFilter):
                fields = list(backend.get_search_fields(view, view.request) or ())
                if fields:
                    listing["search"] = {"param": backend.search_param, "fields": [str(f) for f in fields]}
            elif isinstance(backend, OrderingFilter):
                valid = backend.get_valid_fields(_queryset(view), view, {"request": view.request})
                listing["ordering"] = {"param": backend.ordering_param, "fields": [name for name, _label in valid]}
            elif _is_django_filter(backend):
                filterset_class = backend.get_filterset_class(view, _queryset(view))
                if filterset_class is not None:
                    listing["filters"] = filter_facts(filterset_class)
        except Exception:
            left_out.report(
                logger,
                "the filter backend %s of %s could not be described; not offered",
                backend_class.__name__,
                _dotted(type(view)),
                exc_info=True,
            )
    return listing


def _queryset(view: APIView) -> QuerySet | None:
    """The view's queryset for describing its filters: `get_queryset()` may need a real
    user, so the class attribute answers when it fails."""
    try:
        return view.get_queryset()
    except Exception:
        return getattr(view, "queryset", None)


def _is_django_filter(backend: object) -> bool:
    module = sys.modules.get("django_filters.rest_framework")
    backend_class = getattr(module, "DjangoFilterBackend", None)
    return isinstance(backend_class, type) and isinstance(backend, backend_class)


def _action_description(function: Callable[..., Any] | None) -> str:
    text = (getattr(function, "kwargs", None) or {}).get("description")
    if isinstance(text, str) and text:
        return " ".join(text.split())
    return description(function) if function is not None else ""


def _permissions(view: APIView) -> list[str] | None:
    """What `get_permissions()` gives the handler (views choose per action), by name; None
    when it cannot say without a real request."""
    try:
        return [_permission_name(permission) for permission in view.get_permissions()]
    except Exception:
        return None


def _permission_name(permission: object) -> str:
    """`IsAuthenticated`, or `(IsAuthenticated OR IsAdminUser)` for composed permissions
    (classes or the instances `get_permissions()` makes of them)."""
    name = getattr(permission, "__name__", None)
    if name:
        return name
    first = getattr(permission, "op1", None) or getattr(permission, "op1_class", None)
    second = getattr(permission, "op2", None) or getattr(permission, "op2_class", None)
    operator = getattr(getattr(permission, "operator_class", None), "__name__", None) or type(permission).__name__
    if second is not None:
        return f"({_permission_name(first)} {operator} {_permission_name(second)})"
    if first is not None:
        return f"{operator} {_permission_name(first)}"
    return type(permission).__name__
