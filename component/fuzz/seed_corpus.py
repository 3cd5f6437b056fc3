#!/usr/bin/env python3
"""Write the seed corpus (corpus/<target>/) from the recorded transcripts in tests/transcripts/,
plus requests for the custom items of extra-facts.json, states for the work the transcripts
never wait on, and the inputs that once crashed the engine (`regression-*`).

Run it again when the transcripts are re-recorded: `python3 component/fuzz/seed_corpus.py`.
Inputs use the line formats the targets read (src/lib.rs): a conversation is the step
context (JSON), the client's message as sent, then one results array per effect round; a
continuation is a state, then its results.
"""

import json
import shutil
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
TRANSCRIPTS = FUZZ.parent.parent / "tests" / "transcripts"
CORPUS = FUZZ / "corpus"

ALICE = {"user_id": 1, "key_id": "fuzz-key", "allowed_tools": []}
STATELESS = "2026-07-28"


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def realistic_facts():
    """The same document `realistic_facts()` in src/lib.rs builds."""
    facts = json.loads((TRANSCRIPTS / "facts" / "library.json").read_text())
    facts.update(json.loads((FUZZ / "extra-facts.json").read_text()))
    facts["settings"]["test_hooks"] = False
    return facts


def conversations(path):
    """Each request in a transcript: its context, message and the results of its rounds;
    and each continuation: its state and results."""
    requests, continuations = [], []
    for line in path.read_text().splitlines():
        if not line.startswith(">> "):
            continue
        step = json.loads(line[3:])
        if "message" in step:
            requests.append({"context": step.get("context", {}), "message": step["message"], "rounds": []})
        elif "resume" in step and requests:
            requests[-1]["rounds"].append(step["results"])
            continuations.append((step["resume"], step["results"]))
    return requests, continuations


def stateless(method, params, name=None, capabilities=None):
    """A 2026-07-28 request of the extra custom items, with the headers that must match it."""
    params = dict(
        params,
        _meta={
            "io.modelcontextprotocol/protocolVersion": STATELESS,
            "io.modelcontextprotocol/clientCapabilities": capabilities or {},
        },
    )
    headers = {"mcp-protocol-version": STATELESS, "mcp-method": method}
    if name is not None:
        headers["mcp-name"] = name
    context = {"transport": "http", "principal": ALICE, "headers": headers}
    return context, compact({"jsonrpc": "2.0", "id": 7, "method": method, "params": params})


def handshake(method, params):
    context = {"transport": "stdio", "principal": ALICE, "headers": {}}
    return context, compact({"jsonrpc": "2.0", "id": 8, "method": method, "params": params})


def custom_item_requests():
    """The transcripts record no custom items; these reach them (extra-facts.json)."""
    allowed = {"ok": True}
    shelf = "library://shelf/{name}"
    cases = [
        (
            stateless("tools/call", {"name": "count_books", "arguments": {"contains": "dune"}}, "count_books"),
            [
                [
                    allowed,
                    {
                        "ok": {
                            "content": [{"type": "text", "text": "3"}],
                            "structuredContent": {"count": 3},
                            "isError": False,
                        }
                    },
                ]
            ],
        ),
        (
            stateless(
                "tools/call",
                {"name": "confirm_then_answer", "arguments": {}},
                "confirm_then_answer",
                {"elicitation": {}},
            ),
            [
                [
                    allowed,
                    {
                        "ok": {
                            "input_required": {
                                "inputRequests": {"confirm": {"method": "elicitation/create", "params": {}}},
                                "requestState": "signed",
                            }
                        }
                    },
                ]
            ],
        ),
        (
            stateless(
                "tools/call",
                {
                    "name": "confirm_then_answer",
                    "arguments": {},
                    "requestState": "signed",
                    "inputResponses": {"confirm": {"action": "accept", "content": {"ok": True}}},
                },
                "confirm_then_answer",
                {"elicitation": {}},
            ),
            [[allowed, {"error": {"kind": "invalid", "message": "the request state does not verify"}}]],
        ),
        (
            handshake("resources/read", {"uri": "library://shelf/fiction"}),
            [
                [
                    allowed,
                    {
                        "ok": {
                            "contents": [{"uri": "library://shelf/fiction", "mimeType": "text/plain", "text": "shelf"}]
                        }
                    },
                ]
            ],
        ),
        (
            handshake("resources/read", {"uri": "django-mcp://model/auth.Permission/1"}),
            [[allowed, {"ok": {"object": {"id": 1, "name": "Can add book"}}}]],
        ),
        (
            handshake("prompts/get", {"name": "greeting", "arguments": {"language": "French"}}),
            [[allowed, {"ok": {"messages": [{"role": "user", "content": {"type": "text", "text": "Bonjour"}}]}}]],
        ),
        (handshake("prompts/get", {"name": "summarise", "arguments": {"title": "Dune"}}), [[allowed]]),
        (
            handshake(
                "completion/complete",
                {"ref": {"type": "ref/resource", "uri": shelf}, "argument": {"name": "name", "value": "f"}},
            ),
            [[allowed]],
        ),
        (handshake("resources/list", {}), [[{"ok": [True] * 10}], [{"ok": {"objects": [], "more": False}}]]),
    ]
    return [{"context": context, "message": message, "rounds": rounds} for (context, message), rounds in cases]


