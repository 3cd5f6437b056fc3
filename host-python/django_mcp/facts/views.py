"""Facts about the routed views: one entry per URL pattern of the project's URLconfs.

ROOT_URLCONF and DJANGO_MCP_URLCONFS are walked through their includes, namespaces kept.
Left out: the admin sites' URLs (they are served through their ModelAdmins), our own
endpoints, static and media serving, and whatever the engine does not serve: it is asked
about every view the walk found (`select_views`: DJANGO_MCP_VIEW_INCLUDE and _EXCLUDE, and
DJANGO_MCP_REQUIRE_AUTH over the gates recognised here), and only the views it serves are
described. A view that cannot be described is skipped with a warning; the others are still
served.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from asgiref.sync import iscoroutinefunction
from django.apps import apps
from django.conf import settings
from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.admin.sites import all_sites
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter, UUIDConverter
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.module_loading import import_string
from django.utils.regex_helper import normalize
from django.views.generic import RedirectView, TemplateView
from django.views.generic.dates import BaseDateListView
from django.views.generic.detail import BaseDetailView
from django.views.generic.edit import BaseDeleteView, DeletionMixin, ProcessFormView
from django.views.generic.list import BaseListView

from django_mcp import conf, left_out
from django_mcp.facts import view_gates
from django_mcp.facts.view_gates import LOGIN, PUBLIC

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from django.views import View

    from django_mcp.facts.registry import Registry
    from django_mcp.facts.view_gates import Gate
    from django_mcp.seam import JSON, LeftOut

logger = logging.getLogger("django_mcp.facts")
#: A walk's entry the engine is asked about (`selected`).
_C = TypeVar("_C")
_UNDESCRIBED = "skipping the view at %r: it could not be described"

# How a route writes a parameter: `<int:pk>`, `<slug>` (django.urls.resolvers does the same).
_ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_CONVERTERS = {
    IntConverter: "int",
    StringConverter: "str",
    SlugConverter: "slug",
    UUIDConverter: "uuid",
    PathConverter: "path",
}
# Class views by what they do, most specific first (a DeleteView is also a detail view).
_CLASS_KINDS = (
    (RedirectView, "redirect"),
    ((ProcessFormView, BaseDeleteView, DeletionMixin), "form"),
    ((BaseListView, BaseDateListView), "list"),
    (BaseDetailView, "detail"),
    (TemplateView, "template"),
)


class PathError(ValueError):
    """Path values that do not make this view's URL; the message is safe to show a client."""


@dataclasses.dataclass
class RoutedView:
    """A URL pattern and the view it routes to: what the view effects need to call it."""

    id: str
    #: The namespace-qualified URL name, or None.
    name: str | None
    #: The URLconf (module path) it was found in; resolving there finds it again.
    urlconf: str
    #: The patterns from the URLconf's top down to this view's own.
    pieces: tuple
    callback: Callable
    view_class: type | None
    #: The `as_view(**initkwargs)` arguments (they live in the callback too).
    initkwargs: dict
    class_kind: str | None
    gates: list
    #: The HTTP methods (lower case) it handles; empty: any.
    methods: list = dataclasses.field(default_factory=list)

    def path_for(self, values: Mapping[str, JSON]) -> str:
        """The URL path (as `path_info`) with `values` in place of the parameters; PathError
        when one is missing, unknown or does not fit its converter. The path is built here
        rather than by `reverse()`: several patterns may share a name, and `to_url` of a
        converter may reject the JSON form of a value its regex accepts (a year as "2024")."""
        expected = {p["name"] for p in path_params(self.pieces)}
        unknown = sorted(set(values) - expected)
        if unknown:
            raise PathError(f"unknown path parameter {unknown[0]!r}")
        return "/" + "".join(_filled(piece, values) for piece in self.pieces)


