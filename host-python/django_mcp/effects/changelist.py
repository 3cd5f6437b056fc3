"""The changelist effect: a page of a ModelAdmin's list, as the admin's ChangeList builds it
for this caller (docs/engine-protocol.md, `admin.list`)."""

from __future__ import annotations

import copy
import html
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.admin import ModelAdmin, SimpleListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path, lookup_field, lookup_spawns_duplicates
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, ValidationError
from django.db import models
from django.db.models import ManyToOneRel, Model, QuerySet
from django.http import HttpRequest
from django.utils.html import strip_tags
from django.utils.safestring import SafeData

from django_mcp.effects import EffectError
from django_mcp.facts import changelist as changelist_facts
from django_mcp.seam import JSON, AdminList
from django_mcp.values import MASK, field_value, to_json

if TYPE_CHECKING:
    from django_mcp.facts.registry import Registry
    from django_mcp.requests import CallerContext

#: (name, model field or None, the list_display entry) of a column (`_list_columns`).
Column = tuple[str, Any, Any]


def admin_list(effect: AdminList, caller: CallerContext, registry: Registry) -> dict[str, Any]:
    """A changelist page, as the admin's ChangeList builds it for this caller: `get_queryset`,
    the list filters, `list_select_related`, the ordering, `get_search_results`; then each
    column's value per row (docs/engine-protocol.md, `admin.list`). Which columns, search
    fields and paths may be used in clear is the engine's verdict (`cleared`): this caller's
    admin may add others the facts never showed the engine, and those fail closed."""
    site, model_admin = registry.get(effect["admin"])
    request = caller.request()
    cleared = frozenset(effect.get("cleared") or ())
    queryset = model_admin.get_queryset(request)
    queryset, filters_duplicate = _apply_filters(model_admin, request, queryset, effect.get("filters") or (), cleared)
    columns = _list_columns(model_admin, request, effect["columns"])
    if not queryset.query.select_related:
        queryset = _select_related(model_admin, request, queryset, columns)
    many = [field.name for _name, field, _attr in columns if field is not None and field.many_to_many]
    if many:
        queryset = queryset.prefetch_related(*many)
    queryset = queryset.order_by(*_ordering(model_admin, request, queryset, effect.get("ordering"), cleared))
    search_duplicate = False
    if effect.get("q"):
        queryset, search_duplicate = _search_results(model_admin, request, queryset, search_text(effect["q"]), cleared)
    if filters_duplicate or search_duplicate:
        queryset = queryset.distinct()
    page, size = int(effect["page"]), int(effect["page_size"])
    count = queryset.count()
    offset = (page - 1) * size
    # A page past the end is empty; its offset may not even fit the database's integers.
    rows = queryset[offset : offset + size] if offset < count else ()
    return {
        "results": [_list_row(model_admin, obj, columns, cleared) for obj in rows],
        "count": count,
    }


def search_text(q: str | None) -> str:
    """Search text as the admin's search form takes it: a null character is refused (PostgreSQL
    cannot compare text holding one), whatever the database."""
    try:
        return forms.CharField(required=False, strip=False).clean(q)
    except ValidationError as exc:
        raise EffectError("validation", f"q: {' '.join(exc.messages)}", {"q": exc.messages}) from None


def _search_results(
    model_admin: ModelAdmin, request: HttpRequest, queryset: QuerySet, q: str, cleared: frozenset[str]
) -> tuple[QuerySet, bool]:
    """The admin's own `get_search_results` (overrides that call super() included) over this
    caller's `get_search_fields` that the engine cleared. A shallow copy carries the narrowed
    fields: the ModelAdmin itself is shared by every request."""
    search_fields = list(model_admin.get_search_fields(request) or ())
    allowed = [f for f in search_fields if str(f) in cleared]
    if not allowed:
        # Fail closed: a search over no field the engine cleared finds nothing, where the
        # admin would ignore it and list everything.
        return queryset.none(), False
    if allowed != search_fields:
        model_admin = copy.copy(model_admin)
        model_admin.get_search_fields = lambda request: allowed
    return model_admin.get_search_results(request, queryset, q)


