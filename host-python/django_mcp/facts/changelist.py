"""Facts about a ModelAdmin's changelist: its columns, its filters and its actions.

Each is read the way the admin's own ChangeList reads it, from the ModelAdmin's hooks
(`get_list_display`, `get_list_filter`, `get_actions`) for the request given (at load, a
user who holds every permission). An entry that cannot be described is left out with a
warning; it never takes the rest of the admin down.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.admin import ListFilter, ModelAdmin, SimpleListFilter
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    NotRelationField,
    _get_non_gfk_field,
    label_for_field,
    model_format_dict,
)
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest

from django_mcp import left_out
from django_mcp.facts.models import FieldsByName, crossed_fields, field_named, stored_fields
from django_mcp.values import to_json

logger = logging.getLogger("django_mcp.facts")


# list_display


def columns(model_admin: ModelAdmin, request: HttpRequest, fields: FieldsByName | None = None) -> list[dict]:
    """`list_display` as column facts (docs/engine-protocol.md, `list_display`):
    `{"name", "field", "title", "boolean", "order_field"}` per entry, in order. `fields`: the
    model's fields by name, shared with the admin's other facts."""
    out, seen = [], set()
    sortable_by = model_admin.get_sortable_by(request)
    fields = fields or FieldsByName(model_admin.model)
    for entry in model_admin.get_list_display(request):
        try:
            column = columns_entry(model_admin, entry, fields)
        except Exception:
            left_out.report(
                logger,
                "%s: list_display entry %r left out: it could not be described",
                _label(model_admin),
                entry,
                exc_info=True,
            )
            continue
        if column is None or column["name"] in seen:
            continue
        seen.add(column["name"])
        if sortable_by is not None and entry not in sortable_by and column["name"] not in sortable_by:
            column["sortable"], column["order_field"] = False, None  # ModelAdmin.sortable_by
        out.append(column)
    return out


def column_name(entry: object) -> str | None:
    """The name a list_display entry is known by: the string itself, or a callable's
    `__name__` (None for what cannot be named, such as a lambda)."""
    if isinstance(entry, str):
        return entry
    name = getattr(entry, "__name__", None)
    if callable(entry) and isinstance(name, str) and name.isidentifier():
        return name
    return None


def model_field(model: type[models.Model], entry: object, fields: FieldsByName | None = None) -> models.Field | None:
    """The model field a list_display entry names, as the admin resolves it (None for
    `__str__`, callables, methods, properties, `<fk>_id` and relation paths). `fields`: the
    model's fields by name, when the caller looks up several."""
    if not isinstance(entry, str):
        return None
    try:
        # The admin's rule, read through an object with the `get_field` of the model's options.
        return _get_non_gfk_field(fields or FieldsByName(model), entry)
    except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
        return None


def columns_entry(model_admin: ModelAdmin, entry: object, fields: FieldsByName | None = None) -> dict | None:
    """The column fact of one list_display entry (None for what is not a column)."""
    if entry == "action_checkbox":
        return None
    name = column_name(entry)
    if name is None:
        left_out.report(logger, "%s: list_display entry %r left out: it has no name", _label(model_admin), entry)
        return None
    model = model_admin.model
    field = model_field(model, entry, fields)
    if field is not None:
        return {
            "name": name,
            "field": field.name,
            "title": str(_field_label(field)),
            "boolean": isinstance(field, models.BooleanField),
            "order_field": None,
            "sortable": not field.many_to_many,
        }
    title, attr = label_for_field(entry, model, model_admin, return_attr=True)
    display = attr.fget if isinstance(attr, property) else attr
    order_field = _order_field(model_admin, entry, display)
    return {
        "name": name,
        "field": None,
        "title": str(title),
        "boolean": bool(getattr(display, "boolean", False)),
        "order_field": order_field,
        "sortable": order_field is not None,
    }


def _field_label(field: models.Field | models.ForeignObjectRel) -> object:
    """The admin's column title for a field (`label_for_field`'s, for a name that is one)."""
    try:
        return field.verbose_name
    except AttributeError:  # a reverse one-to-one relation
        return field.related_model._meta.verbose_name


def _order_field(model_admin: ModelAdmin, entry: object, attr: object) -> str | None:
    """What the changelist sorts a non-field column by, when that is a field path
    (ChangeList.get_ordering_field): `admin_order_field`, or a relation path itself."""
    if isinstance(entry, str):
        try:
            return field_named(model_admin.model, entry).name  # `<fk>_id`
        except FieldDoesNotExist:
            pass
        if isinstance(attr, (models.Field, models.ForeignObjectRel)):
            return entry  # `author__name`
    order = getattr(attr, "admin_order_field", None)
    return order if isinstance(order, str) and order.lstrip("-") else None


# search_fields


def search_fields(model_admin: ModelAdmin) -> list[str]:
    """`search_fields`, every one: the engine leaves out those that cross a secret."""
    return [str(f) for f in model_admin.search_fields or ()]


# field paths


