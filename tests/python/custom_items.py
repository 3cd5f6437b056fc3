"""Custom items the tests declare (DJANGO_MCP_CUSTOM = ["custom_items"])."""

from django_mcp.custom import Argument, Prompt, Resource, Tool


def count_books(arguments, call):
    from library.models import Book

    call.log("debug", "counting")
    call.progress(0, 2)
    total = Book.objects.filter(title__icontains=arguments.get("contains", "")).count()
    call.log("info", {"counted": total}, logger="library")
    call.progress(2, 2, "done")
    return {"content": [{"type": "text", "text": str(total)}], "structuredContent": {"count": total}}


def confirm_then_answer(arguments, call):
    """Asks the client to confirm, remembering the question's number in the signed state."""
    if call.state is None or "confirm" not in call.input_responses:
        raise call.ask(
            {
                "confirm": {
                    "method": "elicitation/create",
                    "params": {
                        "message": "Sure?",
                        "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
                    },
                }
            },
            state={"question": 1},
        )
    answer = call.input_responses["confirm"].get("content", {}).get("ok")
    return [{"type": "text", "text": f"question {call.state['question']} answered {answer} by {call.user.username}"}]


def shelf(uri, variables, call):
    if variables["name"] == "missing":
        return None
    return [{"mimeType": "text/plain", "text": f"shelf {variables['name']}"}]


def greeting(arguments, call):
    return [{"role": "user", "content": {"type": "text", "text": f"Say hello in {arguments['language']}."}}]


TOOLS = [
    Tool(
        "count_books",
        count_books,
        "Count the books whose title contains a text",
        read_only=True,
        input_schema={"type": "object", "properties": {"contains": {"type": "string", "maxLength": 20}}},
        output_schema={"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]},
    ),
    Tool("confirm_then_answer", confirm_then_answer, "Asks first", read_only=True),
    Tool("staff_only_tool", count_books, "Needs a permission bob lacks", permission="library.change_book"),
]
RESOURCES = [
    Resource(
        "library://motto",
        "Motto",
        lambda uri, variables, call: [{"mimeType": "text/plain", "text": "Read more."}],
        mime_type="text/plain",
    ),
    Resource(
        "library://secret",
        "Secret",
        lambda uri, variables, call: [{"text": "for editors"}],
        permission="library.change_book",
    ),
]
RESOURCE_TEMPLATES = [
    Resource("library://shelf/{name}", "Shelf", shelf, completions={"name": ["fiction", "fantasy", "history"]}),
]
PROMPTS = [
    Prompt(
        "greeting",
        greeting,
        "Greet in a language",
        arguments=[Argument("language", "Which language", required=True, choices=["English", "Esperanto", "French"])],
    ),
]
