"""Facts about a ModelAdmin's add and change forms: what create and update accept.

The forms are built exactly as the admin's views build them (`get_form`, so `fields`,
`fieldsets`, `exclude`, `readonly_fields` and a custom `form` all apply) for a user who holds
every permission; each call is then held to the caller's own form (effects/admin_write.py).
When an admin overrides none of the hooks they are built through, the add and change views'
forms are one, and it is built and described once.
"""

from __future__ import annotations

import decimal
import functools
import html
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from django import forms
from django.contrib.admin import ModelAdmin
from django.forms.utils import pretty_name
from django.utils.html import strip_tags

from django_mcp import left_out
from django_mcp.facts.models import without_defaults
from django_mcp.values import to_json

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django.utils.functional import Promise

    #: What field facts read a form from: a built form, or one read as declared.
    AnyForm: TypeAlias = "forms.BaseForm | _Unbuilt"

logger = logging.getLogger("django_mcp.facts")

#: The `kind`s of docs/engine-protocol.md: a form field is described by the first of these
#: in its class's MRO (its own class, or its nearest `django.forms` ancestor).
KINDS = {
    "CharField",
    "IntegerField",
    "FloatField",
    "DecimalField",
    "BooleanField",
    "NullBooleanField",
    "DateField",
    "DateTimeField",
    "SplitDateTimeField",
    "TimeField",
    "DurationField",
    "EmailField",
    "URLField",
    "SlugField",
    "UUIDField",
    "JSONField",
    "ChoiceField",
    "TypedChoiceField",
    "MultipleChoiceField",
    "TypedMultipleChoiceField",
    "ModelChoiceField",
    "ModelMultipleChoiceField",
    "FileField",
    "ImageField",
    "GenericIPAddressField",
    "RegexField",
}
#: Form data are text: a field of no known kind (a bare `forms.Field`, a `MultiValueField`…)
#: is offered as a string and left to the form to judge.
FALLBACK_KIND = "CharField"

MULTIPLE = (forms.MultipleChoiceField, forms.ModelMultipleChoiceField)


def admin_forms(model_admin: ModelAdmin, request: HttpRequest) -> dict[str, list[dict[str, Any]] | str | None]:
    """`{"add": [field…] | None, "change": [field…] | "add" | None}` for `model_admin`, built
    for the privileged `request` ("add": the add view's form). A form that cannot be built is
    None (logged), never an error."""
    add = _described(
        model_admin,
        "add",
        lambda: form_as_built(add_form(model_admin, request), model_admin.get_changeform_initial_data(request)),
    )
    if add is not None and forms_from_declarations(type(model_admin)):  # type: ignore[arg-type]  # a class is hashable; mypy: not type[Any]
        # The change view's form is this one: building forms is most of what the facts
        # cost at start-up, so it is not built again, nor described twice.
        return {"add": add, "change": "add"}
    return {
        "add": add,
        "change": _described(model_admin, "change", lambda: form_as_built(change_form(model_admin, request))),
    }


def add_form(model_admin: ModelAdmin, request: HttpRequest) -> type[forms.ModelForm]:
    """The add view's form class, as `changeform_view` builds it (or one with the very
    same fields)."""
    if forms_from_declarations(type(model_admin)) and not (model_admin.fields or model_admin.fieldsets):  # type: ignore[arg-type]  # a class is hashable; mypy: not type[Any]
        # get_form would build the form twice: with every field, for get_fields to learn
        # their names, then with those names. The first has the same fields, in order.
        return model_admin.get_form(request, None, fields=None)
    return model_admin.get_form(request, None, change=False)


def change_form(model_admin: ModelAdmin, request: HttpRequest) -> type[forms.ModelForm]:
    """The change view's form class for a typical object.

    Admins often decide on the object (`UserAdmin` switches form and fieldsets when there is
    one; `get_readonly_fields(request, obj)` commonly adds fields once `obj` exists), so the
    form is built for an unsaved instance when the admin lets it be changed, else for None.
    """
    try:
        placeholder = model_admin.model()
        if model_admin.has_change_permission(request, placeholder):
            return model_admin.get_form(request, placeholder, change=True)
    except Exception:
        logger.debug("change form of %s: no placeholder object", model_admin, exc_info=True)
    return model_admin.get_form(request, None, change=True)


