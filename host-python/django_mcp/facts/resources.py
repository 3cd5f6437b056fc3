"""Facts about model resources and user prompts: DJANGO_MCP_RESOURCE_MODELS and DJANGO_MCP_PROMPTS.

One parser per entry serves both the system checks, which report a bad entry at startup, and
`gather()`, which leaves a bad entry out with a warning: one typo never takes the server down.
"""

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeGuard, TypeVar

from django.apps import apps
from django.db.models import Model
from django.contrib.auth import get_permission_codename
from django.utils.functional import Promise

from django_mcp import conf, left_out
from django_mcp.facts.admin import PRIVATE_APPS, admin_sites
from django_mcp.facts.registry import Registry

logger = logging.getLogger("django_mcp.facts")

T = TypeVar("T")

PROMPT_NAME = re.compile(r"[A-Za-z0-9_]+")
# `app_label.codename`, as `user.has_perm` takes it.
PERMISSION = re.compile(r"[^.\s]+\.\S+")
MODEL_KEYS = {"model", "permission"}
PROMPT_KEYS = {"name", "description", "arguments", "body", "permission"}
ARGUMENT_KEYS = {"name", "description", "required"}


def resource_models(registry: Registry) -> list[dict]:
    """The DJANGO_MCP_RESOURCE_MODELS facts; each model is added to `registry` for the effects."""
    entries = conf.get("DJANGO_MCP_RESOURCE_MODELS")
    if not isinstance(entries, (list, tuple)):
        left_out.report(logger, "DJANGO_MCP_RESOURCE_MODELS is not a list; no model resources beyond the admin's")
        return []
    administered = {model for site in admin_sites() for model in site._registry}
    facts: list[dict] = []
    for entry in entries:
        try:
            model, permission = resource_model(entry)
        except ValueError as exc:
            left_out.report(logger, "DJANGO_MCP_RESOURCE_MODELS: %s; left out", exc)
            continue
        label = model._meta.label
        if any(fact["model"] == label for fact in facts):
            continue
        if model in administered:
            # The engine leaves it out (the admin wins); its default manager, which would
            # bypass the ModelAdmin's get_queryset, is never put within an effect's reach.
            facts.append({"model": label, "permission": permission, "administered": True})
            continue
        registry.add_model(model, permission)
        facts.append({"model": label, "permission": permission})
    return facts


def resource_model(entry: object) -> tuple[type[Model], str]:
    """The (model, permission) of one DJANGO_MCP_RESOURCE_MODELS entry: `"app.Model"` or
    `{"model": "app.Model", "permission": "app.codename"}`; the default permission is the
    model's view permission. A ValueError says what is wrong with the entry."""
    if isinstance(entry, dict):
        unknown = set(entry) - MODEL_KEYS
        if unknown:
            raise ValueError(f"{entry!r} has unknown keys {sorted(unknown)} (allowed: model, permission)")
        label, permission = entry.get("model"), entry.get("permission")
    else:
        label, permission = entry, None
    if not isinstance(label, str):
        raise ValueError(f"{entry!r} is neither 'app_label.ModelName' nor {{'model': ..., 'permission': ...}}")
    model = installed_model(label)
    return model, entry_permission(model, permission)


