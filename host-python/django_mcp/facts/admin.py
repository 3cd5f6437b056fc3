"""Facts about the ModelAdmins on the configured admin sites."""

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.admin import AdminSite, ModelAdmin
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model
from django.http import HttpRequest
from django.utils.functional import LazyObject, empty
from django.utils.module_loading import import_string

from django_mcp import conf, left_out
from django_mcp.facts import changelist, forms
from django_mcp.facts.models import FieldsByName
from django_mcp.facts.registry import Registry
from django_mcp.requests import CallerContext

logger = logging.getLogger("django_mcp.facts")

#: Our own models are managed with `mcp_key` and the Django admin, never through MCP.
#: Apps whose models are never served through MCP, and why: credentials must not mint credentials.
PRIVATE_APPS = {
    "django_mcp": "a key must not be able to mint keys",
    # The site's OAuth authorization server (oauth_server): its clients, grants and tokens.
    "oauth2_provider": "an OAuth token must not be able to register clients or mint tokens",
}


def admin_sites() -> list[AdminSite]:
    sites = []
    for path in conf.get("DJANGO_MCP_ADMIN_SITES"):
        site = _unproxied(import_string(path) if isinstance(path, str) else path)
        if not isinstance(site, AdminSite):
            raise ImproperlyConfigured(f"DJANGO_MCP_ADMIN_SITES: {path!r} is not an AdminSite instance")
        if site not in sites:
            sites.append(site)
    return sites


def _unproxied(site: Any) -> Any:
    """The site itself. `django.contrib.admin.site` is a lazy proxy: every attribute read,
    hash and comparison through it is a Python call, 40 % of what a `tools/list` page's
    gates cost."""
    if isinstance(site, LazyObject):
        if site._wrapped is empty:
            site._setup()
        return site._wrapped
    return site


def collect_admins(
    defer_forms: bool = False, keep: Callable[[dict], Any] = lambda facts: facts
) -> tuple[Registry, list[Any]]:
    """The admins' facts, each as `keep` returns it; with `defer_forms`, their forms are left
    for the engine to ask for (`forms_facts`, the `admin.forms` effect) when a request first
    needs them."""
    registry = Registry()
    admins = []
    for site in admin_sites():
        # One per site, shared by its admins as one admin page's hooks share theirs: building a
        # request per admin grew with the project for no difference in what the hooks see.
        request = privileged_request(site)
        for model, model_admin in site._registry.items():
            admin_id = admin_id_of(site, model)
            if model._meta.app_label in PRIVATE_APPS:
                left_out.report(
                    logger, "%s: never served: %s", admin_id, PRIVATE_APPS[model._meta.app_label], level=logging.INFO
                )
                continue
            try:
                facts = _admin_facts(admin_id, site, model, model_admin, request, defer_forms)
            except Exception:  # one odd ModelAdmin never takes the others down
                left_out.report(logger, "skipping %s: its ModelAdmin could not be described", admin_id, exc_info=True)
                continue
            admins.append(keep(facts))
            registry.add(admin_id, site, model_admin)
    return registry, admins


def admin_id_of(site: AdminSite, model: type[Model]) -> str:
    """The engine's handle for the ModelAdmin of `model` on `site`."""
    return f"{site.name}/{model._meta.label_lower}"


def _admin_facts(
    admin_id: str, site: AdminSite, model: type[Model], model_admin: ModelAdmin, request: HttpRequest, defer_forms: bool
) -> dict:
    ordering = model_admin.ordering or model._meta.ordering or ()
    fields = FieldsByName(model)
    facts: dict[str, Any] = {
        "id": admin_id,
        "site": site.name,
        "model": model._meta.label,
        "search_fields": changelist.search_fields(model_admin),
        "list_display": changelist.columns(model_admin, request, fields),
        "list_filter": changelist.filters(model_admin, request, fields),
        "ordering": [o for o in ordering if isinstance(o, str)],
        "list_per_page": int(model_admin.list_per_page),
        **({"forms_deferred": True} if defer_forms else {"forms": forms.admin_forms(model_admin, request)}),
        "actions": changelist.actions(model_admin, request),
    }
    paths = changelist.paths(model_admin, request, facts)
    return {**facts, "paths": paths} if paths else facts


def forms_facts(site: AdminSite, model_admin: ModelAdmin) -> dict[str, list[dict[str, Any]] | str | None]:
    """A deferred admin's `forms` facts, as gathering would have held them."""
    return forms.admin_forms(model_admin, privileged_request(site))


def privileged_request(site: AdminSite) -> HttpRequest:
    """A request from a user who holds every permission: what the admin could show anyone.
    Schemas are derived from it; every call is then held to the caller's own permissions."""
    user = _AllPowerful()
    return CallerContext(user).request()


class _AllPowerful:
    """Not a database user: it only answers permission questions with yes."""

    pk = id = None
    is_active = is_staff = is_superuser = is_authenticated = True
    is_anonymous = False
    username = "django-mcp-schema"

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return True

    def has_perms(self, perm_list: Iterable[str], obj: object = None) -> bool:
        return True

    def has_module_perms(self, app_label: str) -> bool:
        return True

    def get_all_permissions(self, obj: object = None) -> set[str]:
        return set()
