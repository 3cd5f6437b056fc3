"""The fixture items of the MCP conformance suite (names and contents are the suite's)."""

import base64
import json
import time

from django_mcp.custom import Argument, Prompt, Resource, Tool

# A 1x1 red PNG and a short silent WAV.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
        "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
    )
).decode()
WAV = base64.b64encode(
    b"RIFF"
    + (36 + 8).to_bytes(4, "little")
    + b"WAVEfmt "
    + (16).to_bytes(4, "little")
    + (1).to_bytes(2, "little")
    + (1).to_bytes(2, "little")
    + (8000).to_bytes(4, "little")
    + (16000).to_bytes(4, "little")
    + (2).to_bytes(2, "little")
    + (16).to_bytes(2, "little")
    + b"data"
    + (8).to_bytes(4, "little")
    + bytes(8)
).decode()


def text(value):
    return {"type": "text", "text": value}


def simple_text(arguments, call):
    return [text("This is a simple text response for testing.")]


def image_content(arguments, call):
    return [{"type": "image", "data": PNG, "mimeType": "image/png"}]


def audio_content(arguments, call):
    return [{"type": "audio", "data": WAV, "mimeType": "audio/wav"}]


def embedded_resource(arguments, call):
    return [
        {
            "type": "resource",
            "resource": {
                "uri": "test://embedded-resource",
                "mimeType": "text/plain",
                "text": "This is an embedded resource content.",
            },
        }
    ]


def multiple_content_types(arguments, call):
    return [
        text("Multiple content types test:"),
        {"type": "image", "data": PNG, "mimeType": "image/png"},
        {
            "type": "resource",
            "resource": {
                "uri": "test://mixed-content-resource",
                "mimeType": "application/json",
                "text": json.dumps({"test": "data", "value": 123}),
            },
        },
    ]


def with_logging(arguments, call):
    call.log("info", "Tool execution started")
    time.sleep(0.05)
    call.log("info", "Tool processing data")
    time.sleep(0.05)
    call.log("info", "Tool execution completed")
    return [text("Tool with logging executed successfully")]


def with_progress(arguments, call):
    for step in (0, 50, 100):
        call.progress(step, 100)
        if step < 100:
            time.sleep(0.05)
    return [text("Tool with progress executed successfully")]


def error_handling(arguments, call):
    return {"content": [text("This tool intentionally returns an error for testing")], "isError": True}


def missing_capability(arguments, call):
    # Never reached without the client's sampling capability: the engine refuses first.
    return [text("The client declared sampling.")]


NO_ARGUMENTS = {"type": "object", "properties": {}}

TOOLS = [
    Tool("test_simple_text", simple_text, "Returns simple text", input_schema=NO_ARGUMENTS, read_only=True),
    Tool("test_image_content", image_content, "Returns an image", input_schema=NO_ARGUMENTS, read_only=True),
    Tool("test_audio_content", audio_content, "Returns audio", input_schema=NO_ARGUMENTS, read_only=True),
    Tool(
        "test_embedded_resource",
        embedded_resource,
        "Returns an embedded resource",
        input_schema=NO_ARGUMENTS,
        read_only=True,
    ),
    Tool(
        "test_multiple_content_types",
        multiple_content_types,
        "Returns mixed content",
        input_schema=NO_ARGUMENTS,
        read_only=True,
    ),
    Tool("test_tool_with_logging", with_logging, "Logs three messages", input_schema=NO_ARGUMENTS, read_only=True),
    Tool("test_logging_tool", with_logging, "Logs three messages", input_schema=NO_ARGUMENTS, read_only=True),
    Tool("test_tool_with_progress", with_progress, "Reports progress", input_schema=NO_ARGUMENTS, read_only=True),
    Tool("test_error_handling", error_handling, "Always fails", input_schema=NO_ARGUMENTS, read_only=True),
    Tool(
        "test_missing_capability",
        missing_capability,
        "Needs the client's sampling capability",
        input_schema=NO_ARGUMENTS,
        read_only=True,
        client_capabilities=("sampling",),
    ),
]


