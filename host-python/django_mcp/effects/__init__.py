"""Carry out the effects the engine returns, in order, as JSON results.

Each handler returns a JSON value (sent as ``{"ok": value}``) or raises ``EffectError``
(sent as ``{"error": {...}}``); kinds and fields are the seam's (``django_mcp.seam``). The
first error stops the batch: later effects are answered ``skipped`` and never run. An
unexpected exception is logged with the request's correlation id and reported as
``internal``; its text never reaches the client.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django_mcp import telemetry
from django_mcp.effects import collisions
from django_mcp.notifications import Notifications
from django_mcp.seam import JSON, Effect, EffectKind, HostError, HostErrorKind

if TYPE_CHECKING:
    from django_mcp.facts.registry import Registry
    from django_mcp.requests import CallerContext

logger = logging.getLogger("django_mcp.effects")


class EffectError(Exception):
    def __init__(
        self,
        kind: HostErrorKind | str,
        message: str = "",
        fields: dict[str, list[str]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message or kind)
        self.kind = HostErrorKind(kind)
        self.message = message
        self.fields = fields
        #: Seconds until a `rate_limited` caller may try again.
        self.retry_after = retry_after

    def to_json(self) -> dict[str, HostError]:
        error: HostError = {"kind": self.kind, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        if self.retry_after is not None:
            error["retry_after"] = self.retry_after
        return {"error": error}


class Forbidden(EffectError):
    def __init__(self, message: str = "forbidden") -> None:
        super().__init__(HostErrorKind.FORBIDDEN, message)


class NotFound(EffectError):
    def __init__(self, message: str = "not found") -> None:
        super().__init__(HostErrorKind.NOT_FOUND, message)


SKIPPED: dict[str, HostError] = {"error": {"kind": HostErrorKind.SKIPPED, "message": "an earlier effect failed"}}


#: Each effect kind's handler, `module:function` in this package: a module is imported when a
#: request first asks for one of its kinds, so a process that only lists and reads never
#: imports the writes' (and none is imported for a request that needs no effect).
HANDLERS: dict[str, str] = {
    EffectKind.PERMISSIONS: "admin:permissions",
    EffectKind.AUTHORIZE: "admin:authorize",
    EffectKind.ADMIN_FORMS: "admin:admin_forms",
    EffectKind.ADMIN_LIST: "changelist:admin_list",
    EffectKind.ADMIN_RETRIEVE: "admin:admin_retrieve",
    EffectKind.ADMIN_CREATE: "admin_write:admin_create",
    EffectKind.ADMIN_UPDATE: "admin_write:admin_update",
    EffectKind.ADMIN_DELETE: "admin_write:admin_delete",
    EffectKind.ADMIN_ACTION: "admin_actions:admin_action",
    EffectKind.RESOURCE_OBJECT: "resources:resource_object",
    EffectKind.RESOURCE_FILE: "resources:resource_file",
    EffectKind.RESOURCE_OBJECTS: "resources:resource_objects",
    EffectKind.MODEL_SEARCH: "search:model_search",
    EffectKind.CUSTOM_TOOL: "custom:custom_tool",
    EffectKind.CUSTOM_RESOURCE: "custom:custom_resource",
    EffectKind.CUSTOM_PROMPT: "custom:custom_prompt",
    EffectKind.VIEW_CALL: "views:view_call",
    EffectKind.DRF_CALL: "drf:drf_call",
}


def _handler(kind: str | None) -> Callable[[Any, CallerContext, Registry], JSON] | None:
    """The handler of `kind`, looked up when called (a test may replace one), or None."""
    where = HANDLERS.get(kind) if kind is not None else None
    if where is None:
        return None
    module, name = where.split(":")
    handler: Callable[[Any, CallerContext, Registry], JSON] = getattr(
        importlib.import_module(f"django_mcp.effects.{module}"), name
    )
    return handler


class EffectRunner:
    """Runs effect batches for one request; `sink` receives the notifications it may send."""

    #: The kinds it carries out (tests/python/test_seam.py holds them to the seam's).
    handlers = HANDLERS

    def __init__(self, caller: CallerContext, registry: Registry, sink: Callable[[str], None] | None = None) -> None:
        self.caller = caller
        self.registry = registry
        self.sink = sink

    def __call__(self, effects: list[Effect], notify: dict[str, JSON] | None = None) -> list[dict[str, JSON]]:
        if notify is not None:
            self.caller.notifications = Notifications(notify, self.sink)
        results: list[dict[str, JSON]] = []
        for effect in effects:
            if results and "error" in results[-1]:
                results.append(SKIPPED)
                continue
            results.append(self._one(effect))
        return results

    def _one(self, effect: Effect) -> dict[str, JSON]:
        kind = effect.get("kind")
        with telemetry.effect(kind) as observed:
            return observed.finished(self._run(kind, effect))

    def _run(self, kind: str | None, effect: Effect) -> dict[str, JSON]:
        handler = _handler(kind)
        if handler is None:
            return EffectError(HostErrorKind.INTERNAL, f"unknown effect {kind!r}").to_json()
        try:
            return {"ok": handler(effect, self.caller, self.registry)}
        except EffectError as exc:
            return exc.to_json()
        except Exception as exc:
            refused = collisions.refusal(exc)
            if refused is not None:
                logger.warning(
                    "effect %s refused by the database [correlation_id=%s]",
                    kind,
                    self.caller.correlation_id,
                    exc_info=True,
                )
                return refused.to_json()
            logger.exception("effect %s failed [correlation_id=%s]", kind, self.caller.correlation_id)
            message = f"internal error (correlation id {self.caller.correlation_id})"
            return EffectError(HostErrorKind.INTERNAL, message).to_json()
