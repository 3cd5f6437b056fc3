"""Toolset patterns (`library.*`, `library.Book.update`, `*.read`): the grammar the engine
matches by (component/src/protocol/toolset.rs), checked here where operators write them."""

import re

VERBS = ("read", "write", "list", "get", "create", "update", "delete", "action", "search")

_SEGMENT = r"(?:\*|[A-Za-z0-9_]+)"
PATTERN = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})?\.(?:\*|{'|'.join(VERBS)})")


def check_patterns(patterns):
    """`patterns` as a list, or ValueError naming the first that is no pattern."""
    if isinstance(patterns, str):
        raise ValueError("a toolset is a list of patterns, not a string")
    for pattern in patterns:
        if not isinstance(pattern, str) or not PATTERN.fullmatch(pattern):
            raise ValueError(
                f"{pattern!r} is not a toolset pattern: write app.verb or app.Model.verb, "
                f"each part a name or *, the verb * or one of {', '.join(VERBS)}"
            )
    return list(patterns)
