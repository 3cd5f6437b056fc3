"""Admin effects: permission gates, list and retrieve through the ModelAdmin itself."""

from django.core.exceptions import ValidationError

from django_mcp.effects import Forbidden, NotFound
from django_mcp.values import field_value

MASK = "********"


def gate_passes(check, caller, registry) -> bool:
    if check.get("gate") != "admin.view":
        return False
    site, model_admin = registry.get(check["admin"])
    request = caller.request()
    return bool(site.has_permission(request) and model_admin.has_view_permission(request))


def permissions(effect, caller, registry):
    return [gate_passes(check, caller, registry) for check in effect["checks"]]


def authorize(effect, caller, registry):
    if not all(gate_passes(check, caller, registry) for check in effect["checks"]):
        raise Forbidden()
    return True


def admin_list(effect, caller, registry):
    site, model_admin = registry.get(effect["admin"])
    request = caller.request()
    queryset = model_admin.get_queryset(request)
    if effect.get("q"):
        queryset, may_have_duplicates = model_admin.get_search_results(request, queryset, effect["q"])
        if may_have_duplicates:
            queryset = queryset.distinct()
    # The engine passes only list_filter fields, with values validated against their schema.
    for name, value in (effect.get("filters") or {}).items():
        queryset = queryset.filter(**{name: value})
    ordering = list(effect.get("ordering") or ()) or list(queryset.query.order_by or ())
    if not any(o.lstrip("-") in ("pk", model_admin.model._meta.pk.name) for o in ordering):
        ordering.append("-pk" if ordering and ordering[-1].startswith("-") else "pk")  # stable pages
    queryset = queryset.order_by(*ordering)
    page, size = int(effect["page"]), int(effect["page_size"])
    count = queryset.count()
    offset = (page - 1) * size
    # A page past the end is empty; its offset may not even fit the database's integers.
    rows = queryset[offset : offset + size] if offset < count else ()
    columns = _columns(model_admin.model, effect["columns"])
    masked = set(effect.get("masked") or ())
    return {
        "results": [_row(obj, columns, masked) for obj in rows],
        "count": count,
    }


def admin_retrieve(effect, caller, registry):
    site, model_admin = registry.get(effect["admin"])
    request = caller.request()
    try:
        obj = model_admin.get_queryset(request).filter(pk=effect["pk"]).first()
    except (ValueError, TypeError, ValidationError):
        obj = None  # a pk of the wrong shape names no object
    if obj is None:
        raise NotFound()
    if not model_admin.has_view_permission(request, obj):
        raise Forbidden()
    shown = set(_flatten(model_admin.get_fields(request, obj)))
    opts = model_admin.model._meta
    wanted = [name for name in effect["fields"] if name in shown or name == opts.pk.name]
    masked = set(effect.get("masked") or ())
    return {"object": _row(obj, _columns(model_admin.model, wanted), masked)}


def _columns(model, names):
    opts = model._meta
    columns = []
    for name in names:
        if name == "__str__":
            columns.append((name, None))
        else:
            columns.append((name, opts.get_field(name)))
    return columns


def _row(obj, columns, masked):
    row = {}
    for name, field in columns:
        if field is None:
            row[name] = str(obj)
        elif name in masked:
            row[name] = MASK if field.value_from_object(obj) else None
        else:
            row[name] = field_value(obj, field)
    return row


def _flatten(fields):
    for entry in fields:
        if isinstance(entry, (list, tuple)):
            yield from _flatten(entry)
        else:
            yield entry
