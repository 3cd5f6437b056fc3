"""The values spans and metrics are labelled with, kept few: a method the client made up is
`_OTHER` (as the semantic conventions say), so no client grows a metric's series or a trace
backend's span names without bound."""

#: The methods of MCP's revisions this server answers or is sent, and the audit line's own
#: words for a message without one (`<unknown>`) or refused before it was read (`<pre-dispatch>`).
METHODS = frozenset(
    {
        "initialize",
        "ping",
        "server/discover",
        "logging/setLevel",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "resources/subscribe",
        "resources/unsubscribe",
        "prompts/list",
        "prompts/get",
        "completion/complete",
        "notifications/initialized",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/roots/list_changed",
        "<unknown>",
        "<pre-dispatch>",
    }
)
OTHER = "_OTHER"


def method(name):
    return name if name in METHODS else OTHER


def error_type(method_name, outcome, error_code):
    """The conventions' `error.type`: the JSON-RPC error code; `tool_error` for a tool's
    result marked `isError`; else the audit outcome of a refusal; None for a success."""
    if error_code is not None:
        return str(error_code)
    if outcome == "allow":
        return None
    return "tool_error" if method_name == "tools/call" else outcome
