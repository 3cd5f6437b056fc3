"""System checks: a bad setting is reported at startup, not as an error on every request."""

from django.core import checks
from django.utils.module_loading import import_string

from django_mcp import conf


@checks.register()
def check_settings(app_configs=None, **kwargs):
    errors = []

    def error(number, message, hint=None):
        errors.append(checks.Error(message, hint=hint, id=f"django_mcp.E{number:03d}"))

    from django.contrib.admin import AdminSite

    sites = conf.get("DJANGO_MCP_ADMIN_SITES")
    if isinstance(sites, str) or not hasattr(sites, "__iter__"):
        error(1, "DJANGO_MCP_ADMIN_SITES must be a list of dotted paths to AdminSite instances.")
    else:
        for path in sites:
            try:
                site = import_string(path) if isinstance(path, str) else path
            except ImportError as exc:
                error(2, f"DJANGO_MCP_ADMIN_SITES: cannot import {path!r} ({exc}).")
                continue
            if not isinstance(site, AdminSite):
                error(3, f"DJANGO_MCP_ADMIN_SITES: {path!r} is not an AdminSite instance.")
    if conf.get("DJANGO_MCP_TOOL_NAMES") not in ("portable", "dotted"):
        error(4, "DJANGO_MCP_TOOL_NAMES must be 'portable' or 'dotted'.")
    for name in ("DJANGO_MCP_PAGE_SIZE", "DJANGO_MCP_MAX_BODY_BYTES"):
        value = conf.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            error(5, f"{name} must be a positive integer.")
    redact = conf.get("DJANGO_MCP_REDACT_FIELDS")
    if isinstance(redact, str) or not all(isinstance(r, str) for r in redact):
        error(6, "DJANGO_MCP_REDACT_FIELDS must be a list of 'field' or 'app.Model.field' strings.")
    return errors