#: The hooks `get_fields` consults.
_FIELD_HOOKS = (
    "get_fields",
    "get_form",
    "_get_form_for_get_fields",
    "get_readonly_fields",
    "get_exclude",
    "formfield_for_dbfield",
    "formfield_for_foreignkey",
    "formfield_for_manytomany",
    "formfield_for_choice_field",
)
#: Beside those, the hooks through which the change view's form can differ from the add
#: view's: the object, `change` (for the privileged user, an unoverridden
#: has_change_permission keeps every field) and the add view's initial data (none,
#: unoverridden: the privileged request has no query string).
_VIEW_HOOKS = ("get_fieldsets", "has_change_permission", "get_changeform_initial_data")


@functools.cache
def fields_from_declarations(admin_class: type[ModelAdmin]) -> bool:
    """Whether `get_fields` answers from the admin's declarations alone: none of the hooks
    it consults is overridden."""
    return _unoverridden(admin_class, _FIELD_HOOKS)


@functools.cache
def fieldsets_from_declarations(admin_class: type[ModelAdmin]) -> bool:
    """Whether `get_fieldsets` answers from the admin's declarations alone: Django's own,
    over declared `fieldsets` or a `get_fields` that answers from declarations."""
    return _unoverridden(admin_class, ("get_fieldsets",)) and (
        bool(admin_class.fieldsets) or fields_from_declarations(admin_class)  # type: ignore[arg-type]  # a class is hashable; mypy: not type[Any]
    )


@functools.cache
def forms_from_declarations(admin_class: type[ModelAdmin]) -> bool:
    """Whether the admin's forms follow from its declarations alone (`form`, `fields`,
    `exclude`, `readonly_fields`…): so when none of the hooks that build them is overridden.
    Then the add view and any object's change view get the same form."""
    return fields_from_declarations(admin_class) and _unoverridden(admin_class, _VIEW_HOOKS)  # type: ignore[arg-type]  # a class is hashable; mypy: not type[Any]


def _unoverridden(admin_class: type[ModelAdmin], hooks: tuple[str, ...]) -> bool:
    return all(getattr(admin_class, hook) is getattr(ModelAdmin, hook) for hook in hooks)


def form_as_built(form_class: type[forms.BaseForm], initial: dict[str, Any] | None = None) -> AnyForm:
    """The form a view builds from `form_class` (no data, no instance), or, when building it
    would change nothing field facts read, what they read of it without building it."""
    if built_as_declared(form_class):
        return _Unbuilt(form_class, initial)
    return form_class(initial=initial)


def built_as_declared(form_class: type[forms.BaseForm]) -> bool:
    """Whether an instance of `form_class` has exactly its class's fields in their order and
    reads initial data as Django does: it keeps ModelForm's own `__init__`, field order and
    initial lookup. (`__init__` also narrows related querysets by `limit_choices_to`; facts
    read only the model a queryset is of.)"""
    return (
        form_class.__init__ is forms.BaseModelForm.__init__
        and form_class.field_order is None
        and form_class.order_fields is forms.BaseForm.order_fields
        and form_class.get_initial_for_field is forms.BaseForm.get_initial_for_field
    )


class _Unbuilt:
    """What field facts read of a form built as declared, without building it: building
    deep-copies every field (a quarter of what the facts cost at start-up)."""

    get_initial_for_field = forms.BaseForm.get_initial_for_field

    def __init__(self, form_class: type[forms.BaseForm], initial: dict[str, Any] | None) -> None:
        self.fields = form_class.base_fields
        self.initial = initial or {}
        self._meta = form_class._meta


def _described(model_admin: ModelAdmin, which: str, build: Callable[[], AnyForm]) -> list[dict[str, Any]] | None:
    try:
        form = build()
        return [field_facts(name, field, form) for name, field in form.fields.items() if not field.disabled]
    except Exception:
        left_out.report(
            logger,
            "%s: its %s form could not be built; no %s tool",
            _label(model_admin),
            which,
            "create" if which == "add" else "update",
            exc_info=True,
        )
        return None


def _label(model_admin: ModelAdmin) -> str:
    return f"{model_admin.admin_site.name}/{model_admin.model._meta.label_lower}"


