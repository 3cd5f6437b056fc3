"""Admin writes: create, update and delete through the ModelAdmin, as its views do.

`changeform_view` and `delete_view` (django/contrib/admin/options.py) are followed step by
step: the caller's own form (`get_fieldsets` → `get_form`), `is_valid`, `save_form`,
`save_model`, `save_related`, `construct_change_message` and `log_addition`/`log_change`;
`get_deleted_objects`, `log_deletions` and `delete_model`. Everything runs in one
`transaction.atomic`, so a failure anywhere leaves the database as it was.

The engine sends JSON values (docs/engine-protocol.md, "Values are JSON"); they become form
data here, in the shapes the admin's widgets post (a split date/time as `name_0`/`name_1`,
a many-to-many as a list of pks, a file as an upload). An update is partial: the form is
bound to the object's current values, encoded the same way, with only the sent fields
replaced, so what was not sent is saved back unchanged.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import json
import mimetypes
import uuid
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, router, transaction
from django.db.models import Model, ProtectedError, RestrictedError
from django.db.models.options import Options
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.datastructures import MultiValueDict
from django.utils.duration import duration_string
from django.utils.functional import Promise
from django.utils.html import strip_tags

from django_mcp.effects import EffectError, Forbidden
from django_mcp.effects.admin import find_object, shown_values
from django_mcp.facts.forms import empty_is_none, model_allows_null
from django_mcp.seam import JSON, AdminCreate, AdminDelete, AdminUpdate
from django_mcp.values import to_json

if TYPE_CHECKING:
    from django_mcp.facts.registry import Registry
    from django_mcp.requests import CallerContext

#: How many protected objects a `conflict` message names.
NAMED_PROTECTED = 5


def admin_create(effect: AdminCreate, caller: CallerContext, registry: Registry) -> dict[str, Any]:
    site, model_admin = registry.get(effect["admin"])
    request = caller.request("POST")
    sent = dict(effect.get("data") or {})
    with transaction.atomic(using=router.db_for_write(model_admin.model)):
        if not (site.has_permission(request) and model_admin.has_add_permission(request)):
            raise Forbidden()
        form_class = _form_class(model_admin, request, None, change=False)
        blank = form_class(initial=model_admin.get_changeform_initial_data(request))
        form = _bind(model_admin, request, form_class, blank, sent, None)
        obj = _save(model_admin, request, form, caller, change=False)
        return {"object": shown_values(model_admin, request, obj, effect["fields"], effect.get("masked"))}


def _permitted_object(
    site: AdminSite,
    model_admin: ModelAdmin,
    request: HttpRequest,
    pk: JSON,
    has_permission: Callable[[HttpRequest, Model], bool],
) -> Model:
    """The object the caller may act on: the site's gate, then `get_queryset`, then the
    object-level permission, as the admin's change and delete views check them."""
    if not site.has_permission(request):
        raise Forbidden()
    obj = find_object(model_admin, request, pk)
    if not has_permission(request, obj):
        raise Forbidden()
    return obj


def _locked_object(
    site: AdminSite,
    model_admin: ModelAdmin,
    request: HttpRequest,
    pk: JSON,
    has_permission: Callable[[HttpRequest, Model], bool],
) -> Model:
    """The permitted object, read once its row is locked until the transaction ends (SELECT …
    FOR UPDATE, where the database has it; SQLite runs one writer at a time anyway): a write to
    it from another request waits for this one, then reads its result, so a partial update never
    saves another's field back stale, nor are two deletions logged."""
    model = model_admin.model
    if not site.has_permission(request):
        raise Forbidden()
    if transaction.get_connection(router.db_for_write(model)).features.has_select_for_update:
        try:
            key = model._meta.pk.to_python(str(pk))
        except (ValidationError, ValueError, TypeError):
            key = None  # no object has it: _permitted_object says so
        if key is not None and not isinstance(pk, bool):
            model._base_manager.select_for_update().filter(pk=key).exists()
    return _permitted_object(site, model_admin, request, pk, has_permission)