def collect_views(registry: Registry) -> list[dict[str, Any]]:
    """The facts of every routed view the engine serves, each also added to `registry` under its
    id. What is reported meanwhile keeps the order of the walk."""
    login_everywhere = login_required_middleware()
    with left_out.held() as found:
        for urlconf, pieces, namespaces, pattern in routed_patterns():
            candidate = _candidate(urlconf, pieces, namespaces, pattern, login_everywhere)
            if candidate is not None:
                found.append(candidate)
    ids: set[str]
    facts, ids = [], set()
    for candidate, verdict in selected(found, _Candidate, _Candidate.labels):
        if verdict is not None:
            left_out.report(
                logger,
                "not serving the view %s at %r: %s",
                candidate.dotted,
                candidate.where,
                verdict["reason"],
                level=verdict["level"],
            )
            continue
        described = _describe(candidate, ids)
        if described is not None:
            routed, view_facts = described
            ids.add(routed.id)
            registry.add_view(routed)
            facts.append(view_facts)
    return facts


def selected(
    found: list[Any], kind: type[_C], labels: Callable[[_C], dict[str, Any]]
) -> Iterator[tuple[_C, LeftOut | None]]:
    """Each `kind` entry of `found` (`left_out.held`) with the engine's answer for it, in order;
    the reports held between them are made in their places."""
    verdicts = iter(select_views([labels(entry) for entry in found if isinstance(entry, kind)]))
    for entry in found:
        if isinstance(entry, kind):
            yield entry, next(verdicts)
        else:
            entry()


def select_views(candidates: list[dict[str, Any]]) -> list[LeftOut | None]:
    """The engine's answer for each view, in order (`{"name", "route", "dotted", "gates"?}`):
    None to describe and serve it, else why DJANGO_MCP_VIEW_INCLUDE, _EXCLUDE or
    DJANGO_MCP_REQUIRE_AUTH leave it out. Asked of the server's instance without a catalogue
    (docs/engine-protocol.md, `select_views`)."""
    if not candidates:
        return []
    from django_mcp import server  # which gathers these facts

    include = conf.get("DJANGO_MCP_VIEW_INCLUDE")
    selection = {
        "include": None if include is None else list(include),
        "exclude": list(conf.get("DJANGO_MCP_VIEW_EXCLUDE") or ()),
        "require_auth": bool(conf.get("DJANGO_MCP_REQUIRE_AUTH")),
        "candidates": candidates,
    }
    return server.state.select_views(json.dumps({"select_views": selection}, separators=(",", ":")))


def routed_patterns() -> Iterator[tuple[str, tuple[object, ...], tuple[str, ...], URLPattern]]:
    """(urlconf, pieces, namespaces, URLPattern) of every public URL pattern of the project's
    URLconfs; a URLconf that cannot be loaded is skipped with a warning."""
    for urlconf in urlconfs():
        try:
            patterns = get_resolver(urlconf).url_patterns
        except Exception:
            left_out.report(logger, "skipping the URLconf %s: it cannot be loaded", urlconf, exc_info=True)
            continue
        for pieces, namespaces, pattern in _walk(patterns, (), ()):
            yield urlconf, pieces, namespaces, pattern


def urlconfs() -> list[str]:
    """ROOT_URLCONF, then each DJANGO_MCP_URLCONFS module not already walked."""
    names = [settings.ROOT_URLCONF]
    for name in conf.get("DJANGO_MCP_URLCONFS") or ():
        if name not in names:
            names.append(name)
    return names


def login_required_middleware() -> bool:
    """Whether MIDDLEWARE has Django's LoginRequiredMiddleware (5.1+) or a subclass of it."""
    try:
        from django.contrib.auth.middleware import LoginRequiredMiddleware
    except ImportError:
        return False
    for path in settings.MIDDLEWARE:
        try:
            middleware = import_string(path)
        except ImportError:
            continue  # Django's own start-up reports it
        if isinstance(middleware, type) and issubclass(middleware, LoginRequiredMiddleware):
            return True
    return False


