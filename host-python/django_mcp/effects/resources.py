"""Model resources: an object, a file field's content, and the objects a caller can see
(docs/engine-protocol.md, `resource.object`, `resource.file`, `resource.objects`).

A source is a ModelAdmin (`{"admin": id}`) or a DJANGO_MCP_RESOURCE_MODELS model
(`{"model": "app.Model"}`). An admin source is read exactly as retrieve reads it:
`get_queryset` (tenant scoping is never bypassed), `has_view_permission(request, obj)`, the
fields the admin shows this caller. A model source has no admin to ask: its default manager,
and the permission its entry names (the engine's gate, checked again here: these effects hand
out data).
"""

from __future__ import annotations

import base64
import mimetypes
import posixpath
from typing import TYPE_CHECKING, Any

from django.contrib.admin import ModelAdmin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Model, QuerySet
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Cast, Substr
from django.http import HttpRequest

from django_mcp.effects import EffectError, Forbidden, NotFound
from django_mcp.effects.admin import get_object, object_values, shown_fields, shown_values, viewable_object
from django_mcp.seam import JSON, ResourceFile, ResourceObject, ResourceObjects
from django_mcp.values import to_json

if TYPE_CHECKING:
    from django_mcp.facts.registry import Registry
    from django_mcp.requests import CallerContext

#: The most objects one `resource.objects` page holds.
MAX_LIMIT = 100
#: Offsets beyond this name no object (a 64-bit database integer must hold offset + limit).
MAX_OFFSET = 2**62
#: A label is `str(obj)`, cut to this many characters.
LABEL_CHARS = 200
#: Prefix matching for pks stored as neither text nor integers (UUIDs, dates…) reads this many
#: pks, in pk order, and matches their string form in Python: a UUID's text differs between
#: databases (hyphenated on PostgreSQL, 32 hex digits on SQLite and MySQL), so the database
#: cannot be asked. Objects beyond the first PREFIX_SCAN are not offered for such prefixes.
PREFIX_SCAN = 10_000
#: What compressed files are, whatever they hold (`x.json.gz` is gzip, not JSON).
ENCODINGS = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
    "compress": "application/x-compress",
}
TEXT_TYPES = {"application/json", "application/xml"}


def resource_object(effect: ResourceObject, caller: CallerContext, registry: Registry) -> dict[str, Any]:
    source = _source(effect, caller, registry)
    obj = source.get(effect["pk"])
    return {"object": source.values(obj, effect["fields"], effect.get("masked"))}


def resource_file(effect: ResourceFile, caller: CallerContext, registry: Registry) -> dict[str, Any]:
    source = _source(effect, caller, registry)
    field = _file_field(source.model, effect["field"])
    obj = source.get(effect["pk"])
    if not source.shows(obj, field.name):
        raise Forbidden()
    # The storage name comes from the row, never from the client: there is no path to traverse.
    content = getattr(obj, field.attname)
    if not content:
        raise NotFound("no file")
    data = _read(content, int(effect["max_bytes"]))
    mime_type = _mime_type(content.name)
    result: dict[str, Any] = {"mime_type": mime_type, "size": len(data)}
    if mime_type.startswith("text/") or mime_type in TEXT_TYPES:
        try:
            result["text"] = data.decode("utf-8")
            return result
        except UnicodeDecodeError:
            pass  # text in another encoding goes as it is: bytes
    result["blob"] = base64.b64encode(data).decode("ascii")
    return result


def resource_objects(effect: ResourceObjects, caller: CallerContext, registry: Registry) -> dict[str, Any]:
    source = _source(effect, caller, registry)
    offset = max(0, int(effect.get("offset") or 0))
    limit = min(max(0, int(effect["limit"])), MAX_LIMIT)
    if offset > MAX_OFFSET:  # past any table; nor would the database take it as an integer
        return {"objects": [], "more": False}
    queryset = source.objects().order_by("pk")
    prefix = effect.get("prefix")
    if prefix:
        page, more = _by_prefix(queryset, str(prefix), offset, limit)
    else:
        rows = list(queryset[offset : offset + limit + 1])
        page, more = rows[:limit], len(rows) > limit
    return {
        "objects": [{"pk": to_json(obj.pk), "label": str(obj)[:LABEL_CHARS]} for obj in page],
        "more": more,
    }


def _source(
    effect: ResourceObject | ResourceFile | ResourceObjects, caller: CallerContext, registry: Registry
) -> _AdminSource | _ModelSource:
    source = effect["source"]
    request = caller.request()
    if "admin" in source:
        _site, model_admin = registry.get(source["admin"])
        return _AdminSource(model_admin, request)
    label = source["model"]
    return _ModelSource(registry.model(label), registry.model_permission(label), request)


