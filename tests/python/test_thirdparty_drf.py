"""A Django REST framework API nobody here wrote, driven through the official MCP SDK over HTTP.

The third-party project (`fixtures/thirdparty/`) mounts djoser's users API, `path("auth/",
include("djoser.urls"))`: djoser's `UserViewSet` on djoser's own router, with djoser's default
settings (no emails, no password retype, HIDE_USERS on). The router's basename is `user`, so
its tools are `list_user`, `get_user`, `create_user`, `update_user`, `delete_user` and one tool
per `@action`: `user_me`, `user_set_password`, `user_reset_password`, ….

What is shown, each call answered by djoser's own view through DRF's dispatch: the tools are
listed with schemas a Draft 2020-12 validator accepts, one per action djoser defines, each at
its url_path; listing users follows djoser's rule (an admin sees everyone, anyone else only
themself); `me` reads and changes the caller; `set_password` refuses a wrong current password
naming the field and leaving the hash alone, and really changes it given the right one (Django's
`authenticate` agrees, in another process, against the live database); `create_user` (open to
any caller) creates a user that can log in, its write-only password nowhere in the output
schema or the result; a user who is not staff is not shown the tools he may not call and is
refused them (-32002) with the database byte for byte as it was; and no answer ever carries a
password hash.
"""

import json

import anyio
import pytest
from jsonschema import Draft202012Validator

from conftest import list_all_tools
from servers import serve_uvicorn
from test_thirdparty_admins import (
    HERE,
    Session,
    _manage,
    admin_tools,
    connect,
    db_rows,
    never_stamped,
    seeded_project,
    sql_of,
    unchanged,
)

PASSWORD = "demo-password"  # thirdparty_seed's password for the seeded users
NORA_PASSWORD = "nora-first-password"
NORA_NEW_PASSWORD = "nora-second-password-7731"
QUINN_PASSWORD = "quinn-password-1184"
ZOE_PASSWORD = "zoe-password-5529"

# djoser 2.3.5's UserViewSet: the router's standard handlers and its @actions.
CRUD_TOOLS = {"list_user", "get_user", "create_user", "update_user", "delete_user"}
ACTIONS = {
    "me",
    "activation",
    "resend_activation",
    "set_password",
    "reset_password",
    "reset_password_confirm",
    "set_username",
    "reset_username",
    "reset_username_confirm",
}
DJOSER_TOOLS = CRUD_TOOLS | {f"user_{action}" for action in ACTIONS}

# Every answer any tool gave in this module (structured content and text), for the last test.
SENT = []
# Every password hash the users had at some point in this module.
HASHES = set()


# --- the live project ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The third-party project under uvicorn with its own database. Keys: alice
    (superuser), and nora and quinn, active users who are not staff and hold no permission."""
    workdir = tmp_path_factory.mktemp("thirdparty_drf")
    env = seeded_project(workdir)
    _manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User;"
        f"User.objects.create_user('nora', 'nora@example.com', {NORA_PASSWORD!r});"
        f"User.objects.create_user('quinn', 'quinn@example.com', {QUINN_PASSWORD!r})",
    )
    keys = {who: _manage(env, "mcp_key", "create", who, "--name", "djoser") for who in ("alice", "nora", "quinn")}
    never_stamped(env)
    with serve_uvicorn("fixtures.thirdparty.asgi:application", HERE, env, workdir / "server.log") as url:
        live = {
            "url": url,
            "keys": keys,
            "db": env,
            "env": env,
            "sql_log": workdir / "sql.jsonl",
            "log": workdir / "server.log",
        }
        live["pk"] = {name: pk for pk, name in db_rows(live, "SELECT id, username FROM auth_user")}
        HASHES.update(password_hashes(live).values())
        yield live


class Recorded(Session):
    """A Session that keeps every answer for the password-hash check."""

    async def call(self, name, arguments):
        outcome = await super().call(name, arguments)
        SENT.append(json.dumps([outcome.value, outcome.text]))
        return outcome


def as_user(live, who, body):
    """Run `await body(session)` for this user over a fresh SDK connection."""

    async def main():
        async with connect(live, who) as client:
            return await body(Recorded(client, await list_all_tools(client)))

    return anyio.run(main)


def users(live):
    """The auth_user table, every column of every row."""
    return db_rows(live, "SELECT * FROM auth_user ORDER BY id")


def user_row(live, username):
    rows = db_rows(live, "SELECT id, username, email FROM auth_user WHERE username = ?", username)
    return {"id": rows[0][0], "username": rows[0][1], "email": rows[0][2]} if rows else None


def password_hashes(live):
    return dict(db_rows(live, "SELECT username, password FROM auth_user"))


def authenticates(live, *attempts):
    """For each (username, password): whether Django's `authenticate` accepts it, asked in a
    separate process against the live database."""
    script = (
        "import json; from django.contrib.auth import authenticate;"
        f"print(json.dumps([authenticate(username=u, password=p) is not None for u, p in {attempts!r}]))"
    )
    return json.loads(_manage(live["env"], "shell", "-c", script).splitlines()[-1])


def properties(schema):
    """Every property name anywhere in a JSON schema."""
    found = set()
    if isinstance(schema, dict):
        found |= set(schema.get("properties") or {})
        for value in schema.values():
            found |= properties(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= properties(value)
    return found


def djoser_tools(tools):
    """The tools of the routes djoser's router mounted under /auth/."""
    return {name for name, tool in tools.items() if "(/auth/users/" in (tool.description or "")}


