"""Which HTTP method a view tool calls with, driven through the official MCP SDK over HTTP.

The original package's rule, kept: `method` is optional on a tool whose view takes several
methods; without it a call is a POST when it sends a non-empty body, else a GET. A method the
view does not take, named or chosen by that rule, is refused naming the ones it takes.

The live project is the third-party one (djoser's users API, whose `me` action takes GET, PUT,
PATCH and DELETE) with method_views.py's function views beside it: `book_stats`
(`login_required`, any method), `book_titles` (`permission_required`, any method) and
`reading_list` (POST and DELETE only).
"""

import anyio
import pytest

from conftest import list_all_tools
from servers import serve_uvicorn
from test_thirdparty_admins import HERE, Session, _manage, connect, db_rows, seeded_project, unchanged

RULE = "Without it, POST when a non-empty body is sent, else GET."


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The project under uvicorn with its own database; a key for alice (superuser)."""
    workdir = tmp_path_factory.mktemp("view_methods")
    env = seeded_project(workdir, DJANGO_SETTINGS_MODULE="fixtures.method_views_settings")
    keys = {"alice": _manage(env, "mcp_key", "create", "alice", "--name", "methods")}
    with serve_uvicorn("fixtures.thirdparty.asgi:application", HERE, env, workdir / "server.log") as url:
        yield {"url": url, "keys": keys, "db": env}


def as_alice(live, body):
    async def main():
        async with connect(live, "alice") as client:
            return await body(Session(client, await list_all_tools(client)))

    return anyio.run(main)


def alice_row(live):
    ((pk, username, email),) = db_rows(live, "SELECT id, username, email FROM auth_user WHERE username = 'alice'")
    return {"id": pk, "username": username, "email": email}


def test_method_is_optional_and_its_description_says_the_rule(live):
    async def body(s):
        return s.tools

    tools = as_alice(live, body)
    enums = {
        "invoke_book_stats": ["GET", "POST", "PUT", "PATCH", "DELETE"],
        "invoke_book_titles": ["GET", "POST", "PUT", "PATCH", "DELETE"],
        "invoke_reading_list": ["POST", "DELETE"],
        "user_me": ["GET", "PUT", "PATCH", "DELETE"],
    }
    for name, enum in enums.items():
        schema = tools[name].input_schema
        assert "method" not in schema.get("required", []), name
        assert schema["properties"]["method"]["enum"] == enum, name
        assert RULE in schema["properties"]["method"]["description"], name


def test_a_call_without_method_or_body_is_a_get(live):
    async def body(s):
        return (
            await s.ok("invoke_book_stats", {}),
            await s.ok("invoke_book_titles", {}),
            await s.ok("user_me", {}),
            await s.ok("invoke_book_stats", {"body": {}}),
        )

    stats, titles, me, empty_body = as_alice(live, body)
    books = db_rows(live, "SELECT title FROM library_book ORDER BY title")
    assert stats["body"] == {"method": "GET", "body": None, "books": len(books)}
    assert titles["body"] == {"method": "GET", "body": None, "titles": [title for (title,) in books]}
    assert me["status"] == 200 and me["body"] == alice_row(live)
    assert empty_body["body"]["method"] == "GET"  # an empty body is no body


def test_a_body_makes_a_post(live):
    note = {"note": "show my stats"}

    async def body(s):
        return (
            await s.ok("invoke_book_stats", {"body": note}),
            await s.ok("invoke_book_titles", {"body": note}),
            await s.ok("invoke_reading_list", {"body": {"book": 1}}),
        )

    stats, titles, added = as_alice(live, body)
    assert (stats["body"]["method"], stats["body"]["body"]) == ("POST", note)
    assert (titles["body"]["method"], titles["body"]["body"]) == ("POST", note)
    assert added["body"] == {"method": "POST", "body": {"book": 1}}


def test_a_method_the_view_does_not_take_is_refused_naming_those_it_takes(live):
    async def body(s):
        with unchanged(live):
            return (
                await s.call("user_me", {"body": {"email": "alice@elsewhere.example"}}),
                await s.call("user_me", {"method": "POST", "body": {"email": "alice@elsewhere.example"}}),
                await s.call("invoke_reading_list", {}),
            )

    before = alice_row(live)
    chosen_post, named_post, chosen_get = as_alice(live, body)
    # `me` takes no POST: a body without a method is refused, not sent as a PUT or PATCH.
    assert chosen_post.kind == "tool_error", chosen_post
    assert chosen_post.text.startswith("Invalid arguments: method: ") and "POST" in chosen_post.text
    assert "GET, PUT, PATCH, DELETE" in chosen_post.text, chosen_post.text
    assert named_post.kind == "tool_error", named_post
    assert named_post.text == 'Invalid arguments: method: must be one of "GET", "PUT", "PATCH", "DELETE"'
    # reading_list takes no GET: a call without a body or a method is refused.
    assert chosen_get.kind == "tool_error", chosen_get
    assert chosen_get.text.startswith("Invalid arguments: method: ") and "GET" in chosen_get.text
    assert "POST, DELETE" in chosen_get.text, chosen_get.text
    assert alice_row(live) == before