def paths(model_admin: ModelAdmin, request: HttpRequest, facts: dict) -> dict[str, list[str]]:
    """The fields each field path of an admin's facts crosses (`crossed_fields`), for the
    paths that are not a field of the model: string `list_display` entries, order fields,
    search fields and field filters. From them the engine judges which paths reach a secret."""
    model = model_admin.model
    stored = {f.name for f in stored_fields(model)}
    named = [entry for entry in model_admin.get_list_display(request) if isinstance(entry, str)]
    named += [c["order_field"] for c in facts["list_display"] if c["order_field"]]
    named += facts["search_fields"]
    named += [f["path"] for f in facts["list_filter"] if f["kind"] == "field"]
    out = {}
    for path in named:
        path = path.lstrip("^=@-")
        if path not in stored and path not in out:
            crossed = crossed_fields(model, path)
            if crossed:
                out[path] = crossed
    return out


# list_filter


def filters(model_admin: ModelAdmin, request: HttpRequest, fields: FieldsByName | None = None) -> list[dict]:
    """`list_filter` as filter facts: field paths (`kind: field`) and SimpleListFilters
    (`kind: choices`, with their lookups). `fields`: as for `columns`."""
    out, seen = [], set()
    fields = fields or FieldsByName(model_admin.model)
    for entry in model_admin.get_list_filter(request):
        try:
            fact = _filter(model_admin, request, entry, fields)
        except (FieldDoesNotExist, NotRelationField):
            left_out.report(logger, "%s: list_filter entry %r left out: it names no field", _label(model_admin), entry)
            continue
        except Exception:
            left_out.report(
                logger,
                "%s: list_filter entry %r left out: it could not be described",
                _label(model_admin),
                entry,
                exc_info=True,
            )
            continue
        if fact is None:
            continue
        if fact["name"] in seen:
            left_out.report(
                logger,
                "%s: list_filter entry %r left out: a filter named %r comes first",
                _label(model_admin),
                entry,
                fact["name"],
            )
            continue
        seen.add(fact["name"])
        out.append(fact)
    return out


def filter_path(model: type[models.Model], entry: object, fields: FieldsByName | None = None) -> str | None:
    """The field path of a field list_filter entry (`"status"`, `"author__name"`,
    `("published", DateFieldListFilter)`), or None for a list filter class. `fields`: the
    model's fields by name, when the caller has them."""
    if isinstance(entry, (tuple, list)) and entry:
        entry = entry[0]
    if isinstance(entry, models.Field):
        return entry.name
    if isinstance(entry, str):
        # As the admin's get_fields_from_path walks it: raises for a path that names no field.
        lookup: FieldsByName | None = fields or FieldsByName(model)
        for piece in entry.split(LOOKUP_SEP):
            if lookup is None:
                raise NotRelationField
            related = lookup.get_field(piece).related_model
            lookup = FieldsByName(related) if isinstance(related, type) else None
        return entry
    return None


def simple_filter(
    model_admin: ModelAdmin, request: HttpRequest, cls: type[SimpleListFilter], params: dict | None = None
) -> SimpleListFilter:
    """An instance of a SimpleListFilter class, made as Django 5.x's ChangeList makes it
    (`params` maps its parameter to a list of values)."""
    return cls(request, dict(params or {}), model_admin.model, model_admin)


def _filter(model_admin: ModelAdmin, request: HttpRequest, entry: object, fields: FieldsByName) -> dict | None:
    if isinstance(entry, type) and issubclass(entry, SimpleListFilter):
        spec = simple_filter(model_admin, request, entry)
        choices = [[to_json(value), str(label)] for value, label in spec.lookup_choices]
        if not choices:
            left_out.report(
                logger,
                "%s: list filter %r offers no choices; left out",
                _label(model_admin),
                entry.__name__,
                level=logging.INFO,
            )
            return None
        return {"name": spec.parameter_name, "kind": "choices", "title": str(spec.title), "choices": choices}
    if isinstance(entry, type) and issubclass(entry, ListFilter):
        left_out.report(
            logger,
            "%s: list filter %r left out: only field filters and SimpleListFilters are offered",
            _label(model_admin),
            entry.__name__,
        )
        return None
    path = filter_path(model_admin.model, entry, fields)
    if path is None:
        left_out.report(
            logger,
            "%s: list_filter entry %r left out: not a field path or a SimpleListFilter",
            _label(model_admin),
            entry,
        )
        return None
    return {"name": path, "kind": "field", "path": path}


# actions


def actions(model_admin: ModelAdmin, request: HttpRequest) -> list[dict]:
    """The admin actions this request may run (`get_actions`, so `allowed_permissions` are
    applied), each with its description (delete_selected included)."""
    out = []
    for name, action in model_admin.get_actions(request).items():
        out.append({"name": str(name), "description": action_description(model_admin, action_parts(action)[1])})
    return out


def action_parts(action: Any) -> tuple[Callable, object]:
    """(function, description) of a `get_actions` entry: an `Action` since Django 6.1, a
    (function, name, description) tuple before."""
    if isinstance(action, tuple):
        return action[0], action[2]
    return action.func, action.description


def action_description(model_admin: ModelAdmin, description: object) -> str:
    """The description the action menu shows (`get_action_choices`), always a plain str."""
    try:
        return str(description % model_format_dict(model_admin.opts))
    except (TypeError, ValueError, KeyError):
        return str(description)


def _label(model_admin: ModelAdmin) -> str:
    return f"{model_admin.admin_site.name}/{model_admin.model._meta.label_lower}"