# --- the tools, as listed --------------------------------------------------------------------


def test_djoser_tools_are_listed_with_schemas_a_2020_12_validator_accepts(live):
    from djoser.views import UserViewSet

    async def body(s):
        return s.tools

    tools = as_user(live, "alice", body)
    # One tool per action djoser defines, no more, no fewer.
    defined = {a.__name__: a.url_path for a in UserViewSet.get_extra_actions()}
    assert set(defined) == ACTIONS, sorted(defined)
    assert djoser_tools(tools) == DJOSER_TOOLS, sorted(djoser_tools(tools) ^ DJOSER_TOOLS)
    for name in DJOSER_TOOLS:
        tool = tools[name]
        Draft202012Validator.check_schema(tool.input_schema)
        assert tool.input_schema.get("type") == "object", name
        assert tool.output_schema is not None, f"{name} has no outputSchema"
        Draft202012Validator.check_schema(tool.output_schema)
        assert tool.meta["django-mcp/gates"][0]["kind"] == "drf", name
    # Each action is reached at its own url_path (djoser's are the function names, `set_username`
    # is f"set_{USERNAME_FIELD}"), detail-less: no `path` argument.
    for action, url_path in defined.items():
        tool = tools[f"user_{action}"]
        assert f"(/auth/users/{url_path}/;" in tool.description, (action, tool.description)
        assert "path" not in tool.input_schema["properties"], action
    # The standard handlers: the detail routes take djoser's lookup (USER_ID_FIELD, "id").
    for name in ("get_user", "update_user", "delete_user"):
        assert tools[name].input_schema["properties"]["path"]["required"] == ["id"], name
    assert tools["list_user"].annotations.read_only_hint is True
    assert tools["delete_user"].annotations.destructive_hint is True
    # Each tool states the permission classes djoser's get_permissions() picks for its action.
    assert tools["create_user"].meta["django-mcp/gates"] == [{"kind": "drf", "permissions": ["AllowAny"]}]
    assert "Protected by: DRF permissions AllowAny." in tools["user_reset_password"].description
    assert tools["get_user"].meta["django-mcp/gates"] == [{"kind": "drf", "permissions": ["CurrentUserOrAdmin"]}]
    assert set(tools["delete_user"].input_schema["properties"]["body"]["properties"]) == {"current_password"}
    # `me` answers GET, PUT, PATCH and DELETE: the caller picks with `method` (without it, GET).
    me = tools["user_me"].input_schema
    assert me["properties"]["method"]["enum"] == ["GET", "PUT", "PATCH", "DELETE"]
    assert "method" not in me.get("required", [])
    # set_password's body is djoser's SetPasswordSerializer (no retype by default).
    password_body = tools["user_set_password"].input_schema["properties"]["body"]
    assert set(password_body["properties"]) == {"current_password", "new_password"}
    assert set(password_body["required"]) == {"current_password", "new_password"}
    # create_user takes the write-only password; no output schema names any password.
    create_body = tools["create_user"].input_schema["properties"]["body"]
    assert "password" in create_body["required"] and "re_password" not in create_body["properties"]
    for name in DJOSER_TOOLS:
        assert not {p for p in properties(tools[name].output_schema) if "password" in p}, name


# --- listing and reading users -----------------------------------------------------------


