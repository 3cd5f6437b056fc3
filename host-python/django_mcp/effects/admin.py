"""Admin effects: permission gates and retrieve through the ModelAdmin itself, and the helpers
the other admin effects share (finding an object, the fields shown)."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin import ModelAdmin
from django.core.exceptions import MultipleObjectsReturned, ValidationError
from django.db.models import Field, Model, QuerySet
from django.http import HttpRequest

from django_mcp import rate_limits
from django_mcp.effects import EffectError, Forbidden, NotFound
from django_mcp.effects.drf import drf_permits
from django_mcp.effects.views import view_listed
from django_mcp.facts.forms import fieldsets_from_declarations
from django_mcp.facts.admin import forms_facts
from django_mcp.seam import JSON, AdminForms, AdminRetrieve, Authorize, Check, Permissions
from django_mcp.values import MASK, field_value

if TYPE_CHECKING:
    from django_mcp.facts.registry import Registry
    from django_mcp.requests import CallerContext


class Gates:
    """Judges the gates of docs/engine-protocol.md for one caller. A `tools/list` page asks
    for the gates of the tools it walks at once; each site's `has_permission` and each
    admin's `get_actions` is computed once per batch, not once per gate."""

    CLASS_GATES: dict[str | None, str] = {
        "admin.view": "has_view_permission",
        "admin.add": "has_add_permission",
        "admin.change": "has_change_permission",
        "admin.delete": "has_delete_permission",
    }

    def __init__(self, caller: CallerContext, registry: Registry) -> None:
        self.caller = caller
        self.request = caller.request()
        self.registry = registry
        self._sites: dict[Any, bool] = {}
        self._actions: dict[ModelAdmin, dict[str, Any]] = {}

    def passes(self, check: Check) -> bool:
        """The admin site's own gate first, then the ModelAdmin's class-level permission
        (or the action's availability, which is how the admin applies `allowed_permissions`).
        A custom item's gate is the user's own permission, if it names one; a routed view's,
        every gate the view declares (`effects/views.py`)."""
        gate = check.get("gate")
        if gate == "user":
            permission = check.get("permission")
            return permission is None or self.request.user.has_perm(permission)
        if gate == "view":
            return view_listed(self.registry.view(check["view"]), self.request)
        if gate == "drf":
            return drf_permits(self.registry.drf(check["view"]), check["handler"], self.caller)
        if gate == "search":
            from django_mcp.effects.search import search_permitted  # it reads objects with this module

            return search_permitted(self.registry.search(check["model"]), self.request, self.registry)
        site, model_admin = self.registry.get(check["admin"])
        if site not in self._sites:
            self._sites[site] = site.has_permission(self.request)
        if not self._sites[site]:
            return False
        if gate == "admin.action":
            if model_admin not in self._actions:
                usable = model_admin.has_view_or_change_permission(self.request)
                self._actions[model_admin] = model_admin.get_actions(self.request) if usable else {}
            return check["action"] in self._actions[model_admin]
        permission = self.CLASS_GATES.get(gate)
        return bool(permission and getattr(model_admin, permission)(self.request))


def permissions(effect: Permissions, caller: CallerContext, registry: Registry) -> list[bool]:
    gates = Gates(caller, registry)
    return [gates.passes(check) for check in effect["checks"]]


def authorize(effect: Authorize, caller: CallerContext, registry: Registry) -> bool:
    """The tool's gates, then its rate limit: a call the caller may not make spends no budget."""
    gates = Gates(caller, registry)
    if not all(gates.passes(check) for check in effect["checks"]):
        raise Forbidden()
    tool = effect.get("tool")  # resources and prompts have no per-tool budget
    if tool is not None and caller.subject is not None:
        retry_after = rate_limits.for_tool(caller.subject, tool)
        if retry_after is not None:
            raise EffectError("rate_limited", rate_limits.message(retry_after), retry_after=retry_after)
    return True


def admin_retrieve(effect: AdminRetrieve, caller: CallerContext, registry: Registry) -> dict[str, Any]:
    site, model_admin = registry.get(effect["admin"])
    request = caller.request()
    obj = viewable_object(model_admin, request, effect["pk"])
    return {"object": shown_values(model_admin, request, obj, effect["fields"], effect.get("masked"))}


def viewable_object(model_admin: ModelAdmin, request: HttpRequest, pk: JSON) -> Model:
    """The object with `pk`, if the admin finds it for this caller and
    `has_view_permission(request, obj)` lets them see it."""
    obj = find_object(model_admin, request, pk)
    if not model_admin.has_view_permission(request, obj):
        raise Forbidden()
    return obj