def _walk(
    patterns: Iterable[URLPattern | URLResolver], pieces: tuple[object, ...], namespaces: tuple[str, ...]
) -> Iterator[tuple[tuple[object, ...], tuple[str, ...], URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if _is_private_resolver(entry):
                continue
            try:
                children = entry.url_patterns
            except Exception:
                left_out.report(
                    logger,
                    "skipping the URLs included at %s: they cannot be loaded",
                    route_text(pieces + (entry.pattern,)),
                    exc_info=True,
                )
                continue
            inner = namespaces + (entry.namespace,) if entry.namespace else namespaces
            yield from _walk(children, pieces + (entry.pattern,), inner)
        elif isinstance(entry, URLPattern):
            yield pieces + (entry.pattern,), namespaces, entry


def _is_private_resolver(resolver: URLResolver) -> bool:
    """An admin site's URLs (AdminSite.urls has app_name "admin", its namespace the site's
    name) or our own URLconfs."""
    if resolver.app_name == "admin" or resolver.namespace in {site.name for site in all_sites}:
        return True
    module = getattr(resolver.urlconf_name, "__name__", resolver.urlconf_name)
    return isinstance(module, str) and (module == "django_mcp" or module.startswith("django_mcp."))


def is_private_callback(callback: Callable[..., Any], target: object) -> bool:
    """Admin views (bound to an AdminSite or ModelAdmin, however wrapped), our own endpoints
    (e.g. the slash-less sibling of the MCP endpoint) and static/media file serving."""
    for function in view_gates.wrappers(callback):
        if isinstance(getattr(function, "__self__", None), (AdminSite, ModelAdmin)):
            return True
    module = getattr(target, "__module__", "") or ""
    if module == "django_mcp" or module.startswith("django_mcp."):
        return True
    return target in _file_servers()


def drf_view_class(callback: Callable[..., Any]) -> type | None:
    """The DRF view class behind a callback (APIViews, ViewSets, `@api_view` functions), or
    None. DRF views have a surface of their own (facts/drf.py): their permission classes are
    not gates this module recognises. DRF is only looked at when the project has imported it."""
    drf = sys.modules.get("rest_framework.views")
    api_view = getattr(drf, "APIView", None)
    cls = getattr(callback, "cls", None)
    return cls if isinstance(api_view, type) and isinstance(cls, type) and issubclass(cls, api_view) else None


def _file_servers() -> list[Callable[..., Any]]:
    from django.views.static import serve

    servers = [serve]
    try:
        from django.contrib.staticfiles.views import serve as serve_static
    except ImportError:  # a project may leave staticfiles out entirely
        pass
    else:
        servers.append(serve_static)
    return servers


@dataclasses.dataclass
class _Candidate:
    """A routed view as the walk found it: its labels, and what the engine's selection reads."""

    urlconf: str
    pieces: tuple[object, ...]
    where: str
    callback: Callable[..., Any]
    view_class: type[View] | None
    target: Any
    name: str | None
    dotted: str
    params: list[dict[str, str]] = dataclasses.field(default_factory=list)
    initkwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    gates: list[Gate] = dataclasses.field(default_factory=list)
    #: Why its path parameters or gates could not be read: reported if the engine serves it.
    failure: Exception | None = None

    def labels(self) -> dict[str, Any]:
        """What the engine's selection reads; no gates where they could not be read."""
        labels: dict[str, Any] = {"name": self.name, "route": self.where, "dotted": self.dotted}
        if self.failure is None:
            labels["gates"] = [gate.facts() for gate in self.gates]
        return labels


def _candidate(
    urlconf: str, pieces: tuple[object, ...], namespaces: tuple[str, ...], pattern: URLPattern, login_everywhere: bool
) -> _Candidate | None:
    """The view one URL pattern routes to, or None: a private or DRF view, or one that cannot
    be named (reported)."""
    where = route_text(pieces)
    try:
        callback = pattern.callback
        view_class = getattr(callback, "view_class", None)
        target = view_class or view_function(callback)
        if is_private_callback(callback, target) or drf_view_class(callback) is not None:
            return None
        name = ":".join((*namespaces, pattern.name)) if pattern.name else None
        candidate = _Candidate(
            urlconf, pieces, where, callback, view_class, target, name, f"{target.__module__}.{target.__qualname__}"
        )
    except Exception:  # one odd view never takes the others down
        left_out.report(logger, _UNDESCRIBED, where, exc_info=True)
        return None
    try:
        candidate.params = list(path_params(pieces))
        candidate.initkwargs = dict(getattr(callback, "view_initkwargs", None) or {})
        candidate.gates = _gates(callback, view_class, candidate.initkwargs, login_everywhere)
    except Exception as exc:
        candidate.failure = exc
    return candidate


def _describe(candidate: _Candidate, ids: set[str]) -> tuple[RoutedView, dict[str, Any]] | None:
    """(RoutedView, facts) for a view the engine serves, or None when it cannot be described."""
    where, view_class, target = candidate.where, candidate.view_class, candidate.target
    if candidate.failure is not None:
        left_out.report(logger, _UNDESCRIBED, where, exc_info=candidate.failure)
        return None
    try:
        class_kind = _class_kind(view_class) if view_class else None
        methods = _methods(candidate.callback, view_class)
        routed = RoutedView(
            id=unique_id(candidate.name or candidate.dotted, ids),
            name=candidate.name,
            urlconf=candidate.urlconf,
            pieces=candidate.pieces,
            callback=candidate.callback,
            view_class=view_class,
            initkwargs=candidate.initkwargs,
            class_kind=class_kind,
            gates=candidate.gates,
            methods=methods,
        )
        view_facts = {
            "id": routed.id,
            "name": candidate.name,
            "route": where,
            "path_params": candidate.params,
            "module": target.__module__,
            "qualname": target.__qualname__,
            "app_label": app_label_of(target.__module__),
            "kind": "class" if view_class else "function",
            "class_kind": class_kind,
            "methods": methods,
            "is_async": bool(view_class.view_is_async if view_class else iscoroutinefunction(candidate.callback)),
            "description": description(target),
            "gates": [gate.facts() for gate in candidate.gates],
        }
    except Exception:  # one odd view never takes the others down
        left_out.report(logger, _UNDESCRIBED, where, exc_info=True)
        return None
    return routed, view_facts


def view_function(callback: Callable[..., Any]) -> Callable[..., Any]:
    """The function a (decorated, partial or callable-object) view callback comes down to."""
    function = inspect.unwrap(callback)
    while hasattr(function, "func") and not hasattr(function, "__qualname__"):  # functools.partial
        function = inspect.unwrap(function.func)
    if not hasattr(function, "__qualname__"):  # an instance with __call__
        function = type(function)
    return function


def unique_id(base: str, ids: set[str]) -> str:
    """`base`, or `base#2`, `base#3`… when a pattern with the same name or view came first."""
    candidate, n = base, 1
    while candidate in ids:
        n += 1
        candidate = f"{base}#{n}"
    return candidate


def route_text(pieces: Iterable[object]) -> str:
    """The route as written, joined through includes; an included regex drops its `^`."""
    parts = []
    for index, piece in enumerate(pieces):
        text = str(piece)
        if isinstance(piece, RegexPattern) and index:
            text = text.removeprefix("^")
        parts.append(text)
    return "".join(parts)


def path_params(pieces: Iterable[object]) -> Iterator[dict[str, str]]:
    for piece in pieces:
        if isinstance(piece, RoutePattern):
            for match in _ROUTE_PARAMETER.finditer(str(piece)):
                converter = piece.converters[match["name"]]
                yield {
                    "name": match["name"],
                    "converter": _CONVERTERS.get(type(converter), "regex"),
                    "pattern": converter.regex,
                }
        elif isinstance(piece, RegexPattern):
            regex = piece.regex
            if regex.groups > len(regex.groupindex):
                # Django passes unnamed groups positionally and cannot reverse them by name.
                raise ValueError("unnamed regex groups (positional view arguments) are not supported")
            for name, group in _named_groups(regex.pattern):
                yield {"name": name, "converter": "regex", "pattern": group}


def _named_groups(regex: str) -> list[tuple[str, str]]:
    """(name, sub-pattern) of each `(?P<name>…)` group, in order."""
    groups = []
    for match in re.finditer(r"\(\?P<(\w+)>", regex):
        start = index = match.end()
        depth, in_class = 1, False
        while index < len(regex) and depth:
            char = regex[index]
            if char == "\\":
                index += 2
                continue
            if in_class:
                in_class = char != "]"
            elif char == "[":
                in_class = True
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            index += 1
        groups.append((match[1], regex[start : index - 1]))
    return groups


def _filled(piece: object, values: Mapping[str, JSON]) -> str:
    if isinstance(piece, RoutePattern):

        def fill(match: re.Match[str]) -> str:
            name = match["name"]
            if name not in values:
                raise PathError(f"the path parameter {name!r} is required")
            return _url_text(name, piece.converters[name], values[name])

        return _ROUTE_PARAMETER.sub(fill, str(piece))
    if isinstance(piece, RegexPattern):
        for template, names in normalize(piece.regex.pattern):
            if all(name in values for name in names):
                text = template % {name: _plain(values[name]) for name in names}
                if piece.regex.fullmatch(text):
                    return text
        raise PathError(f"the path values do not fit {piece.regex.pattern!r}")
    return str(piece)  # e.g. i18n_patterns' language prefix


def _url_text(name: str, converter: Any, value: JSON) -> str:
    """The URL text of `value`: what `to_url` makes of it (as reverse() does), else the value
    as written, as long as the converter's regex accepts it."""
    text = None
    try:
        text = converter.to_url(value)
    except (ValueError, TypeError):
        pass
    if not isinstance(text, str) or not re.fullmatch(converter.regex, text):
        text = _plain(value)
    if not re.fullmatch(converter.regex, text):
        raise PathError(f"the path parameter {name!r} must match {converter.regex}")
    return text


def _plain(value: object) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise PathError("path values are strings or numbers")
    return str(value)


def _gates(
    callback: Callable[..., Any], view_class: type[View] | None, initkwargs: dict[str, Any], login_everywhere: bool
) -> list[Gate]:
    gates = view_gates.decorator_gates(callback)
    if view_class is not None:
        gates += view_gates.class_gates(view_class, initkwargs)
    # LoginRequiredMiddleware reads this attribute; login_not_required sets it to False.
    if getattr(callback, "login_required", True) is False:
        gates = gates or [PUBLIC]
    elif login_everywhere:
        gates = [LOGIN, *gates]
    unique = []
    for gate in gates:
        if gate not in unique:
            unique.append(gate)
    return unique


def _methods(callback: Callable[..., Any], view_class: type[View] | None) -> list[str]:
    """The HTTP methods (lower case) the view answers; [] when any method reaches it."""
    methods = None
    if view_class is not None:
        # Handlers the class defines; View.options answers every class view and says nothing,
        # and `head` counts only where a class defines it (View.setup lends it `get` otherwise).
        methods = [m for m in view_class.http_method_names if m != "options" and hasattr(view_class, m)]
    restricted = view_gates.allowed_methods(callback)
    if restricted is not None:
        methods = restricted if methods is None else [m for m in methods if m in restricted]
    return methods or []


def _class_kind(view_class: type[View]) -> str:
    for bases, kind in _CLASS_KINDS:
        if issubclass(view_class, bases):
            return kind
    return "other"


def app_label_of(module: str) -> str | None:
    """The label of the installed app whose package holds `module`, or None: what toolset
    patterns (`library.*`) match a view by."""
    config = apps.get_containing_app_config(module)
    return config.label if config is not None else None


def description(target: object) -> str:
    """The first paragraph of the view's own docstring (a class view does not inherit
    ListView's), on one line."""
    doc = target.__dict__.get("__doc__") if isinstance(target, type) else getattr(target, "__doc__", None)
    if not isinstance(doc, str):
        return ""
    paragraph = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return " ".join(paragraph.split())
