"""Carry out the effects the engine returns, in order, as JSON results.

Each handler returns a JSON value (sent as ``{"ok": value}``) or raises ``EffectError``
(sent as ``{"error": {...}}``). The first error stops the batch: later effects are
answered ``skipped`` and never run. An unexpected exception is logged with the request's
correlation id and reported as ``internal``; its text never reaches the client.
"""

import logging

from django_mcp import telemetry
from django_mcp.effects import collisions
from django_mcp.notifications import Notifications

logger = logging.getLogger("django_mcp.effects")


class EffectError(Exception):
    def __init__(self, kind, message="", fields=None, retry_after=None):
        super().__init__(message or kind)
        self.kind = kind
        self.message = message
        self.fields = fields
        #: Seconds until a `rate_limited` caller may try again.
        self.retry_after = retry_after

    def to_json(self):
        error = {"kind": self.kind, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        if self.retry_after is not None:
            error["retry_after"] = self.retry_after
        return {"error": error}


class Forbidden(EffectError):
    def __init__(self, message="forbidden"):
        super().__init__("forbidden", message)


class NotFound(EffectError):
    def __init__(self, message="not found"):
        super().__init__("not_found", message)


SKIPPED = {"error": {"kind": "skipped", "message": "an earlier effect failed"}}


class EffectRunner:
    """Runs effect batches for one request; `sink` receives the notifications it may send."""

    def __init__(self, caller, registry, sink=None):
        from django_mcp.effects import (
            admin, admin_actions, admin_write, changelist, custom, drf, resources, search, views,
        )

        self.caller = caller
        self.registry = registry
        self.sink = sink
        self.handlers = {
            "permissions": admin.permissions,
            "authorize": admin.authorize,
            "admin.list": changelist.admin_list,
            "admin.retrieve": admin.admin_retrieve,
            "admin.create": admin_write.admin_create,
            "admin.update": admin_write.admin_update,
            "admin.delete": admin_write.admin_delete,
            "admin.action": admin_actions.admin_action,
            "resource.object": resources.resource_object,
            "resource.file": resources.resource_file,
            "resource.objects": resources.resource_objects,
            "model.search": search.model_search,
            "custom.tool": custom.custom_tool,
            "custom.resource": custom.custom_resource,
            "custom.prompt": custom.custom_prompt,
            "view.call": views.view_call,
            "drf.call": drf.drf_call,
        }

    def __call__(self, effects, notify=None):
        if notify is not None:
            self.caller.notifications = Notifications(notify, self.sink)
        results = []
        for effect in effects:
            if results and "error" in results[-1]:
                results.append(SKIPPED)
                continue
            results.append(self._one(effect))
        return results

    def _one(self, effect):
        kind = effect.get("kind")
        with telemetry.effect(kind) as observed:
            return observed.finished(self._run(kind, effect))

    def _run(self, kind, effect):
        handler = self.handlers.get(kind)
        if handler is None:
            return EffectError("internal", f"unknown effect {kind!r}").to_json()
        try:
            return {"ok": handler(effect, self.caller, self.registry)}
        except EffectError as exc:
            return exc.to_json()
        except Exception as exc:
            refused = collisions.refusal(exc)
            if refused is not None:
                logger.warning("effect %s refused by the database [correlation_id=%s]", kind,
                               self.caller.correlation_id, exc_info=True)
                return refused.to_json()
            logger.exception("effect %s failed [correlation_id=%s]", kind, self.caller.correlation_id)
            message = f"internal error (correlation id {self.caller.correlation_id})"
            return EffectError("internal", message).to_json()