def find_object(model_admin: ModelAdmin, request: HttpRequest, pk: JSON) -> Model:
    """The object with `pk` as the admin's change, delete and history views find it:
    `get_object(request, object_id)`, which reads `get_queryset` (an override may narrow it
    further or look objects up its own way); NotFound when it finds none."""
    if isinstance(pk, bool):
        raise NotFound()  # True would otherwise find the object whose pk is 1
    try:
        obj = model_admin.get_object(request, str(pk))
    except (MultipleObjectsReturned, ValueError, TypeError, ValidationError):
        obj = None  # a pk of the wrong shape names no object either
    if obj is None:
        raise NotFound()
    return obj


def get_object(queryset: QuerySet, pk: JSON) -> Model:
    """The object with `pk` in `queryset`, or NotFound."""
    model = queryset.model
    if isinstance(pk, bool):
        raise NotFound()  # True would otherwise find the object whose pk is 1
    try:
        # get() drops the changelist ordering the admin's queryset may carry: one plain lookup.
        return queryset.get(pk=pk)
    except (model.DoesNotExist, model.MultipleObjectsReturned, ValueError, TypeError, ValidationError):
        raise NotFound() from None  # a pk of the wrong shape names no object either


def shown_values(
    model_admin: ModelAdmin, request: HttpRequest, obj: Model, fields: list[str], masked: Iterable[str] | None
) -> dict[str, JSON]:
    """The values of `fields` that the admin's change page shows this caller for `obj`
    (`shown_fields`), pk always included, `masked` fields never revealed."""
    shown = shown_fields(model_admin, request, obj)
    opts = model_admin.model._meta
    wanted = [name for name in fields if name in shown or name == opts.pk.name]
    return object_values(model_admin.model, obj, wanted, masked)


def object_values(model: type[Model], obj: Model, names: list[str], masked: Iterable[str] | None) -> dict[str, JSON]:
    """The JSON values of the fields `names` of `obj`, `masked` ones never revealed."""
    return _row(obj, _columns(model, names), set(masked or ()))


def _columns(model: type[Model], names: list[str]) -> list[tuple[str, Field | None]]:
    opts = model._meta
    columns: list[tuple[str, Field | None]] = []
    for name in names:
        if name == "__str__":
            columns.append((name, None))
        else:
            columns.append((name, opts.get_field(name)))
    return columns


def _row(obj: Model, columns: list[tuple[str, Field | None]], masked: set[str]) -> dict[str, JSON]:
    row: dict[str, JSON] = {}
    for name, field in columns:
        if field is None:
            row[name] = str(obj)
        elif name in masked:
            row[name] = MASK
        else:
            row[name] = field_value(obj, field)
    return row


def shown_fields(model_admin: ModelAdmin, request: HttpRequest, obj: Model | None) -> frozenset[str] | set[str]:
    """The fields the admin's change page shows this caller for `obj`: its
    `get_fieldsets(request, obj)`, flattened. That page renders nothing else: a field in
    neither `fieldsets` nor `fields` is not shown, even when `get_fields` (every editable
    field, once `fieldsets` is declared) names it; a read-only field is shown where the
    fieldsets place it. Answered once per ModelAdmin when the answer follows from its
    declarations alone (`get_fieldsets` as Django's, and either `fieldsets` declared or
    `get_fields` answering from declarations): the default builds a ModelForm class."""
    # A class is hashable; mypy does not see `type[Any]` as such.
    if not fieldsets_from_declarations(type(model_admin)):  # type: ignore[arg-type]
        return set(flatten_fieldsets(model_admin.get_fieldsets(request, obj)))
    shown = _STATIC_FIELDS.get(model_admin)
    if shown is None:
        shown = _STATIC_FIELDS[model_admin] = frozenset(flatten_fieldsets(model_admin.get_fieldsets(request, obj)))
    return shown


_STATIC_FIELDS: weakref.WeakKeyDictionary[object, frozenset[str]] = weakref.WeakKeyDictionary()


def admin_forms(effect: AdminForms, caller: CallerContext, registry: Registry) -> list[JSON]:
    """The forms facts of the deferred admins named, as the facts would have held them: built
    once per set of facts (the registry keeps them), whichever engine instance asks."""
    return [registry.forms(admin_id, forms_facts) for admin_id in effect["admins"]]