def test_an_admin_lists_every_user_and_anyone_else_only_themself(live):
    async def everyone(s):
        listed = await s.ok("list_user", {"page_size": 100})
        pages = [await s.ok("list_user", {"page_size": 3, "page": n}) for n in (1, 2, 3)]
        nora = await s.ok("get_user", {"path": {"id": live["pk"]["nora"]}})
        return listed, pages, nora

    listed, pages, nora = as_user(live, "alice", everyone)
    expected = [
        {"id": pk, "username": name, "email": email}
        for pk, name, email in db_rows(live, "SELECT id, username, email FROM auth_user")
    ]
    assert listed["count"] == len(expected) > 3
    assert sorted(listed["results"], key=lambda u: u["id"]) == sorted(expected, key=lambda u: u["id"])
    paged = [row for page in pages for row in page["results"]]
    assert all(page["count"] == len(expected) for page in pages)
    assert len(paged) == min(9, len(expected)) and len({row["id"] for row in paged}) == len(paged)
    assert nora["object"] == user_row(live, "nora")

    async def herself(s):
        listed = await s.ok("list_user", {})
        mine = await s.ok("get_user", {"path": {"id": live["pk"]["nora"]}})
        # djoser hides other users (HIDE_USERS): not "forbidden", not found.
        other = await s.call("get_user", {"path": {"id": live["pk"]["alice"]}})
        return listed, mine, other

    listed, mine, other = as_user(live, "nora", herself)
    assert listed["results"] == [user_row(live, "nora")] and listed["count"] == 1
    assert mine["object"] == user_row(live, "nora")
    assert other.kind == "tool_error" and other.text == "Not found.", other


# --- me -----------------------------------------------------------------------------------


def test_me_reads_and_changes_the_caller(live):
    async def body(s):
        got = await s.ok("user_me", {"method": "GET"})
        # The dotted name is an alias of the same tool.
        alias = await s.ok("view.invoke:djoser.views.UserViewSet.me", {"method": "GET"})
        # djoser's UserSerializer keeps the username read-only: sent, it is ignored.
        patched = await s.ok(
            "user_me", {"method": "PATCH", "body": {"email": "nora.new@example.com", "username": "hijacked"}}
        )
        # The same through the ViewSet's own partial_update.
        updated = await s.ok("update_user", {"path": {"id": live["pk"]["nora"]}, "body": {"email": "nora@example.org"}})
        return got, alias, patched, updated

    before = user_row(live, "nora")
    got, alias, patched, updated = as_user(live, "nora", body)
    assert got["status"] == 200 and got["body"] == before == alias["body"]
    assert patched["status"] == 200
    assert patched["body"] == {**before, "email": "nora.new@example.com"}
    assert updated["object"] == {**before, "email": "nora@example.org"}
    assert user_row(live, "nora") == {**before, "email": "nora@example.org"}
    assert user_row(live, "hijacked") is None


def test_a_user_deletes_themself_through_me_with_their_password(live):
    async def body(s):
        with unchanged(live):
            wrong = await s.call("user_me", {"method": "DELETE", "body": {"current_password": "not it"}})
        done = await s.ok("user_me", {"method": "DELETE", "body": {"current_password": QUINN_PASSWORD}})
        return wrong, done

    assert user_row(live, "quinn") is not None
    wrong, done = as_user(live, "quinn", body)
    assert wrong.kind == "tool_error" and wrong.value["status"] == 400, wrong
    assert wrong.value["body"] == {"current_password": ["Invalid password."]}
    assert done == {"status": 204, "headers": done["headers"], "body": None}
    assert user_row(live, "quinn") is None


def test_an_admin_deletes_a_user_through_delete_user(live):
    # djoser's destroy validates a body (UserDeleteSerializer: the caller's current password).
    pk = live["pk"]["carol"]

    async def body(s):
        return await s.call("delete_user", {"path": {"id": pk}, "body": {"current_password": PASSWORD}})

    outcome = as_user(live, "alice", body)
    assert outcome.kind == "ok", outcome
    assert outcome.value == {"deleted": True, "pk": pk}
    assert user_row(live, "carol") is None


# --- set_password --------------------------------------------------------------------------


def test_set_password_refuses_a_wrong_current_password_and_changes_it_given_the_right_one(live):
    hash_before = password_hashes(live)["nora"]

    async def wrong(s):
        with unchanged(live):
            return await s.call(
                "user_set_password",
                {"body": {"current_password": "not-my-password", "new_password": NORA_NEW_PASSWORD}},
            )

    outcome = as_user(live, "nora", wrong)
    assert outcome.kind == "tool_error", outcome
    assert outcome.value["status"] == 400 and outcome.value["body"] == {"current_password": ["Invalid password."]}
    assert "current_password" in outcome.text
    assert password_hashes(live)["nora"] == hash_before

    async def right(s):
        return await s.ok(
            "user_set_password", {"body": {"current_password": NORA_PASSWORD, "new_password": NORA_NEW_PASSWORD}}
        )

    done = as_user(live, "nora", right)
    assert done["status"] == 204 and done["body"] is None
    hash_after = password_hashes(live)["nora"]
    HASHES.add(hash_after)
    assert hash_after != hash_before
    assert authenticates(live, ("nora", NORA_NEW_PASSWORD), ("nora", NORA_PASSWORD)) == [True, False]


# --- create_user ---------------------------------------------------------------------------


