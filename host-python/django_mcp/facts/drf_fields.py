"""DRF serializer fields and django-filter filters as field facts (docs/engine-protocol.md,
DRF): what kind of value each takes and renders, with its rules. The engine turns them into
JSON Schema. Only imported when DRF is."""

from __future__ import annotations

import datetime
import decimal
import types
import typing
import uuid
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers
from rest_framework.settings import api_settings

if TYPE_CHECKING:
    from django_filters import FilterSet
    from django_filters.filters import Filter

#: Nesting deeper than this is described as any value (serializers can refer to themselves).
MAX_DEPTH = 6

# Most specific first: EmailField is a CharField, ImageField a FileField, and so on.
_KINDS = (
    (relations.ManyRelatedField, "many"),
    (serializers.ListSerializer, "list"),
    (serializers.BaseSerializer, "nested"),
    (relations.HyperlinkedIdentityField, "hyperlinked_identity"),
    (relations.HyperlinkedRelatedField, "hyperlinked"),
    (relations.SlugRelatedField, "slug_related"),
    (relations.PrimaryKeyRelatedField, "related"),
    (relations.RelatedField, "string_related"),
    (drf_fields.BooleanField, "boolean"),
    (drf_fields.EmailField, "email"),
    (drf_fields.URLField, "url"),
    (drf_fields.UUIDField, "uuid"),
    (drf_fields.SlugField, "slug"),
    (drf_fields.RegexField, "regex"),
    (drf_fields.IPAddressField, "ip"),
    (drf_fields.CharField, "char"),
    (drf_fields.IntegerField, "integer"),
    (drf_fields.FloatField, "float"),
    (drf_fields.DecimalField, "decimal"),
    (drf_fields.DateTimeField, "datetime"),
    (drf_fields.DateField, "date"),
    (drf_fields.TimeField, "time"),
    (drf_fields.DurationField, "duration"),
    (drf_fields.MultipleChoiceField, "multiple_choice"),
    (drf_fields.ChoiceField, "choice"),
    (drf_fields.FileField, "file"),
    (drf_fields.ListField, "list"),
    (drf_fields.DictField, "dict"),
    (drf_fields.JSONField, "json"),
    (drf_fields.SerializerMethodField, "method"),
)

#: Return annotations a method field's schema can be read from.
_ANNOTATED = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    list: {"type": "array"},
    dict: {"type": "object"},
    decimal.Decimal: {"type": "string"},
    uuid.UUID: {"type": "string", "format": "uuid"},
    datetime.date: {"type": "string", "format": "date"},
}


def serializer_facts(serializer: serializers.BaseSerializer, depth: int = 0) -> list[dict[str, Any]]:
    """The field facts of a serializer instance's fields (HiddenFields are never sent)."""
    facts = []
    for name, field in serializer.fields.items():
        if isinstance(field, drf_fields.HiddenField):
            continue
        facts.append(field_facts(name, field, depth))
    return facts


#: What a serializer or field class may build its fields, or answer what `field_facts` reads,
#: from: defined outside DRF, any of these may read the context (the request, the view, its
#: action), so the fields can differ between a view's endpoints.
_BUILDING_HOOKS = frozenset(
    {
        "__init__",
        "__new__",
        "__deepcopy__",
        "many_init",
        "bind",
        "context",
        "root",
        "fields",
        "get_fields",
        "get_field_names",
        "get_default_field_names",
        "get_extra_kwargs",
        "include_extra_kwargs",
        "get_uniqueness_extra_kwargs",
        "build_field",
        "build_standard_field",
        "build_relational_field",
        "build_nested_field",
        "build_property_field",
        "build_url_field",
        "build_unknown_field",
    }
)


def context_free(serializer: serializers.BaseSerializer, depth: int = 0) -> bool:
    """Whether the facts of this serializer instance are those of any instance of its class:
    it and every field `serializer_facts` describes (nested serializers' too) are of classes
    that, outside DRF itself, define none of the building hooks and no computed attribute.
    DRF builds a serializer's fields from its class alone."""
    return _plain(type(serializer)) and all(_field_context_free(f, depth) for f in serializer.fields.values())


