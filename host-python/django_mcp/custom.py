"""Custom items: tools, resources and prompts a project declares by hand.

Everything else this package serves is derived from what Django already knows. For the rare
thing no admin, view or model describes, a module listed in ``DJANGO_MCP_CUSTOM`` may
declare items in module-level lists ``TOOLS``, ``RESOURCES``, ``RESOURCE_TEMPLATES`` and
``PROMPTS``. The engine names, lists, validates and gates them like derived ones; the host
runs their callables for the caller::

    def echo(arguments, call):
        call.progress(1, 1)
        return [{"type": "text", "text": arguments["text"]}]

    TOOLS = [Tool("echo", echo, description="Say it back",
                  input_schema={"type": "object", "properties": {"text": {"type": "string"}},
                                "required": ["text"]})]

A handler receives the validated arguments and a :class:`Call` (``user``, ``request()``,
``progress()``, ``log()``, and for questions to the client ``ask()``, ``input_responses``,
``state``, ``client_capabilities``). A tool returns a list of MCP content blocks, or a whole result
``{"content": …, "isError": …, "structuredContent": …}``; a resource reader returns its
``contents`` list; a prompt renderer its ``messages`` list or ``{"description", "messages"}``.
"""

import dataclasses
from collections.abc import Callable, Mapping, Sequence


@dataclasses.dataclass(frozen=True)
class Tool:
    name: str
    handler: Callable
    description: str = ""
    title: str | None = None
    input_schema: Mapping = dataclasses.field(default_factory=lambda: {"type": "object"})
    output_schema: Mapping | None = None
    read_only: bool = False
    destructive: bool = True
    idempotent: bool = False
    #: ``app_label.codename``; None lets any authenticated caller use it.
    permission: str | None = None
    #: Client capabilities the tool cannot work without (e.g. ``("sampling",)``).
    client_capabilities: Sequence[str] = ()

    def facts(self):
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "input_schema": dict(self.input_schema),
            "output_schema": self.output_schema,
            "read_only": self.read_only,
            "destructive": self.destructive,
            "idempotent": self.idempotent,
            "permission": self.permission,
            "client_capabilities": list(self.client_capabilities),
        }


@dataclasses.dataclass(frozen=True)
class Resource:
    """A resource at ``uri``; in ``RESOURCE_TEMPLATES``, ``uri`` is a template whose
    ``{name}`` parts match one path segment each and reach ``read`` as ``variables``."""

    uri: str
    name: str
    read: Callable
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None
    permission: str | None = None
    #: Template variable → the values ``completion/complete`` offers.
    completions: Mapping[str, Sequence[str]] = dataclasses.field(default_factory=dict)

    def facts(self):
        return {
            "uri": self.uri,
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "mime_type": self.mime_type,
            "permission": self.permission,
            "completions": {k: [str(v) for v in values] for k, values in self.completions.items()},
        }


@dataclasses.dataclass(frozen=True)
class Argument:
    name: str
    description: str | None = None
    required: bool = False
    choices: Sequence[str] = ()


@dataclasses.dataclass(frozen=True)
class Prompt:
    name: str
    render: Callable
    description: str | None = None
    title: str | None = None
    arguments: Sequence[Argument] = ()
    permission: str | None = None

    def facts(self):
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "permission": self.permission,
            "arguments": [
                {"name": a.name, "description": a.description, "required": a.required, "choices": list(a.choices)}
                for a in self.arguments
            ],
        }


class InputRequired(Exception):
    """Raised (as ``call.ask(requests, state)``) by a handler that needs the client's answers
    first: ``requests`` maps keys to ``{"method": "elicitation/create" | "sampling/createMessage"
    | "roots/list", "params": …}``; ``state`` (any JSON value) comes back, verified, as
    ``call.state`` with the answers in ``call.input_responses``, and only to the same call
    (item, user, arguments). It is signed, not encrypted: the client can read it, so it must
    hold nothing secret."""

    def __init__(self, requests, state=None):
        super().__init__("input required")
        self.requests = requests
        self.state = state
