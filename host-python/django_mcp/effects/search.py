"""The search effect: a page of a DJANGO_MCP_MODEL_SEARCH entry's model for this caller
(docs/engine-protocol.md, `model.search`).

The objects are those the model's ModelAdmin lets this caller see (its site's
`has_permission` first, as for every admin tool, then `has_view_permission`, `get_queryset`:
tenant scoping is never bypassed), else the default manager's. The entry's permission is
checked again here, and the effect's field names are held to the entry's: this effect hands
out data.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.admin.utils import lookup_spawns_duplicates
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.text import smart_split, unescape_string_literal

from django_mcp.effects import EffectError, Forbidden, NotFound
from django_mcp.effects.admin import object_values
from django_mcp.effects.changelist import search_text
from django_mcp.facts.search import Search
from django_mcp.seam import ModelSearch

if TYPE_CHECKING:
    from django_mcp.facts.registry import Registry
    from django_mcp.requests import CallerContext


def search_permitted(search: Search, request: HttpRequest, registry: Registry) -> bool:
    """Whether this caller may search: the entry's permission and, for a search through a
    ModelAdmin, its site's `has_permission` and its `has_view_permission`. The tool's gate
    and its effect both ask this, so the list never offers a search its call would refuse."""
    if not request.user.has_perm(search.permission):
        return False
    if search.admin is None:
        return True
    site, model_admin = registry.get(search.admin)
    return site.has_permission(request) and model_admin.has_view_permission(request)


def model_search(effect: ModelSearch, caller: CallerContext, registry: Registry) -> dict[str, Any]:
    try:
        search = registry.search(effect["model"])
    except KeyError:
        raise NotFound("no such search") from None
    request = caller.request()
    if not search_permitted(search, request, registry):
        raise Forbidden()
    opts = search.model._meta
    if search.admin is None:
        queryset = search.model._default_manager.all()
    else:
        _site, model_admin = registry.get(search.admin)
        queryset = model_admin.get_queryset(request)

    queryset, duplicates = _filter(queryset, search, effect.get("filters") or ())
    search_fields = [name for name in effect.get("search_fields") or () if name in search.search_fields]
    if effect.get("q") and search_fields:
        queryset = _search(queryset, search_fields, search_text(effect["q"]))
        duplicates |= any(lookup_spawns_duplicates(opts, name) for name in search_fields)
    if duplicates:
        queryset = queryset.distinct()
    # The engine's choice, held to the entry's: a name that is no field of the model fails.
    fields = [name for name in effect["fields"] if name in search.result_fields]
    queryset = queryset.order_by(*_ordering(queryset, search, fields, effect.get("ordering")))
    many = [name for name in fields if opts.get_field(name).many_to_many]
    if many:
        queryset = queryset.prefetch_related(*many)

    page, size = max(1, int(effect["page"])), max(1, int(effect["page_size"]))
    count = queryset.count()
    offset = (page - 1) * size
    # A page past the end is empty; its offset may not even fit the database's integers.
    rows = queryset[offset : offset + size] if offset < count else ()
    masked = effect.get("masked")
    return {"results": [object_values(search.model, obj, fields, masked) for obj in rows], "count": count}


def _filter(queryset: QuerySet, search: Search, filters: Iterable[Any]) -> tuple[QuerySet, bool]:
    """Exact filters on the entry's filter fields (`value` null: `path__isnull`), and whether
    one spans a to-many relation. A value the field cannot take is a validation error, raised
    before the database is asked anything."""
    duplicates = False
    for spec in filters:
        path, value = spec.get("path"), spec.get("value")
        if path not in search.filter_fields:
            raise EffectError(
                "validation",
                f"filters.{path}: is not a filter of this search",
                {f"filters.{path}": ["Not a filter of this search."]},
            )
        try:
            queryset = queryset.filter(**({f"{path}__isnull": True} if value is None else {path: value}))
        except (ValueError, TypeError, ValidationError):
            raise EffectError(
                "validation",
                f"filters.{path}: not a value this field accepts",
                {f"filters.{path}": ["Not a value this field accepts."]},
            ) from None
        duplicates |= lookup_spawns_duplicates(search.model._meta, path)
    return queryset, duplicates


def _search(queryset: QuerySet, search_fields: list[str], q: str) -> QuerySet:
    """As the admin searches: each word (or quoted phrase) must be in one of the fields."""
    for word in smart_split(q):
        if word.startswith(('"', "'")) and word[0] == word[-1]:
            word = unescape_string_literal(word)
        anywhere = (Q(**{f"{name}__icontains": word}) for name in search_fields)
        queryset = queryset.filter(functools.reduce(operator.or_, anywhere))
    return queryset


def _ordering(queryset: QuerySet, search: Search, fields: list[str], requested: list[str] | None) -> list[str]:
    """The requested ordering (the result fields only), else the admin's or the model's,
    made total by the pk for stable pages."""
    opts = search.model._meta
    sortable = {name for name in fields if not opts.get_field(name).many_to_many}
    ordering = [expr for expr in requested or () if isinstance(expr, str) and expr]
    for name in (expr.removeprefix("-") for expr in ordering):
        if name not in sortable:
            raise EffectError(
                "validation",
                f"ordering: {name} is not a field to order by",
                {"ordering": [f"{name} is not a field to order by."]},
            )
    if not ordering:
        ordering = list(queryset.query.order_by or ()) or list(opts.ordering or ())
    names = {expr.removeprefix("-") for expr in ordering if isinstance(expr, str)}
    if not names & {"pk", opts.pk.name}:
        ordering.append("pk")
    return ordering