class _AdminSource:
    def __init__(self, model_admin: ModelAdmin, request: HttpRequest) -> None:
        self.model_admin = model_admin
        self.model = model_admin.model
        self.request = request

    def objects(self) -> QuerySet:
        if not self.model_admin.has_view_permission(self.request):
            raise Forbidden()
        return self.model_admin.get_queryset(self.request)

    def get(self, pk: JSON) -> Model:
        return viewable_object(self.model_admin, self.request, pk)

    def values(self, obj: Model, fields: list[str], masked: list[str] | None) -> dict[str, JSON]:
        return shown_values(self.model_admin, self.request, obj, fields, masked)

    def shows(self, obj: Model, name: str) -> bool:
        return name in shown_fields(self.model_admin, self.request, obj)


class _ModelSource:
    def __init__(self, model: type[Model], permission: str, request: HttpRequest) -> None:
        if not request.user.has_perm(permission):
            raise Forbidden()
        self.model = model

    def objects(self) -> QuerySet:
        return self.model._default_manager.all()

    def get(self, pk: JSON) -> Model:
        return get_object(self.objects(), pk)

    def values(self, obj: Model, fields: list[str], masked: list[str] | None) -> dict[str, JSON]:
        opts = self.model._meta
        known = {field.name for field in (*opts.concrete_fields, *opts.many_to_many)}
        return object_values(self.model, obj, [name for name in fields if name in known], masked)

    def shows(self, obj: Model, name: str) -> bool:
        return True


def _file_field(model: type[Model], name: str) -> models.FileField:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        raise NotFound() from None
    if not isinstance(field, models.FileField):  # ImageField is one
        raise NotFound()
    return field


def _read(content: FieldFile, max_bytes: int) -> bytes:
    """At most `max_bytes` of the file, through its field's storage; the size is asked first
    so a large file is refused without being read."""
    storage, name = content.storage, content.name
    try:
        size = storage.size(name)
    except NotImplementedError:
        size = None  # a storage that cannot tell: the read below is bounded all the same
    except OSError:
        raise NotFound("no file") from None
    if size is not None and size > max_bytes:
        raise EffectError("too_large", f"the file is {size} bytes; the limit is {max_bytes} bytes")
    try:
        with storage.open(name, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError:
        raise NotFound("no file") from None
    if len(data) > max_bytes:  # it grew since, or the storage could not say
        raise EffectError("too_large", f"the file is more than {max_bytes} bytes; the limit is {max_bytes} bytes")
    return data


def _mime_type(name: str) -> str:
    # guess_type reads a URL ("data:…" means something there); a storage name is a path.
    mime_type, encoding = mimetypes.guess_type(posixpath.join(".", posixpath.basename(name)))
    if encoding is not None:
        return ENCODINGS.get(encoding, "application/octet-stream")
    return mime_type or "application/octet-stream"


def _by_prefix(queryset: QuerySet, prefix: str, offset: int, limit: int) -> tuple[list[Model], bool]:
    """A page of the objects whose pk's string form starts with `prefix`, and whether more follow."""
    pk = queryset.model._meta.pk
    while pk.is_relation:  # a child model's pk is its parent link: the parent's pk values
        pk = pk.target_field
    if isinstance(pk, (models.CharField, models.TextField)):
        # startswith may use the pk's index, but SQLite's LIKE ignores case: the exact
        # comparison of the pk's first characters decides.
        queryset = queryset.filter(pk__startswith=prefix)
        text = "pk"
    elif isinstance(pk, models.IntegerField):
        text = Cast("pk", models.CharField())  # an integer's decimal text is the same in every database
    else:
        return _scan(queryset, prefix, offset, limit)
    queryset = queryset.alias(_mcp_pk_head=Substr(text, 1, len(prefix))).filter(_mcp_pk_head=prefix)
    rows = list(queryset[offset : offset + limit + 1])
    return rows[:limit], len(rows) > limit


def _scan(queryset: QuerySet, prefix: str, offset: int, limit: int) -> tuple[list[Model], bool]:
    matching = [pk for pk in queryset.values_list("pk", flat=True)[:PREFIX_SCAN] if str(pk).startswith(prefix)]
    chosen = matching[offset : offset + limit]
    found = {obj.pk: obj for obj in queryset.filter(pk__in=chosen)}
    return [found[pk] for pk in chosen if pk in found], len(matching) > offset + limit
