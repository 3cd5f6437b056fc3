"""Discovery quality: the everyday requests of tests/discovery/queries.json, each with the tool
a person would pick, asked of find_tools through the real engine over the demo's and the
third-party project's catalogues (a superuser's view: every gate passes). A floor, not a
timing: recall@5 >= 95 %, recall@1 >= 80 %. Run with -s to see the misses."""

import json

import pytest

from servers import ROOT
from test_thirdparty_admins import _manage, project_env

QUERIES = json.loads((ROOT / "tests" / "discovery" / "queries.json").read_text())
RECALL_AT_5, RECALL_AT_1 = 0.95, 0.80


def top_five(facts_json, queries):
    from django_mcp.engine import CompiledEngine, EngineInstance

    engine = EngineInstance(CompiledEngine(), facts_json)
    context = {"transport": "http", "principal": {"user_id": 1, "allowed_tools": []}}
    answers = []
    for entry in queries:
        message = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "find_tools", "arguments": {"query": entry["query"], "limit": 5}},
        }
        output = engine.step({"message": json.dumps(message), "context": context})
        while "effects" in output:
            results = [{"ok": [True] * len(effect["checks"])} for effect in output["effects"]]
            output = engine.step({"resume": output["state"], "results": results})
        tools = json.loads(output["done"]["reply"])["result"]["structuredContent"]["tools"]
        answers.append([t["name"] for t in tools])
    return answers


@pytest.fixture(scope="module")
def thirdparty_facts(tmp_path_factory):
    env = project_env(tmp_path_factory.mktemp("facts"), DEMO_MCP_DISCOVERY="auto")
    script = "from django_mcp.facts import gather; print(gather()[0])"
    return _manage(env, "shell", "-c", script).splitlines()[-1]  # after anything the shell says first


def test_find_tools_finds_the_tool_a_person_would_pick(settings, thirdparty_facts):
    from django_mcp.facts import gather

    settings.DJANGO_MCP_DISCOVERY = "auto"
    catalogues = {"demo": gather()[0], "thirdparty": thirdparty_facts}
    hits_1 = hits_5 = asked = 0
    misses = []
    for project, facts_json in catalogues.items():
        assert json.loads(facts_json)["settings"]["discovery"] == "auto"
        queries = QUERIES[project]
        for entry, names in zip(queries, top_five(facts_json, queries), strict=True):
            asked += 1
            first = bool(names) and names[0] in entry["expected"]
            hits_1 += first
            hits_5 += any(n in entry["expected"] for n in names)
            if not first:
                misses.append(f"{project}: {entry['query']!r} → {names[:3]} (a person: {entry['expected'][0]})")
    recall_1, recall_5 = hits_1 / asked, hits_5 / asked
    report = f"{asked} queries: recall@1 {recall_1:.1%}, recall@5 {recall_5:.1%}; misses at 1:\n" + "\n".join(misses)
    print(report)
    assert asked >= 60
    assert recall_5 >= RECALL_AT_5 and recall_1 >= RECALL_AT_1, report


def test_the_query_set_names_only_tools_that_exist(settings, thirdparty_facts):
    """A renamed tool must not turn into a silent miss."""
    from django_mcp.engine import CompiledEngine, EngineInstance
    from django_mcp.facts import gather

    settings.DJANGO_MCP_DISCOVERY = "auto"
    compiled = CompiledEngine()
    for project, facts_json in {"demo": gather()[0], "thirdparty": thirdparty_facts}.items():
        names = {t["name"] for t in json.loads(EngineInstance(compiled, facts_json).step_text('{"tool_sources":true}'))}
        unknown = {n for entry in QUERIES[project] for n in entry["expected"]} - names
        assert not unknown, f"{project}: {sorted(unknown)}"
