"""Facts about search tools: DJANGO_MCP_MODEL_SEARCH.

An entry is `"app.Model"` or `{"model", "search_fields", "filter_fields", "fields",
"permission"}`. Unlike the original, results carry only `fields`; an entry that names none
reports `fields` null and the engine chooses them (`derive/search.rs`). No list may name a
path crossing a secret (the user model's password hash, a DJANGO_MCP_REDACT_FIELDS field): it
is neither returned, searched nor filtered on, since a filter on a hash is an oracle for it.
Which field is a secret is the engine's rule (`derive/secrets.rs`): the parser reports the
fields each path crosses and asks it (`secrets_crossed`, docs/engine-protocol.md).

As for resources, one parser serves the system checks, which report a bad entry at startup,
and `gather()`, which leaves a bad entry out with a warning.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP

from django_mcp import conf, left_out
from django_mcp.facts.admin import PRIVATE_APPS, admin_id_of, admin_sites
from django_mcp.facts.models import crossed_fields, field_named
from django_mcp.facts.resources import entry_permission, installed_model, parsed_entries

if TYPE_CHECKING:
    from django.db.models import Field, ForeignObjectRel, Model

    from django_mcp.facts.registry import Registry

    #: The (model, field) pairs a lookup path crosses, from the search's model on.
    Chain = list[tuple[type[Model], Field | ForeignObjectRel]]

logger = logging.getLogger("django_mcp.facts")

SEARCH_KEYS = {"model", "search_fields", "filter_fields", "fields", "permission"}
PATH_KEYS = ("search_fields", "filter_fields", "fields")

#: Steps an engine instance without a catalogue with a question's text and returns its
#: answer; None when no engine can answer (the system checks without one: E029 says why).
Ask = Callable[[str], "list[str | None] | None"]


@dataclasses.dataclass(frozen=True)
class Search:
    """One DJANGO_MCP_MODEL_SEARCH entry, checked."""

    model: type[Model]
    search_fields: tuple[str, ...]
    filter_fields: tuple[str, ...]
    #: As the entry names them; None: it names none, and the engine chooses them.
    fields: tuple[str, ...] | None
    permission: str
    #: The model and those its search and filter paths cross: they need facts too.
    models: tuple[type[Model], ...]
    #: The ModelAdmin whose `get_queryset` the search goes through, if the model has one.
    admin: str | None = None

    def facts(self) -> dict[str, Any]:
        return {
            "model": self.model._meta.label,
            "admin": self.admin,
            "search_fields": list(self.search_fields),
            "filter_fields": list(self.filter_fields),
            "fields": None if self.fields is None else list(self.fields),
            "permission": self.permission,
        }

    @property
    def result_fields(self) -> tuple[str, ...]:
        """What results may carry: the entry's fields, or those the engine chooses among."""
        if self.fields is not None:
            return self.fields
        return (self.model._meta.pk.name, *self.search_fields, *self.filter_fields)


def searches(registry: Registry) -> list[dict[str, Any]]:
    """The DJANGO_MCP_MODEL_SEARCH facts; each search is added to `registry` for the effect."""
    entries = conf.get("DJANGO_MCP_MODEL_SEARCH")
    if not isinstance(entries, (list, tuple)):
        left_out.report(logger, "DJANGO_MCP_MODEL_SEARCH is not a list; no search tools")
        return []

    from django_mcp import server  # which gathers these facts

    def parse(entry: object) -> Search:
        search = model_search(entry, server.state.secrets_crossed)
        return dataclasses.replace(search, admin=_admin(registry, search.model))

    facts = []
    for search, problem, repeated in parsed_entries(entries, parse, lambda s: s.model._meta.label):
        if problem is not None:
            left_out.report(logger, "DJANGO_MCP_MODEL_SEARCH: %s; left out", problem)
        elif repeated is not None:
            left_out.report(logger, "DJANGO_MCP_MODEL_SEARCH: a second entry for %s; left out", repeated)
        else:
            registry.add_search(search)
            facts.append(cast(Search, search).facts())  # neither problem nor repeated: parsed
    return facts


