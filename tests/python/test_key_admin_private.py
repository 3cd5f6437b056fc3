"""The package's own key admin is never exposed through MCP: a key must not be able to mint
keys. MCPAPIKey is registered with the Django admin, yet no tool, resource template, prompt or
search reaches it, even for a superuser, and naming it in the settings is left out with a
warning that says why."""

import logging

import pytest

from django_mcp.models import MCPAPIKey

REASON = "a key must not be able to mint keys"


def every_name(mcp):
    names = []
    for method, items, field in [
        ("tools/list", "tools", "name"),
        ("resources/templates/list", "resourceTemplates", "uriTemplate"),
        ("prompts/list", "prompts", "name"),
    ]:
        names += [item[field] for page in mcp.pages(method) for item in page[items]]
    return names


def test_the_key_admin_is_registered_but_offers_nothing(mcp):
    from django.contrib import admin

    assert MCPAPIKey in admin.site._registry
    names = every_name(mcp)
    assert "list_library_book" in names
    assert not [name for name in names if "mcpapikey" in name.lower() or "django_mcp" in name]


@pytest.mark.parametrize("setting", ["DJANGO_MCP_RESOURCE_MODELS", "DJANGO_MCP_MODEL_SEARCH"])
def test_naming_the_key_model_in_settings_is_left_out_with_the_reason(mcp, settings, caplog, setting):
    setattr(settings, setting, ["django_mcp.MCPAPIKey"])
    with caplog.at_level(logging.WARNING, logger="django_mcp.facts"):
        names = every_name(mcp)
    assert not [name for name in names if "mcpapikey" in name.lower() or "django_mcp" in name]
    [warning] = [r.getMessage() for r in caplog.records if "django_mcp.MCPAPIKey" in r.getMessage()]
    assert warning.startswith(setting)
    assert "left out" in warning
    assert REASON in warning
