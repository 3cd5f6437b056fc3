"""The secrets scan (`secrets_scan.py`) can fail: its patterns on their own, then a tiny pytest
session of its own (a subprocess) in which a custom tool and an echoed tool name plant a
traceback, SQL, a machine path, a password hash and a key secret in real MCP responses and
audit lines — the session must fail naming each, and not the test that leaked nothing."""

import json
import subprocess
import sys
import textwrap

import pytest
from servers import DEMO

import secrets_scan

SECRET = "Zq3" + "x7_-" * 7 + "k"  # 32 characters of the urlsafe alphabet


@pytest.fixture
def scanner():
    scanner = secrets_scan.Scanner()
    scanner.add_secret(SECRET)
    return scanner


LEAKS = {
    "traceback": [
        'Traceback (most recent call last):\n  File "views.py", line 3, in v',
        'raise X\n  File "/srv/app/models.py", line 120, in save',
    ],
    "SQL": [
        'SELECT "auth_user"."id", "auth_user"."password" FROM "auth_user" WHERE 1',
        'INSERT INTO "library_tag" ("name") VALUES (%s)',
        'UPDATE "library_book" SET "title" = %s',
        'DELETE FROM "library_tag" WHERE id = 1',
    ],
    "database error": [
        "sqlite3.OperationalError: database is locked",
        "django.db.utils.IntegrityError: x",
        "UNIQUE constraint failed: library_tag.slug",
        "no such table: library_book",
        "IntegrityError",
        "OperationalError at /mcp/",
    ],
    "password hash": [
        "pbkdf2_sha256$870000$abc$def=",
        "md5$salt$0123456789abcdef0123456789abcdef",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA",
        "bcrypt_sha256$$2b$12$abc",
        "scrypt$16384$salt$8$1$hash",
    ],
    "machine path": [
        str(secrets_scan.ROOT / "host-python/django_mcp/server.py"),
        "/tmp/pytest-of-root/x",
        "/usr/lib/python3/site-packages/django/db/models/query.py",
    ],
    "key secret": [f"Bearer abc.{SECRET}", f"name '{SECRET}'", f"x{SECRET}y"],
}


@pytest.mark.parametrize("category", LEAKS)
def test_each_kind_of_leak_is_found_as_sent_and_inside_json(scanner, category):
    for text in LEAKS[category]:
        for sent in (
            text,
            json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"content": [{"text": text}]}}),
            json.dumps({"error_message": text}, ensure_ascii=True),
        ):
            assert category in {c for c, _excerpt in scanner.matches(sent)}, (category, sent)


def test_a_secrets_digest_is_found_too(scanner):
    import hashlib

    digest = hashlib.sha256(SECRET.encode()).hexdigest()
    assert {c for c, _e in scanner.matches(f'{{"secret_hash": "sha256${digest}"}}')} == {"key secret digest"}


def test_the_excerpt_does_not_repeat_the_secret(scanner):
    [(category, excerpt)] = scanner.matches(f"leaked {SECRET}, and again: {SECRET}.")
    assert category == "key secret" and SECRET not in excerpt and SECRET[:4] in excerpt
    found = dict(scanner.matches(f'Traceback (most recent call last): "{SECRET}"'))
    assert set(found) == {"traceback", "key secret"} and all(SECRET not in excerpt for excerpt in found.values())


CLEAN = [
    '{"id":1,"jsonrpc":"2.0","result":{"content":[{"text":"Invalid arguments: pk: expected integer, got string",'
    '"type":"text"}],"isError":true}}',
    '{"error":{"code":-32602,"data":{"name":"select_from_library"},"message":"Invalid params: unknown tool"}}',
    "Select a valid choice. 36 is not one of the available choices.",
    "Selected books from the list: 3 updated",
    "internal error (correlation id 0123456789abcdef0123456789abcdef)",
    '{"password": "********", "url": "django-mcp://field/library.Book/1/cover", "cover": "covers/book-01.png"}',
    '{"pattern": "^-?(id|title)(,-?(id|title))*$", "$schema": "https://json-schema.org/draft/2020-12/schema"}',
    "md5 is a hash function; so is sha1. Update the settings to set the value.",
    "Zq3x7_-x7_-x7_-x7_-x7_-x7_-x7_-k".replace("k", ""),  # one character short of the secret
    '{"key_id": "oqoC78oshWajrP-PUV6GCt6U", "user_id": 1, "method": "tools/call", "outcome": "allow"}',
    "File not found: covers/x.png",
    "Traceback is a word too",
]