def test_anyone_creates_a_user_who_can_log_in(live):
    """djoser's user_create permission is AllowAny: nora, who holds no permission, may."""

    async def body(s):
        created = await s.ok(
            "create_user", {"body": {"username": "zoe", "email": "zoe@example.com", "password": ZOE_PASSWORD}}
        )
        with unchanged(live):
            taken = await s.call("create_user", {"body": {"username": "alice", "password": ZOE_PASSWORD}})
        return created, taken

    created, taken = as_user(live, "nora", body)
    assert created["object"] == user_row(live, "zoe")
    assert set(created["object"]) == {"id", "username", "email"}
    assert ZOE_PASSWORD not in json.dumps(created)
    assert taken.kind == "tool_error", taken
    assert taken.text == "Invalid: username: A user with that username already exists."
    HASHES.add(password_hashes(live)["zoe"])
    assert authenticates(live, ("zoe", ZOE_PASSWORD), ("zoe", "wrong")) == [True, False]


# --- a user who is not staff ------------------------------------------------------------------


def test_a_user_who_is_not_staff_is_shown_only_what_he_may_call(live):
    async def shown(s):
        return s

    everything = as_user(live, "alice", shown).tools
    nora = as_user(live, "nora", shown)
    # djoser's permission classes (CurrentUserOrAdmin, AllowAny) pass for any signed-in caller;
    # which users they reach is decided object by object, as the tests above show.
    assert djoser_tools(nora.tools) == DJOSER_TOOLS
    # The admin's tools need staff status and model permissions: none is listed for nora.
    assert admin_tools(nora) == set(), sorted(admin_tools(nora))
    hidden = set(everything) - set(nora.tools)
    assert {"list_auth_user", "get_auth_user", "create_auth_user", "update_auth_user", "delete_auth_user"} <= hidden


def test_a_user_who_is_not_staff_is_refused_what_he_is_not_shown(live):
    pk = live["pk"]
    attempts = [
        ("update_auth_user", {"pk": pk["nora"], "fields": {"is_staff": True, "is_superuser": True}}),
        ("delete_auth_user", {"pk": pk["alice"]}),
        ("create_auth_user", {"username": "mallory", "password1": "Mallory-pass-1", "password2": "Mallory-pass-1"}),
        ("delete_selected_auth_user", {"pks": [pk["alice"], pk["bob"]]}),
        ("list_auth_user", {}),
        ("get_auth_user", {"pk": pk["alice"]}),
    ]

    async def body(s):
        before = users(live)
        with unchanged(live):
            refused = [(name, await s.call(name, arguments)) for name, arguments in attempts]
            # Shown djoser's tools, he is still held to djoser's object rules.
            other = [
                await s.call("delete_user", {"path": {"id": pk["alice"]}, "body": {"current_password": NORA_PASSWORD}}),
                await s.call("update_user", {"path": {"id": pk["alice"]}, "body": {"email": "x@example.com"}}),
            ]
        assert users(live) == before
        return refused, other

    refused, other = as_user(live, "nora", body)
    for name, outcome in refused:
        assert (outcome.kind, outcome.code) == ("rpc_error", -32002), (name, outcome)
    # The admin's gate refuses before the tool reads any row.
    for name, arguments in attempts:
        read = [
            q
            for q in sql_of(live, name, arguments)
            if "django_mcp_mcpapikey" not in q and not q.startswith('SELECT "django_content_type"."app_label"')
        ]
        assert not read, f"{name} was refused, yet it queried: {read}"
    deleted, changed = other
    assert deleted.kind == "tool_error" and deleted.text == "You do not have permission to perform this action.", (
        deleted
    )
    assert changed.kind == "tool_error" and changed.text == "Not found.", changed


# --- passwords ----------------------------------------------------------------------------


def test_no_answer_ever_carries_a_password_hash(live):
    async def sweep(s):
        listed = await s.ok("list_user", {"page_size": 100})
        for row in listed["results"]:
            await s.ok("get_user", {"path": {"id": row["id"]}})
        await s.ok("user_me", {"method": "GET"})

    as_user(live, "alice", sweep)
    HASHES.update(password_hashes(live).values())
    usable = {h for h in HASHES if h and not h.startswith("!")}
    assert len(usable) >= 5 and len(SENT) >= 10, (len(usable), len(SENT))
    sent = "\n".join(SENT)
    # Neither a whole hash nor its digest (the part after the last "$") was ever sent.
    leaked = [h for h in usable if h in sent or h.rsplit("$", 1)[-1] in sent]
    assert not leaked, "a password hash was sent"
    for plain in (NORA_PASSWORD, NORA_NEW_PASSWORD, QUINN_PASSWORD, ZOE_PASSWORD, PASSWORD):
        assert plain not in sent, "a password was sent back"