def _apply_filters(
    model_admin: ModelAdmin, request: HttpRequest, queryset: QuerySet, filters: Iterable[Any], cleared: frozenset[str]
) -> tuple[QuerySet, bool]:
    """The engine's filters (already restricted to declared ones and validated), held again
    to this caller's `get_list_filter`: field and range filters on its field paths the engine
    cleared, choices through the SimpleListFilter that owns the parameter, as the ChangeList
    applies it."""
    model = model_admin.model
    paths: set[str] = set()
    simple: dict[str, type[SimpleListFilter]] = {}
    for entry in model_admin.get_list_filter(request):
        if isinstance(entry, type) and issubclass(entry, SimpleListFilter):
            simple.setdefault(entry.parameter_name, entry)  # type: ignore[attr-defined]  # Django's, unstubbed
        elif not isinstance(entry, type):
            try:
                path = changelist_facts.filter_path(model, entry)
            except Exception:
                continue
            if path and path in cleared:
                paths.add(path)
    duplicates = False
    for spec in filters:
        kind = spec.get("kind")
        try:
            if kind == "choices":
                cls = simple.get(spec.get("name"))
                if cls is None:
                    raise _bad_filter(spec.get("name"))
                list_filter = _choice_filter(model_admin, request, cls, spec.get("value"))
                narrowed = list_filter.queryset(request, queryset)
                if narrowed is not None:
                    queryset = narrowed
                continue
            path = spec.get("path")
            if kind not in ("field", "range") or path not in paths:
                raise _bad_filter(path or spec.get("name"))
            lookup: dict[str, Any]
            if kind == "field":
                value = spec.get("value")
                lookup = {f"{path}__isnull": True} if value is None else {path: value}
            else:
                lookup = {}
                for bound in ("gte", "lte"):
                    if spec.get(bound) is not None:
                        lookup[_range_lookup(model, path, spec[bound], bound)] = spec[bound]
            queryset = queryset.filter(**lookup)
            duplicates |= lookup_spawns_duplicates(model._meta, path)
        except (ValueError, TypeError, ValidationError, IncorrectLookupParameters):
            name = spec.get("name") or spec.get("path")
            raise EffectError(
                "validation",
                f"filters.{name}: not a value this filter accepts",
                {f"filters.{name}": ["Not a value this filter accepts."]},
            ) from None
    return queryset, duplicates


def _bad_filter(name: JSON) -> EffectError:
    return EffectError(
        "validation",
        f"filters.{name}: is not a list filter of this admin",
        {f"filters.{name}": ["Not a list filter of this admin."]},
    )


def _choice_filter(
    model_admin: ModelAdmin, request: HttpRequest, cls: type[SimpleListFilter], value: JSON
) -> SimpleListFilter:
    """The SimpleListFilter `cls` with `value` chosen, made as the changelist makes it from
    the query string (`{parameter: [text]}`; a lookup's value always arrives as text). The
    value must be one of its lookups."""
    text = value if isinstance(value, str) else str(value)
    list_filter = changelist_facts.simple_filter(model_admin, request, cls, {cls.parameter_name: [text]})
    for lookup, _label in list_filter.lookup_choices:
        if to_json(lookup) == value:
            if str(lookup) != text:  # a value whose JSON is not its text (a datetime)
                list_filter = changelist_facts.simple_filter(
                    model_admin, request, cls, {cls.parameter_name: [str(lookup)]}
                )
            return list_filter
    raise EffectError(
        "validation",
        f"filters.{cls.parameter_name}: is not one of its choices",
        {f"filters.{cls.parameter_name}": ["Not one of the filter's choices."]},
    )


def _range_lookup(model: type[Model], path: str, value: JSON, bound: str) -> str:
    """`path__gte` / `path__lte`; a date-only bound on a datetime compares dates, so that
    `lte: "2024-01-31"` includes that whole day."""
    field = get_fields_from_path(model, path)[-1]
    if isinstance(field, models.DateTimeField) and isinstance(value, str) and len(value) == 10:
        return f"{path}__date__{bound}"
    return f"{path}__{bound}"


def _ordering(
    model_admin: ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    requested: list[str] | None,
    cleared: frozenset[str],
) -> list[Any]:
    """The requested ordering (field paths, already mapped from columns by the engine and
    held again to what this caller's changelist sorts by and the engine cleared), else the
    admin's (`get_ordering`, `ordering`, the model's), made total by the pk for stable pages."""
    ordering = [_one_sign(o) for o in requested or () if isinstance(o, str) and o.lstrip("-")]
    allowed = _sortable(model_admin, request) & cleared if ordering else frozenset()
    for expr in ordering:
        if expr.lstrip("-") not in allowed:
            raise EffectError(
                "validation",
                f"ordering: {expr.lstrip('-')} is not a sortable column",
                {"ordering": [f"{expr.lstrip('-')} is not a sortable column."]},
            )
    # As ChangeList.get_ordering: the admin's own ordering follows as the next keys.
    default = (
        list(queryset.query.order_by or ())
        or list(model_admin.get_ordering(request) or ())
        or list(model_admin.model._meta.ordering or ())
    )
    named = {o.lstrip("-") for o in ordering}
    ordering += [o for o in default if not (isinstance(o, str) and o.lstrip("-") in named)]
    pk = model_admin.model._meta.pk.name
    names = [o.lstrip("-") for o in ordering if isinstance(o, str)]
    if "pk" not in names and pk not in names:
        last = ordering[-1] if ordering else None
        ordering.append("-pk" if isinstance(last, str) and last.startswith("-") else "pk")
    return ordering