def admin_update(effect: AdminUpdate, caller: CallerContext, registry: Registry) -> dict[str, Any]:
    site, model_admin = registry.get(effect["admin"])
    request = caller.request("POST")
    sent = dict(effect.get("data") or {})
    with transaction.atomic(using=router.db_for_write(model_admin.model)):
        obj = _locked_object(site, model_admin, request, effect["pk"], model_admin.has_change_permission)
        form_class = _form_class(model_admin, request, obj, change=True)
        form = _bind(model_admin, request, form_class, form_class(instance=obj), sent, obj)
        obj = _save(model_admin, request, form, caller, change=True)
        return {"object": shown_values(model_admin, request, obj, effect["fields"], effect.get("masked"))}


def admin_delete(effect: AdminDelete, caller: CallerContext, registry: Registry) -> dict[str, Any]:
    site, model_admin = registry.get(effect["admin"])
    request = caller.request("POST")
    opts = model_admin.model._meta
    with transaction.atomic(using=router.db_for_write(model_admin.model)):
        obj = _locked_object(site, model_admin, request, effect["pk"], model_admin.has_delete_permission)
        _objects, _counts, perms_needed, protected = model_admin.get_deleted_objects([obj], request)
        if protected:
            raise EffectError("conflict", _protected_message(opts, obj, protected))
        if perms_needed:
            names = ", ".join(sorted(str(name) for name in perms_needed))
            raise Forbidden(f"deleting this {opts.verbose_name} would also delete objects you may not delete ({names})")
        pk = to_json(obj.pk)
        _log_deletion(model_admin, request, obj, _with_client("Deleted.", caller))
        try:
            model_admin.delete_model(request, obj)
        except (ProtectedError, RestrictedError) as exc:
            raise EffectError("conflict", _protected_message(opts, obj, exc.protected_objects)) from None
    return {"deleted": True, "pk": pk}


# --- the form, as changeform_view builds it -------------------------------------------


def _form_class(
    model_admin: ModelAdmin, request: HttpRequest, obj: Model | None, *, change: bool
) -> type[forms.ModelForm]:
    fieldsets = model_admin.get_fieldsets(request, obj)
    return model_admin.get_form(request, obj, change=change, fields=flatten_fieldsets(fieldsets))


def _bind(
    model_admin: ModelAdmin,
    request: HttpRequest,
    form_class: type[forms.ModelForm],
    unbound: forms.ModelForm,
    sent: dict[str, JSON],
    obj: Model | None,
) -> forms.ModelForm:
    """`form_class` bound to the form data a browser would post: every field's current value
    (`unbound`'s initial data) with the `sent` JSON values in their place."""
    refused = {
        name: [_refusal(model_admin, request, obj, unbound, name)]
        for name in sent
        if name not in unbound.fields or unbound.fields[name].disabled
    }
    if refused:
        raise _invalid(refused)
    data, files = QueryDict(mutable=True), MultiValueDict()
    errors: dict[str, list[str]] = {}
    for name, field in unbound.fields.items():
        if field.disabled:
            continue  # the form uses its initial value whatever is posted
        key, initial = unbound.add_prefix(name), _initial(unbound, field, name)
        if field.show_hidden_initial and not isinstance(field, forms.FileField):
            # The page posts the value it was rendered with, for `changed_data`.
            _put(field, unbound.add_initial_prefix(name), initial, data, files)
        if name in sent and sent[name] is None and empty_is_none(field) and not model_allows_null(unbound, name):
            errors[name] = ["This field cannot be null."]  # rather than the database's refusal
        elif name in sent:
            try:
                _put(field, key, sent[name], data, files, current=to_json(initial))
            except _BadValue as exc:
                errors[name] = [str(exc)]
        elif not isinstance(field, forms.FileField):  # an absent upload keeps the file
            _put(field, key, initial, data, files)
    if errors:
        raise _invalid(errors)
    request.POST, request.FILES = data, files
    form = form_class(data, files, instance=obj)
    if obj is not None:
        # What was not sent was posted back as it is; only the rendered initial of some fields
        # differs (a date-time's microseconds are dropped on the page), so `changed_data` —
        # the history message, `save_model` hooks — speaks of the sent fields alone.
        form.__dict__["changed_data"] = [name for name in form.changed_data if name in sent]
    return form