def installed_model(label: str) -> type[Model]:
    """The installed model `label` ("app_label.ModelName") names; a ValueError for an unknown
    one or one of ours."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        raise ValueError(f"{label!r} is not an installed model") from None
    if model._meta.app_label == "django_mcp":
        raise ValueError(
            f"{label!r} is managed with mcp_key and the Django admin, never through MCP: {PRIVATE_APPS['django_mcp']}"
        )
    if model._meta.app_label in PRIVATE_APPS:
        raise ValueError(f"{label!r} is never served through MCP: {PRIVATE_APPS[model._meta.app_label]}")
    return model


def entry_permission(model: type[Model], permission: object) -> str:
    """An entry's `permission`, by default the model's view permission; a ValueError if it is
    not an 'app_label.codename' string."""
    opts = model._meta
    if permission is None:
        return f"{opts.app_label}.{get_permission_codename('view', opts)}"
    if not _is_permission(permission):
        raise ValueError(f"{opts.label!r}: permission {permission!r} is not an 'app_label.codename' string")
    return permission


def user_prompts() -> list[dict]:
    """The DJANGO_MCP_PROMPTS facts."""
    entries = conf.get("DJANGO_MCP_PROMPTS")
    if not isinstance(entries, (list, tuple)):
        left_out.report(logger, "DJANGO_MCP_PROMPTS is not a list; no user prompts")
        return []
    facts: list[dict] = []
    for prompt, problem, repeated in parsed_entries(entries, user_prompt, lambda p: p["name"]):
        if problem is not None:
            left_out.report(logger, "DJANGO_MCP_PROMPTS: %s; left out", problem)
        elif repeated is not None:
            left_out.report(logger, "DJANGO_MCP_PROMPTS: a second prompt named %r; left out", repeated)
        elif prompt is not None:
            facts.append(prompt)
    return facts


def parsed_entries(
    entries: Iterable[Any], parse: Callable[[Any], T], key: Callable[[T], str]
) -> Iterator[tuple[T | None, ValueError | None, str | None]]:
    """Each entry of a list setting through `parse`, as `(parsed, problem, repeated)` with one
    of them set: the parsed entry, the ValueError that says what is wrong with it, or the key
    it shares with an earlier entry."""
    seen = set()
    for entry in entries:
        try:
            parsed = parse(entry)
        except ValueError as exc:
            yield None, exc, None
            continue
        name = key(parsed)
        if name in seen:
            yield None, None, name
        else:
            seen.add(name)
            yield parsed, None, None


def user_prompt(entry: object) -> dict:
    """The facts of one DJANGO_MCP_PROMPTS entry, lazy translations made plain strings (a lazy
    string is what took the original's STDIO server down on prompts/list). A ValueError says
    what is wrong with the entry."""
    if not isinstance(entry, dict):
        raise ValueError(f"{entry!r} is not a dict with name, description, arguments, body and permission")
    unknown = set(entry) - PROMPT_KEYS
    if unknown:
        raise ValueError(
            f"{entry!r} has unknown keys {sorted(unknown)} (allowed: name, description, arguments, body, permission)"
        )
    name = entry.get("name")
    if not isinstance(name, (str, Promise)) or not PROMPT_NAME.fullmatch(str(name)):
        raise ValueError(f"prompt name {name!r} is not made of letters, digits and underscores")
    name = str(name)
    arguments = entry.get("arguments", ())
    if not isinstance(arguments, (list, tuple)):
        raise ValueError(f"{name}: arguments must be a list of {{'name', 'description', 'required'}} dicts")
    arguments = [_argument(name, argument) for argument in arguments]
    names = [argument["name"] for argument in arguments]
    if len(set(names)) != len(names):
        raise ValueError(f"{name}: two arguments have the same name")
    permission = entry.get("permission")
    if permission is not None and not _is_permission(permission):
        raise ValueError(f"{name}: permission {permission!r} is not an 'app_label.codename' string")
    if "body" not in entry:
        raise ValueError(f"{name}: a body template is required")
    return {
        "name": name,
        "description": _text(entry.get("description", ""), f"{name}: description"),
        "arguments": arguments,
        "body": _text(entry["body"], f"{name}: body"),
        "permission": permission,
    }


def _argument(prompt: str, argument: object) -> dict:
    if not isinstance(argument, dict):
        raise ValueError(f"{prompt}: argument {argument!r} is not a {{'name', 'description', 'required'}} dict")
    unknown = set(argument) - ARGUMENT_KEYS
    if unknown:
        raise ValueError(
            f"{prompt}: argument {argument!r} has unknown keys {sorted(unknown)} (allowed: name, description, required)"
        )
    name = _text(argument.get("name"), f"{prompt}: an argument's name")
    if not name:
        raise ValueError(f"{prompt}: an argument's name is empty")
    required = argument.get("required", True)
    if not isinstance(required, bool):
        raise ValueError(f"{prompt}: argument {name!r}: required must be True or False")
    return {
        "name": name,
        "description": _text(argument.get("description", ""), f"{prompt}: argument {name!r}: description"),
        "required": required,
    }


def _text(value: object, what: str) -> str:
    if not isinstance(value, (str, Promise)):
        raise ValueError(f"{what} must be a string, not {value!r}")
    return str(value)


def _is_permission(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and PERMISSION.fullmatch(value) is not None