def _field_context_free(field: drf_fields.Field, depth: int) -> bool:
    # Walks what `field_facts` walks, as deep.
    if not _plain(type(field)):
        return False
    if depth >= MAX_DEPTH:
        return True
    child = _child(field)
    if child is not None and not _field_context_free(child, depth + 1):
        return False
    if _kind(field) == "nested":
        return context_free(field, depth + 1)
    return True


def _plain(cls: type) -> bool:
    for klass in cls.__mro__:
        module = klass.__module__
        if klass is object or module == "rest_framework" or module.startswith("rest_framework."):
            continue
        for name, value in vars(klass).items():
            if name in _BUILDING_HOOKS or _computed(value):
                return False
    return True


def _computed(value: object) -> bool:
    """A property or another descriptor that is not a plain method."""
    if isinstance(value, (types.FunctionType, staticmethod, classmethod, type)):
        return False
    return hasattr(type(value), "__get__")


def field_facts(name: str, field: drf_fields.Field, depth: int = 0) -> dict[str, Any]:
    kind = _kind(field)
    facts = {
        "name": name,
        "kind": kind,
        "read_only": bool(field.read_only),
        "write_only": bool(field.write_only),
        "required": bool(field.required),
        "allow_null": bool(getattr(field, "allow_null", False)),
        "label": str(field.label) if field.label else "",
        "help_text": str(field.help_text) if field.help_text else "",
    }
    for attribute in ("allow_blank", "allow_empty", "min_length", "max_length", "max_digits", "decimal_places"):
        value = getattr(field, attribute, None)
        if value is not None:
            facts[attribute] = value
    for attribute in ("min_value", "max_value"):
        value = getattr(field, attribute, None)
        if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
            facts[attribute] = int(value) if isinstance(value, int) else float(value)
    if kind == "decimal":
        facts["coerce_to_string"] = bool(getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING))
    if kind in ("choice", "multiple_choice"):
        facts["choices"] = [[_json_value(value), str(label)] for value, label in field.choices.items()]
    if kind == "regex":
        facts["pattern"] = _regex(field)
    if kind in ("datetime", "date"):
        iso = getattr(field, "format", api_settings.DATETIME_FORMAT) in (None, api_settings.DATETIME_FORMAT, "iso-8601")
        if iso and (kind == "date" or settings.USE_TZ):  # naive date-times carry no offset
            facts["format"] = "date-time" if kind == "datetime" else "date"
    if kind == "related":
        queryset = field.queryset
        if queryset is not None and getattr(field, "pk_field", None) is None:
            facts["target"] = queryset.model._meta.label
    if kind == "method":
        facts["returns"] = _returns(field)
    if depth < MAX_DEPTH:
        child = _child(field)
        if child is not None:
            facts["child"] = field_facts("", child, depth + 1)
        if kind == "nested":
            facts["fields"] = serializer_facts(field, depth + 1)
    return facts


def _kind(field: drf_fields.Field) -> str:
    for field_class, kind in _KINDS:
        if isinstance(field, field_class):
            return kind
    return "any"


def _child(field: drf_fields.Field) -> drf_fields.Field | None:
    if isinstance(field, relations.ManyRelatedField):
        return field.child_relation
    if isinstance(field, (serializers.ListSerializer, drf_fields.ListField, drf_fields.DictField)):
        return field.child
    return None


def _regex(field: drf_fields.Field) -> str | None:
    for validator in field.validators:
        regex = getattr(validator, "regex", None)
        if regex is not None:
            return getattr(regex, "pattern", str(regex))
    return None


def _returns(field: drf_fields.Field) -> dict[str, Any] | None:
    """The schema of a SerializerMethodField's value, from its method's return annotation."""
    method = getattr(field.parent, field.method_name, None)
    try:
        annotation = typing.get_type_hints(method).get("return") if method is not None else None
    except Exception:  # an annotation naming what cannot be imported here
        return None
    return _annotation_schema(annotation)


