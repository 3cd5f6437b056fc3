"""Facts about models and their fields: what the engine derives schemas from."""

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import ForeignObjectRel
from django.db.models.constants import LOOKUP_SEP

from django_mcp.values import to_json


# Gathering reads every model the project serves, most of which a process never queries. Django
# caches what its field accessors build on each model's options: `concrete_fields` and
# `many_to_many` a list each (and `fields` under them), `get_field()` a map of every field's
# names, and the options' attribute table grows to hold them. Gathering reads `get_fields()`
# instead, whose list Django keeps in a table each model has already, and finds fields by
# name in it.


def stored_fields(model: type[models.Model]) -> list[models.Field]:
    """`_meta.concrete_fields`, then `_meta.many_to_many`: the model's own and inherited
    fields, parents' first, that have a column or a table of their own."""
    concrete, many = [], []
    for field in model._meta.get_fields(include_hidden=True):
        if isinstance(field, ForeignObjectRel):
            continue
        if field.many_to_many:
            many.append(field)
        elif field.concrete:
            concrete.append(field)
    return concrete + many


class FieldsByName:
    """`get_field` for one model, answered as `model._meta.get_field` answers it. Once a
    request has queried the model, Django's own map of its fields' names exists and is used;
    until then, the names are mapped here, from the list `get_fields()` keeps, and the map goes
    with this object. Gathering keeps one per admin while it reads that admin's columns."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self._forward: dict[str, models.Field] | None = None

    def get_field(self, name: str) -> models.Field | ForeignObjectRel:
        opts = self.model._meta
        if "_forward_fields_map" in opts.__dict__:
            return opts.get_field(name)
        listed = opts.get_fields(include_hidden=True)
        if self._forward is None:
            # As Django maps them: each forward field by its name, then its attname; the last wins.
            self._forward = {}
            for field in listed:
                if not isinstance(field, ForeignObjectRel):
                    self._forward[field.name] = field
                    attname = getattr(field, "attname", None)
                    if attname is not None:
                        self._forward[attname] = field
        field = self._forward.get(name)
        if field is not None:
            return field
        for relation in reversed(listed):  # then a relation by its name; the last listed wins
            if isinstance(relation, ForeignObjectRel) and relation.name == name:
                return relation
        raise FieldDoesNotExist(f"{opts.object_name} has no field named '{name}'")


def field_named(model: type[models.Model], name: str) -> models.Field | ForeignObjectRel:
    """`model._meta.get_field(name)`, leaving no map of names on the model (`FieldsByName`)."""
    return FieldsByName(model).get_field(name)


def crossed_fields(model: type[models.Model], path: str) -> list[str]:
    """The `app.Model.field` labels of the fields a field path crosses from `model`, as
    Django resolves them: the path may start with a search prefix (`^`, `=`, `@`) and end with
    lookups (`__icontains`), which end the list. Whether one is a secret is the engine's to
    judge."""
    crossed: list[str] = []
    current = model
    for part in path.lstrip("^=@").split(LOOKUP_SEP):
        try:
            field = field_named(current, part)
        except FieldDoesNotExist:
            break  # a lookup or a transform: the path's fields end here
        crossed.append(f"{current._meta.label}.{field.name}")
        related = field.related_model
        if related is None or isinstance(related, str):
            break
        current = related
    return crossed


def model_facts(model: type[models.Model]) -> dict:
    opts = model._meta
    fields = stored_fields(model)
    return {
        "label": opts.label,
        "app_label": opts.app_label,
        "model_name": opts.model_name,
        "object_name": opts.object_name,
        "verbose_name": str(opts.verbose_name),
        "verbose_name_plural": str(opts.verbose_name_plural),
        "pk": opts.pk.name,
        "is_user_model": model is get_user_model(),
        "fields": [field_facts(f) for f in fields],
    }


def without_defaults(facts: dict) -> dict:
    """`facts` less the keys that hold what the engine assumes of a missing key (null, false,
    ""): most keys of most fields, so the facts of a large project are a third the size to
    write, keep and read at start-up."""
    return {key: value for key, value in facts.items() if not (value is None or value is False or value == "")}


def field_facts(field: models.Field) -> dict:
    # Only what differs from the engine's defaults (`without_defaults`), in the same key order,
    # without building the rest first: a large project has thousands of fields.
    facts: dict = {"name": field.name, "kind": _kind_of(type(field))}
    verbose_name = str(field.verbose_name)
    if verbose_name:
        facts["verbose_name"] = verbose_name
    help_text = str(field.help_text or "")
    if help_text:
        facts["help_text"] = help_text
    if field.null:
        facts["null"] = True
    if field.blank:
        facts["blank"] = True
    if field.primary_key:
        facts["primary_key"] = True
    if _given(field.max_length):
        facts["max_length"] = field.max_length
    if field.choices:
        facts["choices"] = [[to_json(v), str(label)] for v, label in field.flatchoices]
    if field.many_to_many:
        facts["many"] = True
    has_default = field.has_default()
    if _given(has_default):
        facts["has_default"] = has_default
    if isinstance(field, models.DecimalField):
        if _given(field.max_digits):
            facts["max_digits"] = field.max_digits
        if _given(field.decimal_places):
            facts["decimal_places"] = field.decimal_places
    for validator in _validators(field):
        limit = getattr(validator, "limit_value", None)
        if callable(limit) or not isinstance(limit, (int, float)) or isinstance(limit, bool):
            continue
        if isinstance(validator, MinValueValidator):
            facts["min_value"] = max(limit, facts.get("min_value", limit))
        elif isinstance(validator, MaxValueValidator):
            facts["max_value"] = min(limit, facts.get("max_value", limit))
    if field.is_relation and field.related_model is not None:
        facts["related_model"] = field.related_model._meta.label
    if not field.editable:
        facts["editable"] = False  # the one key whose default is true
    return facts


def _given(value: object) -> bool:
    """What `without_defaults` keeps."""
    return not (value is None or value is False or value == "")


def field_kind(field: models.Field) -> str:
    """The Django field class name, or its nearest built-in ancestor for custom fields."""
    return _kind_of(type(field))


#: Each field class's kind, as `field_kind` finds it (a project has few field classes).
_KINDS: dict[type, str] = {}


def _kind_of(field_class: type[models.Field]) -> str:
    kind = _KINDS.get(field_class)
    if kind is None:
        kind = next(
            (
                cls.__name__
                for cls in field_class.__mro__
                if cls.__module__.startswith("django.db.models") and issubclass(cls, models.Field)
            ),
            field_class.__name__,
        )
        _KINDS[field_class] = kind
    return kind


def _validators(field: models.Field) -> list:
    """`field.validators`, not left cached on the field when gathering made them: Django makes
    a field's validators (an integer field's range among them) the first time they are read
    and keeps them, and a process validates few of the models gathering reads."""
    made_here = "validators" not in field.__dict__
    validators = field.validators
    if made_here:
        field.__dict__.pop("validators", None)
    return validators