def _sortable(model_admin: ModelAdmin, request: HttpRequest) -> set[str]:
    """The field paths the changelist may sort by for this caller: its sortable list_display
    columns (model fields, `admin_order_field`s, relation paths), the admin's default
    ordering, and the pk."""
    model = model_admin.model
    opts = model._meta
    allowed = {"pk", opts.pk.name}
    for entry in (*(model_admin.get_ordering(request) or ()), *(model_admin.ordering or ()), *(opts.ordering or ())):
        if isinstance(entry, str):
            allowed.add(entry.lstrip("-"))
    sortable_by = model_admin.get_sortable_by(request)
    for entry in model_admin.get_list_display(request):
        name = changelist_facts.column_name(entry)
        if name is None or (sortable_by is not None and name not in sortable_by and entry not in sortable_by):
            continue
        field = changelist_facts.model_field(model, entry)
        if field is not None:
            if not field.many_to_many:
                allowed.add(field.name)
            continue
        try:
            column = changelist_facts.columns_entry(model_admin, entry)
        except Exception:
            continue
        if column and column["order_field"]:
            allowed.add(column["order_field"].lstrip("-"))
    return allowed


def _one_sign(expr: str) -> str:
    """`--published` (a descending column whose admin_order_field is `-published`) is `published`."""
    body = expr.lstrip("-")
    return body if (len(expr) - len(body)) % 2 == 0 else "-" + body


def _list_columns(model_admin: ModelAdmin, request: HttpRequest, wanted: Iterable[Any]) -> list[Column]:
    """(name, model field or None, the list_display entry) per requested column. A column
    must be in this caller's `list_display` (`get_list_display`), be the pk (which leads
    every row) or `__str__`; others are left out, as the admin would not show them: the
    engine asks for the columns of the facts, gathered as a user who may see everything."""
    model = model_admin.model
    opts = model._meta
    displayed: dict[str, Any] = {}
    for entry in model_admin.get_list_display(request):
        name = changelist_facts.column_name(entry)
        if name is not None:
            displayed.setdefault(name, entry)
    columns: list[Column] = []
    for column in wanted:
        if isinstance(column, str):  # a bare name: a field if the model has one
            name = column
            field = changelist_facts.model_field(model, column) or (opts.pk if column in ("pk", opts.pk.name) else None)
            field = field.name if field is not None else None
        else:
            name, field = column["name"], column.get("field")
        if field is None and name in displayed:
            # a model field the engine shows as computed (a many-to-many): its pks, prefetched
            shown = changelist_facts.model_field(model, displayed[name])
            field = shown.name if shown is not None else None
        if field is not None:
            if name in displayed or name in ("pk", opts.pk.name):
                columns.append((name, opts.get_field(field), None))
        elif name in displayed:
            columns.append((name, None, displayed[name]))
        elif name == "__str__":
            columns.append((name, None, "__str__"))
    return columns


def _select_related(
    model_admin: ModelAdmin, request: HttpRequest, queryset: QuerySet, columns: list[Column]
) -> QuerySet:
    """`list_select_related` as ChangeList.apply_select_related reads it (True: every
    foreign key; a sequence: those; False: all when list_display shows a foreign key), and
    the relations of `author__name`-style columns so they cost no query per row."""
    setting = model_admin.get_list_select_related(request)
    if setting is True:
        return queryset.select_related()
    if setting:
        return queryset.select_related(*setting)
    opts = model_admin.model._meta
    for entry in model_admin.get_list_display(request):
        if not isinstance(entry, str):
            continue
        try:
            field = opts.get_field(entry)
        except FieldDoesNotExist:
            continue
        if isinstance(field.remote_field, ManyToOneRel) and entry != field.attname:
            return queryset.select_related()
    paths: list[str] = []
    for _name, field, entry in columns:
        if field is None and isinstance(entry, str) and "__" in entry:
            try:
                chain = get_fields_from_path(model_admin.model, entry)[:-1]
            except Exception:
                continue
            if chain and all(f.many_to_one or f.one_to_one for f in chain):
                paths.append("__".join(f.name for f in chain))
    return queryset.select_related(*paths) if paths else queryset


def _list_row(model_admin: ModelAdmin, obj: Model, columns: list[Column], cleared: frozenset[str]) -> dict[str, JSON]:
    row: dict[str, JSON] = {}
    for name, field, entry in columns:
        if name not in cleared:
            row[name] = MASK  # not even looked up: the column's secret stays unread
            continue
        if field is not None:
            row[name] = field_value(obj, field)
            continue
        try:
            _f, attr, value = lookup_field(entry, obj, model_admin)
        except ObjectDoesNotExist:
            value, attr = None, None  # the admin shows its empty value
        display = attr.fget if isinstance(attr, property) else attr
        row[name] = display_value(value, boolean=bool(getattr(display, "boolean", False)))
    return row


def display_value(value: Any, *, boolean: bool = False) -> JSON:
    """A computed column's value as JSON: booleans stay booleans, HTML (safe strings, as
    from `format_html`) becomes its plain text, model instances their `str()`."""
    if boolean:
        return None if value is None else bool(value)
    if isinstance(value, SafeData):
        return html.unescape(strip_tags(str(value)))
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (models.QuerySet, models.Manager)):
        return [str(o) for o in value.all()]
    return to_json(value)