def _refusal(
    model_admin: ModelAdmin, request: HttpRequest, obj: Model | None, unbound: forms.ModelForm, name: str
) -> str:
    if name in unbound.fields or name in model_admin.get_readonly_fields(request, obj):
        return "This field is read-only."
    return "This field is not in the form."


def _initial(unbound: forms.ModelForm, field: forms.Field, name: str) -> Any:
    """A field's current value, in the shapes `_put` takes. Unlike `get_initial_for_field`,
    microseconds are kept: what is not sent must be saved back exactly as it was."""
    value = unbound.initial.get(name, field.initial)
    if callable(value):
        value = value()
    if isinstance(field, (forms.ModelChoiceField, forms.ModelMultipleChoiceField)):
        return field.prepare_value(value)  # objects → pks (or the `to_field_name` value)
    return value


def _save(
    model_admin: ModelAdmin, request: HttpRequest, form: forms.ModelForm, caller: CallerContext, *, change: bool
) -> Model:
    if not form.is_valid():
        raise _invalid({name: [e["message"] for e in errs] for name, errs in form.errors.get_json_data().items()})
    try:
        obj = model_admin.save_form(request, form, change=change)
        model_admin.save_model(request, obj, form, change)
        model_admin.save_related(request, form, [], change)
    except IntegrityError:
        raise EffectError("conflict", "the database refused the change (an integrity constraint failed)") from None
    message = model_admin.construct_change_message(request, form, [], not change)
    message = _with_client(_rendered(message), caller)
    if change:
        model_admin.log_change(request, obj, message)
    else:
        model_admin.log_addition(request, obj, message)
    return obj


def _invalid(fields: dict[str, list[str]]) -> EffectError:
    return EffectError("validation", "invalid input: " + ", ".join(fields), fields=fields)


# --- JSON values → form data ----------------------------------------------------------


class _BadValue(ValueError):
    pass


def _put(
    field: forms.Field,
    key: str,
    value: Any,
    data: QueryDict,
    files: MultiValueDict,
    *,
    current: JSON = None,
) -> None:
    """Write `value` (a JSON value, or a current Python value) for `field` into the form data
    under `key`, in the shape its widget reads (`value_from_datadict`)."""
    widget = _unwrap(field.widget)
    if isinstance(field, forms.FileField):
        _put_file(field, widget, key, value, data, files, current)
    elif isinstance(field, forms.JSONField):
        data[key] = "" if value is None else json.dumps(value, cls=field.encoder)
    elif isinstance(field, forms.SplitDateTimeField) or isinstance(widget, forms.MultiWidget):
        parts = _parts(field, widget, value)
        for i, suffix in enumerate(widget.widgets_names):
            data[key + suffix] = _text(parts[i] if i < len(parts) else None)
    elif isinstance(field, (forms.MultipleChoiceField, forms.ModelMultipleChoiceField)):
        items = [] if value is None else list(value) if isinstance(value, (list, tuple, set)) else [value]
        texts = [_text(v) for v in items]
        data.setlist(key, texts)
        if texts and widget.value_from_datadict(data, files, key) != texts:
            data[key] = ",".join(texts)  # a raw-id widget reads one comma-separated value
    elif value is None and isinstance(widget, forms.CheckboxInput):
        pass  # an unchecked box is absent
    elif isinstance(value, SCALARS):
        data[key] = _text(value)
    else:
        data[key] = _shown(field, widget, value)


def _put_file(
    field: forms.Field,
    widget: forms.Widget,
    key: str,
    value: Any,
    data: QueryDict,
    files: MultiValueDict,
    current: JSON,
) -> None:
    if isinstance(value, dict):
        name, content = value.get("name"), value.get("content")
        if not isinstance(name, str) or not name or not isinstance(content, str):
            raise _BadValue('Send a file as {"name": …, "content": <base64>}.')
        try:
            raw = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise _BadValue("The file content is not valid base64.") from None
        files[key] = SimpleUploadedFile(name, raw, mimetypes.guess_type(name)[0] or "application/octet-stream")
    elif value is None:
        if field.required or not hasattr(widget, "clear_checkbox_name"):
            raise _BadValue("This file cannot be cleared.")
        data[widget.clear_checkbox_name(key)] = "on"
    elif isinstance(value, str) and value == current:
        pass  # the file it already has: kept
    else:
        raise _BadValue('Send a file as {"name": …, "content": <base64>}.')