def static_text(uri, variables, call):
    return [{"mimeType": "text/plain", "text": "This is the content of the static text resource."}]


def static_binary(uri, variables, call):
    return [{"mimeType": "image/png", "blob": PNG}]


def template_data(uri, variables, call):
    ident = variables["id"]
    body = {"id": ident, "templateTest": True, "data": f"Data for ID: {ident}"}
    return [{"mimeType": "application/json", "text": json.dumps(body)}]


def watched(uri, variables, call):
    return [{"mimeType": "text/plain", "text": "Watched resource content."}]


RESOURCES = [
    Resource(
        "test://static-text", "Static text", static_text, description="A static text resource", mime_type="text/plain"
    ),
    Resource("test://static-binary", "Static binary", static_binary, description="A 1x1 PNG", mime_type="image/png"),
    Resource(
        "test://watched-resource",
        "Watched",
        watched,
        description="A resource clients may watch",
        mime_type="text/plain",
    ),
]

RESOURCE_TEMPLATES = [
    Resource(
        "test://template/{id}/data",
        "Template data",
        template_data,
        description="Data by id",
        mime_type="application/json",
        completions={"id": ["1", "2", "3", "123"]},
    ),
]


def simple_prompt(arguments, call):
    return [{"role": "user", "content": text("This is a simple prompt for testing.")}]


def prompt_with_arguments(arguments, call):
    return [
        {
            "role": "user",
            "content": text(f"Prompt with arguments: arg1='{arguments['arg1']}', arg2='{arguments['arg2']}'"),
        }
    ]


def prompt_with_embedded_resource(arguments, call):
    return [
        {
            "role": "user",
            "content": {
                "type": "resource",
                "resource": {
                    "uri": arguments["resourceUri"],
                    "mimeType": "text/plain",
                    "text": "Embedded resource content for testing.",
                },
            },
        },
        {"role": "user", "content": text("Please process the embedded resource above.")},
    ]


def prompt_with_image(arguments, call):
    return [
        {"role": "user", "content": {"type": "image", "data": PNG, "mimeType": "image/png"}},
        {"role": "user", "content": text("Please analyze the image above.")},
    ]


PROMPTS = [
    Prompt("test_simple_prompt", simple_prompt, "A simple prompt without arguments"),
    Prompt(
        "test_prompt_with_arguments",
        prompt_with_arguments,
        "A prompt with two arguments",
        arguments=[
            Argument("arg1", "First test argument", required=True, choices=["paris", "park", "party", "hello"]),
            Argument("arg2", "Second test argument", required=True, choices=["world"]),
        ],
    ),
    Prompt(
        "test_prompt_with_embedded_resource",
        prompt_with_embedded_resource,
        "A prompt embedding a resource",
        arguments=[Argument("resourceUri", "URI of the resource to embed", required=True)],
    ),
    Prompt("test_prompt_with_image", prompt_with_image, "A prompt with an image"),
]


def schema_2020_12(arguments, call):
    return [text(json.dumps(arguments))]


# The suite checks that 2020-12 keywords reach the listing untouched.
SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}

TOOLS.append(
    Tool(
        "json_schema_2020_12_tool",
        schema_2020_12,
        "Tool with JSON Schema 2020-12 features",
        input_schema=SCHEMA_2020_12,
        read_only=True,
    )
)


# Multi round-trip requests (2026-07-28): questions for the client, answered in a second call.
def elicit(message, properties):
    return {
        "method": "elicitation/create",
        "params": {
            "message": message,
            "requestedSchema": {"type": "object", "properties": properties, "required": list(properties)},
        },
    }


def sample(prompt, max_tokens):
    return {
        "method": "sampling/createMessage",
        "params": {
            "messages": [{"role": "user", "content": text(prompt)}],
            "maxTokens": max_tokens,
        },
    }


ROOTS = {"method": "roots/list", "params": {}}
ASK_NAME = elicit("What is your name?", {"name": {"type": "string"}})


