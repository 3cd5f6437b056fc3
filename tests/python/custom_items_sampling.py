"""A custom tool that cannot work without the client's sampling capability."""

from django_mcp.custom import Tool

TOOLS = [
    Tool(
        "needs_sampling",
        lambda arguments, call: [{"type": "text", "text": "ran"}],
        read_only=True,
        client_capabilities=("sampling",),
    )
]