def _parts(field: forms.Field, widget: forms.Widget, value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(field, forms.SplitDateTimeField):
        return _split_datetime(value)
    return widget.decompress(value) if value is not None else []


def _split_datetime(value: Any) -> list[str]:
    """A datetime (or its ISO text) as the [date, time] a split widget posts, in the current
    time zone as the admin shows it; text that is no datetime is left for the form to refuse."""
    if value is None or value == "":
        return ["", ""]
    moment = value
    if isinstance(value, str):
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
        if moment is None:
            try:
                day = parse_date(value.strip())
            except ValueError:
                day = None
            return [day.isoformat(), "00:00:00"] if day else [value, ""]
    if isinstance(moment, datetime.datetime):
        if settings.USE_TZ and timezone.is_aware(moment):
            moment = timezone.make_naive(moment)  # → the current time zone
        return [moment.date().isoformat(), moment.time().isoformat()]
    if isinstance(moment, datetime.date):
        return [moment.isoformat(), "00:00:00"]
    return [str(value), ""]


#: Values written exactly by `_text`; anything else is written as the page shows it.
SCALARS = (
    type(None),
    str,
    bool,
    int,
    float,
    decimal.Decimal,
    uuid.UUID,
    Promise,
    datetime.date,
    datetime.time,
    datetime.timedelta,
)


def _shown(field: forms.Field, widget: forms.Widget, value: Any) -> str:
    """A value of a field's own making (taggit's tag list, an array field's items…) as the
    admin's page renders it, which is what a browser would post back."""
    try:
        shown = widget.format_value(field.prepare_value(value))
    except Exception:
        shown = None
    return shown if isinstance(shown, str) else _text(value)


def _text(value: Any) -> str:
    """One form-data string for a scalar, losing nothing the form field can read back
    (microseconds, offsets, decimal digits)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (datetime.date, datetime.time)):  # datetime included
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return duration_string(value)
    if isinstance(value, (int, float, decimal.Decimal, uuid.UUID, Promise)):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(to_json(value))
    return str(value)


def _unwrap(widget: forms.Widget) -> forms.Widget:
    """The widget that reads the data (the admin wraps relation widgets)."""
    from django.contrib.admin.widgets import RelatedFieldWidgetWrapper

    while isinstance(widget, RelatedFieldWidgetWrapper):
        widget = widget.widget
    return widget


# --- history --------------------------------------------------------------------------


def _rendered(message: Any) -> str:
    """The admin's structured change message as the text its history page shows."""
    from django.contrib.admin.models import LogEntry

    if isinstance(message, list):
        return LogEntry(change_message=json.dumps(message)).get_change_message()
    return str(message or "")


def _with_client(text: str, caller: CallerContext) -> str:
    client = getattr(caller, "client", None)
    via = f"Via MCP (key '{client}')." if client else "Via MCP."
    return f"{text} {via}".strip()


def _log_deletion(model_admin: ModelAdmin, request: HttpRequest, obj: Model, message: str) -> None:
    from django.contrib.admin.models import LogEntry

    if hasattr(model_admin, "log_deletions"):  # Django 5.1+
        entries = model_admin.log_deletions(request, [obj])
    else:
        entries = model_admin.log_deletion(request, obj, str(obj))
    if isinstance(entries, LogEntry) or not isinstance(entries, (list, tuple)):
        entries = [entries]
    ids = [e.pk for e in entries if isinstance(e, LogEntry) and e.pk is not None]
    if ids:
        LogEntry.objects.filter(pk__in=ids).update(change_message=message)


def _protected_message(opts: Options, obj: Model, protected: Collection[Model]) -> str:
    names = [strip_tags(str(p)) for p in list(protected)[:NAMED_PROTECTED]]
    count = len(protected)
    more = f", and {count - len(names)} more" if count > len(names) else ""
    return f"cannot delete {opts.verbose_name} “{obj}”: {count} related object(s) protect it ({'; '.join(names)}{more})"