def test_what_the_server_normally_says_is_not_a_finding(scanner):
    for text in CLEAN:
        assert scanner.matches(text) == [], text
        assert scanner.matches(json.dumps({"text": text})) == [], text


# --- the plugin, end to end, in a session of its own --------------------------------------

LEAKY_ITEMS = """
from django_mcp.custom import Tool

PLANTED = {
    "traceback": 'Traceback (most recent call last):\\n  File "/srv/app/views.py", line 3, in view',
    "sql": 'SELECT "auth_user"."password" FROM "auth_user"',
    "path": "/tmp/django-mcp-planted/state.db",
    "hash": "pbkdf2_sha256$870000$planted$c2VjcmV0",
    "none": "nothing to see",
}


def leak(arguments, call):
    text = PLANTED[arguments["kind"]]
    return {"content": [{"type": "text", "text": text}], "isError": arguments["kind"] != "none"}


TOOLS = [Tool("leak", leak, "Says what it is told to", read_only=True,
              input_schema={"type": "object", "properties": {"kind": {"type": "string"}}, "required": ["kind"]})]
"""

PLANTED_TESTS = """
import json

import pytest
from django.test import override_settings

from django_mcp import server
from django_mcp.models import MCPAPIKey


@pytest.fixture
def caller(db, client, django_user_model):
    user = django_user_model.objects.create(username="planter", is_staff=True, is_superuser=True)
    key, secret = MCPAPIKey.objects.create_key(user, name="planted")
    with override_settings(DJANGO_MCP_CUSTOM=["leaky_items"]):
        server.reset()

        def rpc(method, params):
            response = client.post("/mcp/", json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}),
                                   content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key.key_id}.{secret}")
            return response.json()

        yield rpc, secret
    server.reset()


@pytest.mark.parametrize("kind", ["traceback", "sql", "path", "hash"])
def test_planted(caller, kind):
    rpc, _secret = caller
    assert rpc("tools/call", {"name": "leak", "arguments": {"kind": kind}})["result"]["isError"] is True


def test_clean(caller):
    rpc, _secret = caller
    assert rpc("tools/call", {"name": "leak", "arguments": {"kind": "none"}})["result"]["isError"] is False


def test_secret_echoed(caller):
    rpc, secret = caller
    assert rpc("tools/call", {"name": secret, "arguments": {}})["error"]["data"] == {"name": secret}
"""


def test_a_session_that_leaks_fails_naming_each_leak_and_nothing_else(tmp_path):
    here = secrets_scan.ROOT / "tests" / "python"
    (tmp_path / "pytest.ini").write_text(
        textwrap.dedent(f"""\
        [pytest]
        DJANGO_SETTINGS_MODULE = demo_project.settings
        pythonpath = {DEMO} {here} .
        django_find_project = false
        addopts = -p no:cacheprovider
        """)
    )
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["secrets_scan"]\n')
    (tmp_path / "leaky_items.py").write_text(LEAKY_ITEMS)
    (tmp_path / "test_planted.py").write_text(PLANTED_TESTS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-rf", "test_planted.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "6 passed" in output and "1 failed" in output, output  # the six tests pass; the scan fails
    assert "FAILED secrets_scan.py::secrets-scan" in output, output
    report = output[output.index("secrets scan: ") :]
    report = report[: report.index("=====")]  # the scan's own report, not pytest's summaries after it
    expected = {
        ("traceback", "test_planted.py::test_planted[traceback]"),
        ("SQL", "test_planted.py::test_planted[sql]"),
        ("machine path", "test_planted.py::test_planted[path]"),
        ("password hash", "test_planted.py::test_planted[hash]"),
        ("key secret", "test_planted.py::test_secret_echoed"),
    }
    for category, test in expected:
        assert f"[{category}] in MCP response during {test}" in report, (category, test, report)
    # Audit lines are scanned too: the unknown tool's name (the planted secret) is its target.
    assert "[key secret] in audit line during test_planted.py::test_secret_echoed" in report, report
    # A tool error's text never reaches the audit line (its error_message is value-free).
    assert "in audit line during test_planted.py::test_planted" not in report, report
    assert "test_clean" not in report, report
