"""A custom tool that deadlocks with itself on purpose, for test_concurrency_postgres.py
(DJANGO_MCP_CUSTOM = ["concurrency_items"]): it retitles two books in one transaction and waits,
between the two, until a second call has retitled the other one first."""

import threading

from django.db import transaction

from django_mcp.custom import Tool

BETWEEN = threading.Barrier(2)


def retitle_both(arguments, call):
    from library.models import Book

    with transaction.atomic():
        Book.objects.filter(pk=arguments["first"]).update(title=arguments["title"])
        BETWEEN.wait(timeout=30)
        Book.objects.filter(pk=arguments["second"]).update(title=arguments["title"])
    return [{"type": "text", "text": "retitled"}]


TOOLS = [
    Tool(
        "retitle_both",
        retitle_both,
        "Retitle two books",
        input_schema={
            "type": "object",
            "required": ["first", "second", "title"],
            "properties": {"first": {"type": "integer"}, "second": {"type": "integer"}, "title": {"type": "string"}},
        },
    )
]
