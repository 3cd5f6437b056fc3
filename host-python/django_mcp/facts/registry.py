"""The registry: the live objects behind the ids the engine names."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django.db.models import ForeignObjectRel

if TYPE_CHECKING:
    from django.contrib.admin import AdminSite, ModelAdmin
    from django.db.models import Model

    from django_mcp.facts.custom import CustomRegistry
    from django_mcp.facts.drf import DrfView
    from django_mcp.facts.search import Search
    from django_mcp.facts.views import RoutedView


class Registry:
    """The live objects behind the ids the engine names: (site, ModelAdmin) pairs by admin id,
    routed views (`facts.views.RoutedView`) and DRF views (`facts.drf.DrfView`) by view id,
    resource models, searches and custom items. Filled while the facts are gathered; the
    effects look their targets up here."""

    def __init__(self) -> None:
        self._by_id: dict[str, tuple[AdminSite, ModelAdmin]] = {}
        self._views: dict[str, RoutedView] = {}
        self._drf: dict[str, DrfView] = {}
        #: DJANGO_MCP_RESOURCE_MODELS models by label: (model, permission).
        self._resource_models: dict[str, tuple[type[Model], str]] = {}
        #: DJANGO_MCP_MODEL_SEARCH entries by model label (facts.search.Search).
        self._searches: dict[str, Search] = {}
        #: The custom items (django_mcp.custom), by name.
        #: None only until the facts are gathered, before any effect reads it.
        self.custom = cast("CustomRegistry", None)
        #: Deferred admins' forms facts by admin id, built on first request (`forms`).
        self._forms: dict[str, Any] = {}
        self._forms_lock = threading.Lock()

    def add(self, admin_id: str, site: AdminSite, model_admin: ModelAdmin) -> None:
        self._by_id[admin_id] = (site, model_admin)

    def get(self, admin_id: str) -> tuple[AdminSite, ModelAdmin]:
        return self._by_id[admin_id]

    def forms(self, admin_id: str, build: Callable[[AdminSite, ModelAdmin], Any]) -> Any:
        """The forms facts of the admin `admin_id`, built by `build` the first time: each
        engine instance may ask, and building forms is what deferring them saves."""
        with self._forms_lock:
            if admin_id not in self._forms:
                self._forms[admin_id] = build(*self.get(admin_id))
            return self._forms[admin_id]

    def add_view(self, routed: RoutedView) -> None:
        self._views[routed.id] = routed

    def view(self, view_id: str) -> RoutedView:
        """The routed view with this id; any other id is a KeyError."""
        return self._views[view_id]

    def add_drf(self, view: DrfView) -> None:
        self._drf[view.id] = view

    def drf(self, view_id: str) -> DrfView:
        """The DRF view with this id; any other id is a KeyError."""
        return self._drf[view_id]

    def add_model(self, model: type[Model], permission: str) -> None:
        """A model served as resources without an admin, to callers holding `permission`."""
        self._resource_models[model._meta.label] = (model, permission)

    def model(self, label: str) -> type[Model]:
        """A DJANGO_MCP_RESOURCE_MODELS model; any other label is a KeyError, so the
        resource effects can never reach a model the settings do not list."""
        return self._resource_models[label][0]

    def model_permission(self, label: str) -> str:
        return self._resource_models[label][1]

    def add_search(self, search: Any) -> None:  # a Search; facts.search holds it as `Search | None`
        self._searches[search.model._meta.label] = search

    def search(self, label: str) -> Search:
        """A DJANGO_MCP_MODEL_SEARCH entry; any other label is a KeyError."""
        return self._searches[label]

    def models(self) -> list[type[Model]]:
        # In order of first appearance; a dict for membership, which a list scans.
        seen: dict[type[Model], None] = {}
        for _site, model_admin in self._by_id.values():
            seen.setdefault(model_admin.model)
        for model, _permission in self._resource_models.values():
            seen.setdefault(model)
        for search in self._searches.values():
            for model in search.models:  # the model, and those its field paths cross
                seen.setdefault(model)
        # Relations need their targets' pk facts, even when the target has no admin.
        for model in list(seen):
            for field in model._meta.get_fields(include_hidden=True):  # the list gathering reads
                if isinstance(field, ForeignObjectRel) and field.hidden:
                    continue  # as get_fields() leaves them out
                target = getattr(field, "related_model", None)
                if field.concrete or field.many_to_many:
                    if target is not None and not isinstance(target, str):
                        seen.setdefault(target)
        return list(seen)
