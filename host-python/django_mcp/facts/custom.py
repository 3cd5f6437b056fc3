"""The custom items' facts, gathered from the modules ``DJANGO_MCP_CUSTOM`` lists.

Apart from the items' classes (django_mcp.custom), which only the modules declaring items
import: a project that declares none never creates them.
"""

import importlib
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from django_mcp import conf


class CustomRegistry:
    """The declared items by name, for the effects that run them."""

    def __init__(self) -> None:
        self.tools: dict[str, Any] = {}
        self.resources: dict[str, Any] = {}
        self.prompts: dict[str, Any] = {}

    def facts(self, modules: Iterable[str | ModuleType]) -> dict[str, list[dict[str, Any]]]:
        facts: dict[str, list[dict[str, Any]]] = {"tools": [], "resources": [], "resource_templates": [], "prompts": []}
        for path in modules:
            module = importlib.import_module(path) if isinstance(path, str) else path
            for tool in getattr(module, "TOOLS", ()):
                self.tools[tool.name] = tool
                facts["tools"].append(tool.facts())
            for kind in ("resources", "resource_templates"):
                for resource in getattr(module, kind.upper(), ()):
                    self.resources[resource.uri] = resource
                    facts[kind].append(resource.facts())
            for prompt in getattr(module, "PROMPTS", ()):
                self.prompts[prompt.name] = prompt
                facts["prompts"].append(prompt.facts())
        return facts


def collect() -> tuple[CustomRegistry, dict[str, list[dict[str, Any]]]]:
    registry = CustomRegistry()
    return registry, registry.facts(conf.get("DJANGO_MCP_CUSTOM"))