def regressions():
    """Inputs that crashed the engine once, kept so that every run tries them first."""
    allowed_all = {"ok": [True] * 20}
    cursor = "o18446744073709551615"  # an offset whose page end overflows
    objects_cursor = "m0.18446744073709551615"  # the same for the objects of a model template
    inbound = [handshake("tools/list", {"cursor": cursor})]
    conversations = [
        (
            handshake("resources/list", {"cursor": objects_cursor}),
            [[allowed_all], [{"ok": {"objects": [{"pk": 1, "label": "one"}], "more": True}}]],
        )
    ]
    states = [
        (
            {"work": "list_objects", "template": 99, "offset": 0, "visible": [], "skipped": 0},
            [{"ok": {"objects": [], "more": False}}],
        )
    ]
    return inbound, conversations, states


def forged_continuations():
    """States for the work the transcripts never wait on, written here in the engine's own
    format (protocol/resources.rs, prompts.rs, completion.rs): this target is about forged
    states anyway."""
    cases = [
        ("resources/list", {"work": "list_resources", "from": {"Concrete": 0}}, [{"ok": [True] * 10}]),
        (
            "resources/list",
            {"work": "list_resources", "from": {"Objects": {"template": 0, "offset": 0}}},
            [{"ok": [True] * 10}],
        ),
        (
            "resources/list",
            {"work": "list_objects", "template": 0, "offset": 0, "visible": [0, 2], "skipped": 0},
            [{"ok": {"objects": [{"pk": 1, "label": "one"}], "more": True}}],
        ),
        ("prompts/list", {"work": "list_prompts", "offset": 0}, [{"ok": [True, True, True]}]),
        ("completion/complete", {"work": "complete", "values": ["fiction", "fantasy"]}, [{"ok": True}]),
        ("prompts/get", {"work": "get_prompt", "rendered": None}, [{"ok": True}, {"ok": {"messages": []}}]),
        (
            "resources/read",
            {"work": "read", "uri": "library://shelf/fiction", "reader": "Custom"},
            [{"ok": True}, {"ok": {"contents": [{"uri": "library://shelf/fiction", "text": "shelf"}]}}],
        ),
    ]
    for method, work, results in cases:
        state = {"id": 9, "method": method, "target": None, "principal": ALICE, "work": work}
        yield compact(state), results


def conversation_text(request, with_rounds):
    lines = [compact(request["context"]), request["message"]]
    if with_rounds:
        lines += [compact(results) for results in request["rounds"]]
    return "\n".join(lines)


def write(target, name, text, seen):
    if text in seen[target]:
        return
    seen[target].add(text)
    (CORPUS / target / name).write_text(text)


def main():
    seen = {}
    for target in ("facts", "inbound", "effect_results", "continuation_state"):
        shutil.rmtree(CORPUS / target, ignore_errors=True)
        (CORPUS / target).mkdir(parents=True)
        seen[target] = set()

    facts = realistic_facts()
    write("facts", "realistic", compact(facts), seen)
    # A smaller document of every kind: libFuzzer favours short inputs, and each loads faster.
    one_admin = dict(
        facts,
        admins=[a for a in facts["admins"] if a["id"] == "admin/library.book"],
        views=facts["views"][:2],
        drf=facts.get("drf", [])[:1],
    )
    write("facts", "one-admin", compact(one_admin), seen)
    write("facts", "protocol-only", compact({"protocol": 1}), seen)

    requests = custom_item_requests()
    for transcript in sorted(TRANSCRIPTS.glob("*.transcript")):
        recorded, continuations = conversations(transcript)
        requests += recorded
        for n, (state, results) in enumerate(continuations):
            write("continuation_state", f"{transcript.stem}-{n}", f"{state}\n{compact(results)}", seen)
    crashed_requests, crashed_conversations, crashed_states = regressions()
    for n, (context, message) in enumerate(crashed_requests):
        write("inbound", f"regression-{n}", f"{compact(context)}\n{message}", seen)
    for n, ((context, message), rounds) in enumerate(crashed_conversations):
        write("effect_results", f"regression-{n}", "\n".join([compact(context), message, *map(compact, rounds)]), seen)
    for n, (work, results) in enumerate(crashed_states):
        state = {"id": 9, "method": "resources/list", "target": None, "principal": ALICE, "work": work}
        write("continuation_state", f"regression-{n}", f"{compact(state)}\n{compact(results)}", seen)
    for n, (state, results) in enumerate(forged_continuations()):
        write("continuation_state", f"forged-{n}", f"{state}\n{compact(results)}", seen)
    for n, request in enumerate(requests):
        write("inbound", f"request-{n}", conversation_text(request, with_rounds=False), seen)
        if request["rounds"]:
            write("effect_results", f"request-{n}", conversation_text(request, with_rounds=True), seen)


if __name__ == "__main__":
    main()