def answered(call, *keys):
    return all(isinstance(call.input_responses.get(k), dict) for k in keys)


def elicited(call, key, field):
    return (call.input_responses[key].get("content") or {}).get(field)


def ask_name(arguments, call):
    if not answered(call, "user_name"):
        raise call.ask({"user_name": ASK_NAME})
    return [text(f"Hello, {elicited(call, 'user_name', 'name')}!")]


def ask_capital(arguments, call):
    if not answered(call, "capital_question"):
        raise call.ask({"capital_question": sample("What is the capital of France?", 100)})
    reply = call.input_responses["capital_question"].get("content") or {}
    return [text(f"The model said: {reply.get('text', '')}")]


def ask_roots(arguments, call):
    if not answered(call, "client_roots"):
        raise call.ask({"client_roots": ROOTS})
    roots = call.input_responses["client_roots"].get("roots") or []
    return [text("Roots: " + ", ".join(r.get("uri", "?") for r in roots))]


def ask_with_state(arguments, call):
    if call.state != "awaiting-confirmation" or not answered(call, "confirm"):
        raise call.ask(
            {"confirm": elicit("Please confirm", {"ok": {"type": "boolean"}})}, state="awaiting-confirmation"
        )
    return [text("state-ok: confirmed")]


def ask_many(arguments, call):
    keys = ("user_name", "greeting", "client_roots")
    if call.state != "round-1" or not answered(call, *keys):
        raise call.ask(
            {"user_name": ASK_NAME, "greeting": sample("Generate a greeting", 50), "client_roots": ROOTS},
            state="round-1",
        )
    return [text(f"All answers received for {elicited(call, 'user_name', 'name')}")]


def ask_in_rounds(arguments, call):
    if call.state is None or not call.input_responses:
        raise call.ask(
            {"step1": elicit("Step 1: What is your name?", {"name": {"type": "string"}})}, state={"round": 1}
        )
    if call.state == {"round": 1} and answered(call, "step1"):
        name = elicited(call, "step1", "name")
        raise call.ask(
            {"step2": elicit("Step 2: What is your favorite color?", {"color": {"type": "string"}})},
            state={"round": 2, "name": name},
        )
    if call.state.get("round") == 2 and answered(call, "step2"):
        return [text(f"{call.state['name']} likes {elicited(call, 'step2', 'color')}")]
    raise call.ask({"step1": elicit("Step 1: What is your name?", {"name": {"type": "string"}})}, state={"round": 1})


def ask_within_capabilities(arguments, call):
    capabilities = call.client_capabilities or {}
    questions = {}
    if "elicitation" in capabilities:
        questions["user_name"] = ASK_NAME
    if "sampling" in capabilities:
        questions["greeting"] = sample("Generate a greeting", 50)
    if questions and not answered(call, *questions):
        raise call.ask(questions)
    return [text("Nothing to ask this client." if not questions else "Thanks for the answers.")]


TOOLS += [
    Tool(name, handler, "Asks the client before it answers", input_schema=NO_ARGUMENTS, read_only=True)
    for name, handler in [
        ("test_input_required_result_elicitation", ask_name),
        ("test_input_required_result_sampling", ask_capital),
        ("test_input_required_result_list_roots", ask_roots),
        ("test_input_required_result_request_state", ask_with_state),
        ("test_input_required_result_tampered_state", ask_with_state),
        ("test_input_required_result_multiple_inputs", ask_many),
        ("test_input_required_result_multi_round", ask_in_rounds),
        ("test_input_required_result_capabilities", ask_within_capabilities),
        ("test_streaming_elicitation", ask_name),
    ]
]


def prompt_with_context(arguments, call):
    if not answered(call, "user_context"):
        raise call.ask({"user_context": elicit("What context should the prompt use?", {"context": {"type": "string"}})})
    return [{"role": "user", "content": text(f"Use this context: {elicited(call, 'user_context', 'context')}")}]


PROMPTS.append(Prompt("test_input_required_result_prompt", prompt_with_context, "A prompt that asks for context first"))
