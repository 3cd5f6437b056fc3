"""Custom items that ask the client before they act (DJANGO_MCP_CUSTOM = ["custom_items_rounds"]):
a confirmation is asked about one call, and must not carry over to another."""

from django_mcp.custom import Argument, Prompt, Tool

YES_OR_NO = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
BOOK = {
    "type": "object",
    "properties": {"pk": {"type": "integer"}, "title": {"type": "string", "maxLength": 200}},
    "required": ["pk"],
}


def confirmed(call, message):
    """Whether the client said yes to `message`; asks it in the first round."""
    if call.state is None:
        raise call.ask(
            {"confirm": {"method": "elicitation/create", "params": {"message": message, "requestedSchema": YES_OR_NO}}},
            state={"asked": message},
        )
    answer = call.input_responses.get("confirm", {})
    return answer.get("action") == "accept" and answer.get("content", {}).get("ok") is True


def retitle_book(arguments, call):
    from library.models import Book

    if not confirmed(call, f"Retitle book {arguments['pk']} to {arguments.get('title')!r}?"):
        return [{"type": "text", "text": "left as it was"}]
    Book.objects.filter(pk=arguments["pk"]).update(title=arguments["title"])
    return [{"type": "text", "text": f"book {arguments['pk']} retitled"}]


def delete_book(arguments, call):
    from library.models import Book

    if not confirmed(call, f"Delete book {arguments['pk']}?"):
        return [{"type": "text", "text": "kept"}]
    Book.objects.filter(pk=arguments["pk"]).delete()
    return [{"type": "text", "text": f"book {arguments['pk']} deleted"}]


def announcement(arguments, call):
    if not confirmed(call, f"Announce {arguments['topic']}?"):
        return [{"role": "user", "content": {"type": "text", "text": "Say nothing."}}]
    return [{"role": "user", "content": {"type": "text", "text": f"Announce {arguments['topic']}."}}]


TOOLS = [
    Tool(
        "retitle_book",
        retitle_book,
        "Retitle a book once the user confirms",
        input_schema=BOOK,
        permission="library.change_book",
    ),
    Tool(
        "delete_book",
        delete_book,
        "Delete a book once the user confirms",
        input_schema=BOOK,
        permission="library.delete_book",
    ),
]
PROMPTS = [
    Prompt(
        "announcement",
        announcement,
        "Announce a topic once the user confirms",
        arguments=[Argument("topic", "What to announce", required=True)],
    ),
]
