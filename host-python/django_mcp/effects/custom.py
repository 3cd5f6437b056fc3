"""Run the callables of custom items (django_mcp.custom) for the caller.

A handler that needs answers from the client raises ``call.ask(...)``; the client calls
again with its answers and the ``requestState`` it was given, which is signed here so that no
server keeps it and no client can forge it. It is bound to the item, the user and a digest of
the call's arguments, so an answer given about one call cannot resume another; a random nonce
makes every state unique. Signed, not encrypted: the client can read it (docs/security.md).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core import signing
from django.http import HttpRequest

from django_mcp.custom import InputRequired
from django_mcp.effects import EffectError, NotFound
from django_mcp.seam import JSON, ClientInput, CustomPrompt, CustomResource, CustomTool

if TYPE_CHECKING:
    from django_mcp.facts.registry import Registry
    from django_mcp.requests import CallerContext

STATE_SALT = "django_mcp.request_state"
#: How long a client may take to answer (seconds).
STATE_MAX_AGE = 3600


class Call:
    """What a custom handler gets besides its arguments: who is calling, how to report, and
    (in a multi-round request) the client's answers and the state of the previous round."""

    def __init__(self, caller: CallerContext, effect: ClientInput, item: str, arguments: JSON) -> None:
        self._caller = caller
        self._item = item
        self._arguments = _digest(arguments)
        self.user = caller.user
        #: The client's answers to the last round's questions, by key ({} in the first round).
        self.input_responses = effect.get("input_responses") or {}
        #: What the client may be asked (`elicitation`, `sampling`, `roots`); None when the
        #: client speaks a handshake revision and cannot be asked at all.
        self.client_capabilities = effect.get("client_capabilities")
        #: The state the last round attached to its questions, verified.
        self.state = self._verified(effect.get("request_state"))

    def ask(self, requests: dict[str, JSON], state: JSON = None) -> InputRequired:
        """The exception that asks the client `requests` ({key: {"method", "params"}})."""
        return InputRequired(requests, state)

    def _subject(self) -> list[JSON]:
        return [self._item, getattr(self.user, "pk", None)]

    def _verified(self, token: str | None) -> JSON:
        if token is None:
            return None
        try:
            signed = signing.loads(token, salt=STATE_SALT, max_age=STATE_MAX_AGE)
        except (signing.BadSignature, ValueError, TypeError):  # tampered, or not a signed value at all
            raise EffectError("invalid", "requestState failed its integrity check") from None
        if not isinstance(signed, dict) or not {"for", "state"} <= signed.keys():
            raise EffectError("invalid", "requestState failed its integrity check")
        if signed.get("for") != self._subject():
            raise EffectError(
                "invalid", "requestState belongs to another request: it was issued for another item or user"
            )
        if signed.get("arguments") != self._arguments:
            raise EffectError("invalid", "requestState belongs to another request: it was issued for other arguments")
        return signed.get("state")

    def _sign(self, state: JSON) -> str:
        payload = {
            "for": self._subject(),
            "arguments": self._arguments,
            "nonce": secrets.token_urlsafe(16),
            "state": state,
        }
        return signing.dumps(payload, salt=STATE_SALT, compress=True)

    def request(
        self, method: str = "GET", path: str = "/__mcp__/", query: dict[str, JSON] | None = None
    ) -> HttpRequest:
        return self._caller.request(method, path, query)

    def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        self._caller.notifications.progress(progress, total, message)

    def log(self, level: str, data: JSON, logger: str | None = None) -> None:
        self._caller.notifications.log(level, data, logger)


def _run(call: Call, handler: Callable[..., Any], *args: Any) -> tuple[Any, dict[str, JSON] | None]:
    """The handler's return value, or the client's questions if it asks."""
    try:
        return handler(*args, call), None
    except InputRequired as asked:
        question: dict[str, JSON] = {"inputRequests": asked.requests}
        if asked.state is not None:
            question["requestState"] = call._sign(asked.state)
        return None, {"input_required": question}


def _digest(arguments: JSON) -> str:
    """The SHA-256 of the arguments' canonical JSON (keys sorted: their order is not part of
    the call): it binds a state to the arguments without carrying them."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def custom_tool(effect: CustomTool, caller: CallerContext, registry: Registry) -> dict[str, JSON]:
    tool = registry.custom.tools[effect["tool"]]
    call = Call(caller, effect, f"tool:{tool.name}", effect["arguments"])
    result, asked = _run(call, tool.handler, effect["arguments"])
    if asked:
        return asked
    if isinstance(result, dict):
        if not isinstance(result.get("content"), list):
            raise EffectError("internal", f"custom tool {tool.name} returned a result without a content list")
        return {"isError": False, **result}
    return {"content": list(result), "isError": False}


def custom_resource(effect: CustomResource, caller: CallerContext, registry: Registry) -> dict[str, JSON]:
    resource = registry.custom.resources[effect["template"]]
    call = Call(caller, effect, f"resource:{effect['uri']}", effect["variables"])
    contents, asked = _run(call, resource.read, effect["uri"], effect["variables"])
    if asked:
        return asked
    if contents is None:
        raise NotFound(f"no resource {effect['uri']}")
    return {"contents": [{"uri": effect["uri"], **item} for item in contents]}


def custom_prompt(effect: CustomPrompt, caller: CallerContext, registry: Registry) -> dict[str, JSON]:
    prompt = registry.custom.prompts[effect["name"]]
    call = Call(caller, effect, f"prompt:{prompt.name}", effect["arguments"])
    rendered, asked = _run(call, prompt.render, effect["arguments"])
    if asked:
        return asked
    if isinstance(rendered, dict):
        return rendered
    result: dict[str, JSON] = {"messages": list(rendered)}
    if prompt.description:
        result["description"] = prompt.description
    return result