def field_facts(name: str, field: forms.Field, form: AnyForm | None = None) -> dict[str, Any]:
    """The form-field facts of docs/engine-protocol.md for `field` (named `name` in `form`)."""
    kind = form_field_kind(field)
    initial = _initial(form, name, field)
    facts: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "label": str(field.label) if field.label is not None else pretty_name(name),
        "help_text": plain_text(_without_widget_hint(field.help_text)),
        # A field the form pre-fills (a model default, the admin's initial data) is sent by
        # the admin's own page without the user typing it; the host does the same.
        "required": bool(field.required) and _empty(field, initial),
        "disabled": bool(field.disabled),
        "max_length": _count(getattr(field, "max_length", None)),
        "min_length": _count(getattr(field, "min_length", None)),
        "min_value": _number(getattr(field, "min_value", None)),
        "max_value": _number(getattr(field, "max_value", None)),
        "max_digits": _count(getattr(field, "max_digits", None)),
        "decimal_places": _count(getattr(field, "decimal_places", None)),
        "choices": None,
        "related_model": None,
        "multiple": isinstance(field, MULTIPLE),
        "nullable": not field.required and empty_is_none(field) and model_allows_null(form, name),
        "pattern": None,
    }
    if isinstance(field, (forms.ModelChoiceField, forms.ModelMultipleChoiceField)):
        queryset = getattr(field, "queryset", None)
        if queryset is not None:
            facts["related_model"] = queryset.model._meta.label
    elif isinstance(field, forms.ChoiceField):
        facts["choices"] = choices(field, facts["nullable"])
    if isinstance(field, forms.RegexField) and getattr(field, "regex", None) is not None:
        facts["pattern"] = field.regex.pattern
    return without_defaults(facts)


def form_field_kind(field: forms.Field) -> str:
    for cls in type(field).__mro__:
        if cls.__name__ in KINDS and cls.__module__.startswith("django.forms"):
            return cls.__name__
    return FALLBACK_KIND


def choices(field: forms.ChoiceField, nullable: bool) -> list[list[Any]]:
    """The field's choices flattened (option groups opened), values as JSON. The blank choice
    is left out when `null` is what clears the field."""
    flat: list[tuple[Any, Any]] = []
    for value, label in field.choices:
        if isinstance(label, (list, tuple)):
            flat.extend(label)  # an option group: (group label, [(value, label), …])
        else:
            flat.append((value, label))
    return [[to_json(value), plain_text(label)] for value, label in flat if not (nullable and value in ("", None))]


def empty_is_none(field: forms.Field) -> bool:
    """Whether the field's empty value is None: so `null` is how a client clears it."""
    if isinstance(field, (forms.FileField, *MULTIPLE)):
        return False  # files: the engine offers null itself; multiples: [] clears them
    if isinstance(field, forms.TypedChoiceField):
        return field.empty_value is None
    if isinstance(field, forms.MultiValueField):
        try:
            return field.compress([]) is None
        except Exception:
            return False
    try:
        return field.to_python("") is None
    except Exception:
        return False


def model_allows_null(form: AnyForm | None, name: str) -> bool:
    """False when the form saves into a model field that cannot hold NULL (a `JSONField`
    with `blank=True` but not `null=True`: Django's form turns an empty value into None)."""
    model = getattr(getattr(form, "_meta", None), "model", None)
    if model is None:
        return True
    try:
        model_field = model._meta.get_field(name)
    except Exception:
        return True  # a form field of its own
    return bool(getattr(model_field, "null", True)) or not getattr(model_field, "concrete", False)


def _without_widget_hint(help_text: str | Promise) -> str:
    """The admin appends how to use its multiple-select widget to many-to-many help texts;
    it says nothing to an MCP client."""
    from django.utils.translation import gettext

    if not help_text:
        return ""  # most fields: no translation lookup
    hint = gettext("Hold down “Control”, or “Command” on a Mac, to select more than one.")
    return str(help_text).replace(hint, "").strip()


def plain_text(text: Any) -> str:
    """Help texts and labels may be HTML (the password validators' list): plain text, one line."""
    text = str(text or "")
    if "<" in text:
        text = re.sub(r"<(br|/li|/p|/div)\s*/?>", " ", text, flags=re.IGNORECASE)
        text = html.unescape(strip_tags(text))
    return " ".join(text.split())


def _initial(form: AnyForm | None, name: str, field: forms.Field) -> object:
    if form is None:
        return field.initial
    try:
        return form.get_initial_for_field(field, name)
    except Exception:
        return None


def _empty(field: forms.Field, initial: object) -> bool:
    if initial is None:
        return True
    try:
        return initial in field.empty_values
    except TypeError:  # an unhashable, incomparable initial is a value
        return False


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _number(value: object) -> int | float | None:
    """A numeric bound as a JSON number; dates and callables are no numbers."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return int(value) if value == value.to_integral_value() else float(value)
    return None