def _annotation_schema(annotation: object) -> dict[str, Any] | None:
    if annotation is None:
        return None
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in arguments if a is not type(None)]
        if len(options) == 1:
            inner = _annotation_schema(options[0])
            if inner is not None and type(None) in arguments:
                inner = dict(inner, type=[inner["type"], "null"]) if isinstance(inner.get("type"), str) else inner
            return inner
        return None
    if origin in (list, tuple, set, frozenset):
        schema: dict[str, Any] = {"type": "array"}
        item = _annotation_schema(arguments[0]) if arguments and arguments[0] is not Ellipsis else None
        if item is not None:
            schema["items"] = item
        return schema
    if origin is dict:
        return {"type": "object"}
    if isinstance(annotation, type):
        for python_type, schema in _ANNOTATED.items():
            if issubclass(annotation, python_type) and not (python_type is int and annotation is bool):
                if python_type is datetime.date and issubclass(annotation, datetime.datetime):
                    return {"type": "string"}
                return dict(schema)
    return None


def _json_value(value: object) -> str | int | float | None:
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def filter_facts(filterset_class: type[FilterSet]) -> list[dict[str, Any]]:
    """A django-filter FilterSet's filters as field facts named by their query parameters.
    Range filters take two parameters (`<name>_min`/`_max`, `<name>_after`/`_before`)."""
    import django_filters

    facts = []
    for name, filter_ in filterset_class.base_filters.items():
        label = str(filter_.label) if filter_.label else ""
        if isinstance(
            filter_,
            (
                django_filters.DateFromToRangeFilter,
                django_filters.DateTimeFromToRangeFilter,
                django_filters.IsoDateTimeFromToRangeFilter,
            ),
        ):
            kind = "date" if isinstance(filter_, django_filters.DateFromToRangeFilter) else "datetime"
            for suffix in ("after", "before"):
                facts.append(
                    {
                        "name": f"{name}_{suffix}",
                        "kind": kind,
                        "label": label,
                        "format": "date" if kind == "date" else "date-time",
                    }
                )
            continue
        if isinstance(filter_, django_filters.RangeFilter):
            facts.extend({"name": f"{name}_{suffix}", "kind": "float", "label": label} for suffix in ("min", "max"))
            continue
        value = dict(_filter_value(filter_), name=name, label=label)
        if filter_.extra.get("help_text"):
            value["help_text"] = str(filter_.extra["help_text"])
        facts.append(value)
    return facts


def _filter_value(filter_: Filter) -> dict[str, Any]:
    """The kind of value a filter reads from its query parameter."""
    import django_filters

    if isinstance(filter_, django_filters.BaseCSVFilter):
        return {"kind": "char", "allow_blank": True, "help_text": "Comma-separated values."}
    if isinstance(filter_, django_filters.ModelMultipleChoiceFilter):
        return {"kind": "many", "child": {"name": "", "kind": "related", "target": _filter_model(filter_)}}
    if isinstance(filter_, django_filters.ModelChoiceFilter):
        return {"kind": "related", "target": _filter_model(filter_)}
    if isinstance(filter_, (django_filters.MultipleChoiceFilter, django_filters.ChoiceFilter)):
        choices = filter_.extra.get("choices")
        if callable(choices):
            choices = choices()
        if choices is None and filter_.model is not None:  # filterset_fields on a field with choices
            choices = filter_.model._meta.get_field(filter_.field_name).choices
        kind = "multiple_choice" if isinstance(filter_, django_filters.MultipleChoiceFilter) else "choice"
        return {"kind": kind, "choices": [[_json_value(value), str(label)] for value, label in _flat(choices or ())]}
    if isinstance(filter_, django_filters.BooleanFilter):
        return {"kind": "boolean"}
    if isinstance(filter_, django_filters.NumberFilter):
        return {"kind": "float"}
    if isinstance(filter_, (django_filters.IsoDateTimeFilter, django_filters.DateTimeFilter)):
        return {"kind": "datetime", "format": "date-time"}
    if isinstance(filter_, django_filters.DateFilter):
        return {"kind": "date", "format": "date"}
    if isinstance(filter_, django_filters.UUIDFilter):
        return {"kind": "uuid"}
    return {"kind": "char", "allow_blank": True}


def _filter_model(filter_: Filter) -> str | None:
    queryset = filter_.extra.get("queryset")
    model = getattr(queryset, "model", None)
    if model is None and filter_.model is not None:
        model = filter_.model._meta.get_field(filter_.field_name).related_model
    return model._meta.label if model is not None else None


def _flat(choices: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    for value, label in choices:
        if isinstance(label, (list, tuple)):  # an option group
            yield from _flat(label)
        else:
            yield value, label