def model_search(entry: object, ask: Ask) -> Search:
    """The Search of one DJANGO_MCP_MODEL_SEARCH entry (without its admin); a ValueError says
    what is wrong with the entry. `ask` puts the engine its question about secrets."""
    if isinstance(entry, dict):
        unknown = set(entry) - SEARCH_KEYS
        if unknown:
            raise ValueError(
                f"{entry!r} has unknown keys {sorted(unknown)} "
                "(allowed: model, search_fields, filter_fields, fields, permission)"
            )
        label = entry.get("model")
    else:
        label, entry = entry, {}
    if not isinstance(label, str):
        raise ValueError(f"{label!r} is neither 'app_label.ModelName' nor a dict with a 'model'")
    model = installed_model(label)
    label = model._meta.label
    # One question for every path, before any is resolved: the errors keep their order.
    named: dict[str, None] = {}
    for key in PATH_KEYS:
        names = entry.get(key, ())
        if isinstance(names, (list, tuple)) and all(isinstance(name, str) for name in names):
            named.update(dict.fromkeys(names))
    secrets = dict(zip(named, secrets_crossed(model, list(named), ask)))
    crossed = [model]

    def paths(key: str) -> Iterator[tuple[str, Chain]]:
        names = entry.get(key, ())
        if not isinstance(names, (list, tuple)) or not all(isinstance(name, str) for name in names):
            raise ValueError(f"{label}: {key} must be a list of field names")
        for name in names:
            try:
                chain = _resolve(model, name, secrets[name])
            except ValueError as exc:
                raise ValueError(f"{label}: {key}: {exc}") from None
            for owner, _field in chain:
                if owner not in crossed:
                    crossed.append(owner)
            yield name, chain

    search_fields = []
    for name, chain in paths("search_fields"):
        if chain[-1][1].is_relation:
            raise ValueError(
                f"{label}: search_fields: {name!r} is a relation; search a field across it ({name}{LOOKUP_SEP}<field>)"
            )
        search_fields.append(name)
    filter_fields = []
    for name, chain in paths("filter_fields"):
        if not all(_stored(owner, field) for owner, field in chain):
            raise ValueError(f"{label}: filter_fields: {name!r} follows a reverse relation or ends on no stored field")
        filter_fields.append(name)
    fields = None
    if "fields" in entry:
        fields = []
        for name, chain in paths("fields"):
            if len(chain) > 1 or not _stored(model, chain[0][1]):
                raise ValueError(f"{label}: fields: {name!r} is not a field of {label}")
            fields.append(name)
    return Search(
        model=model,
        search_fields=tuple(dict.fromkeys(search_fields)),
        filter_fields=tuple(dict.fromkeys(filter_fields)),
        fields=None if fields is None else tuple(dict.fromkeys(fields)),
        permission=entry_permission(model, entry.get("permission")),
        models=tuple(crossed),
    )


def secrets_crossed(model: type[Model], paths: list[str], ask: Ask) -> list[str | None]:
    """For each field path from `model`, the label of the first secret it crosses, or None:
    the engine judges the fields each crosses (`crossed_fields`)."""
    if not paths:
        return []
    question = {
        "secrets_crossed": {
            "user_model": get_user_model()._meta.label,
            "redact_fields": list(conf.get("DJANGO_MCP_REDACT_FIELDS")),
            "paths": [crossed_fields(model, path) for path in paths],
        }
    }
    answer = ask(json.dumps(question, separators=(",", ":")))
    return [None] * len(paths) if answer is None else answer


def _resolve(model: type[Model], path: str, secret: str | None) -> Chain:
    """The (model, field) pairs `path` (`author__name`) crosses from `model`; a ValueError if a
    part names no field, follows no relation, is a secret (`secret`: the engine's answer) or
    enters one of our own models."""
    if secret:
        raise ValueError(f"{path!r}: {secret} is a secret, never sent nor searched")
    chain: Chain = []
    for part in path.split(LOOKUP_SEP):
        if chain:
            target = chain[-1][1].related_model
            if target is None or isinstance(target, str):
                raise ValueError(f"{path!r}: {chain[-1][1].name} is not a relation")
            if target._meta.app_label in PRIVATE_APPS:
                raise ValueError(f"{path!r} reaches {target._meta.label}, which is never served through MCP")
            model = target
        try:
            field = field_named(model, part)
        except FieldDoesNotExist:
            raise ValueError(f"{path!r}: {model._meta.label} has no field {part!r}") from None
        chain.append((model, field))
    return chain


def _stored(model: type[Model], field: Field | ForeignObjectRel) -> bool:
    """A field the engine's model facts describe: concrete, or a forward many-to-many."""
    return field.concrete or field in model._meta.many_to_many


def _admin(registry: Registry, model: type[Model]) -> str | None:
    """The id of the model's ModelAdmin on the first configured site that registers it, or
    None. A model whose admin could not be described is left out: searching its default
    manager would bypass the admin's `get_queryset` (tenant scoping)."""
    for site in admin_sites():
        if model in site._registry:
            admin_id = admin_id_of(site, model)
            try:
                registry.get(admin_id)
            except KeyError:
                raise ValueError(f"{model._meta.label}: its ModelAdmin could not be described") from None
            return admin_id
    return None
