"""Admin registrations nobody here wrote, driven through the official MCP SDK over HTTP.

The project in `fixtures/thirdparty/` is the demo plus django.contrib.auth's own User and Group admins,
flatpages, redirects, sites, django-celery-beat (where installed: it requires Django<6.1) and
django-taggit (a `Bookmark` model uses taggit's TaggableManager), and a second admin site,
`pages`, whose FlatPage admin holds page editors to object-level rules, and routes flatpages'
and django.contrib.auth's own views. It runs under uvicorn with its own database.

What is shown: every tool of every registered model is listed with schemas a Draft 2020-12
validator accepts; list and get work everywhere and their results validate (formats checked);
create / read / partial update / delete round trips; admin actions; a view-only user sees and
can do only that; an object-restricted editor is held to it; hostile `filters` and `ordering`
are refused without a query of the rows; and bad input leaves the database byte for byte as
it was (`live_dump` before and after).
"""

import contextlib
import datetime
import difflib
import importlib.util
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

import anyio
import httpx2
import pytest
from jsonschema import Draft202012Validator
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from conftest import list_all_tools, live_dump, live_env, live_rows
from servers import manage, serve_uvicorn

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "fixtures" / "thirdparty"
FORMATS = Draft202012Validator.FORMAT_CHECKER
NAME_MAX = 48  # portable names longer than this are cut to 39 characters + "_" + 8 hex digits

#: django-celery-beat 2.9.0, its newest release, requires Django<6.1: where it is not installed,
#: the project runs without it (fixtures/thirdparty/settings.py), its admins' cases are left out and the
#: tests of its own admin skip.
HAS_CELERY_BEAT = importlib.util.find_spec("django_celery_beat") is not None
needs_celery_beat = pytest.mark.skipif(not HAS_CELERY_BEAT, reason="django-celery-beat (Django<6.1) is not installed")


def installed(cases):
    """`cases`, less those of django-celery-beat's admins where it is not installed."""
    return [case for case in cases if HAS_CELERY_BEAT or "django_celery_beat" not in repr(case)]


# (site, app_label, model_name, the ModelAdmin's actions for a superuser)
ADMINS = installed(
    [
        ("admin", "auth", "group", ["delete_selected"]),
        ("admin", "auth", "user", ["delete_selected"]),
        ("admin", "library", "author", ["delete_selected"]),
        ("admin", "library", "tag", ["delete_selected"]),
        ("admin", "library", "book", ["delete_selected", "mark_published"]),
        ("admin", "sites", "site", ["delete_selected"]),
        ("admin", "flatpages", "flatpage", ["delete_selected"]),
        ("admin", "redirects", "redirect", ["delete_selected"]),
        (
            "admin",
            "django_celery_beat",
            "periodictask",
            ["delete_selected", "enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks"],
        ),
        ("admin", "django_celery_beat", "intervalschedule", ["delete_selected"]),
        ("admin", "django_celery_beat", "crontabschedule", ["delete_selected"]),
        ("admin", "django_celery_beat", "solarschedule", ["delete_selected"]),
        ("admin", "django_celery_beat", "clockedschedule", ["delete_selected"]),
        ("admin", "taggit", "tag", ["delete_selected", "render_tag_form"]),
        ("admin", "thirdparty", "bookmark", ["delete_selected"]),
        ("pages", "flatpages", "flatpage", ["delete_selected"]),
    ]
)
ADMIN_IDS = [f"{site}/{app}.{model}" for site, app, model, _ in ADMINS]


# --- the live project ---------------------------------------------------------------------


def _manage(env, *args):
    return manage(env, *args, project=PROJECT)


def _pks(env):
    """Primary keys of the seeded rows the tests refer to, read from the database."""
    queries = {
        "alice": "SELECT id FROM auth_user WHERE username = 'alice'",
        "bob": "SELECT id FROM auth_user WHERE username = 'bob'",
        "victor": "SELECT id FROM auth_user WHERE username = 'victor'",
        "librarians": "SELECT id FROM auth_group WHERE name = 'librarians'",
        "ada": "SELECT id FROM library_author WHERE name = 'Ada Lovelace'",
        "book": "SELECT id FROM library_book WHERE slug = 'book-01'",
        "site": "SELECT id FROM django_site WHERE domain = 'example.com'",
        "docs": "SELECT id FROM django_site WHERE domain = 'docs.example.com'",
        "about": "SELECT id FROM django_flatpage WHERE url = '/about/'",
        "legal": "SELECT id FROM django_flatpage WHERE url = '/legal/'",
        "dave_notes": "SELECT id FROM django_flatpage WHERE url = '/dave/notes/'",
        "dave_todo": "SELECT id FROM django_flatpage WHERE url = '/dave/todo/'",
        "redirect": "SELECT id FROM django_redirect WHERE old_path = '/old-about/'",
        "interval": "SELECT id FROM django_celery_beat_intervalschedule WHERE every = 10",
        "crontab": "SELECT id FROM django_celery_beat_crontabschedule LIMIT 1",
        "heartbeat": "SELECT id FROM django_celery_beat_periodictask WHERE name = 'heartbeat'",
        "hourly": "SELECT id FROM django_celery_beat_periodictask WHERE name = 'hourly report'",
        "python_tag": "SELECT id FROM taggit_tag WHERE name = 'python'",
        "bookmark": "SELECT id FROM thirdparty_bookmark WHERE title = 'Django'",
    }
    return {name: live_rows(env, sql)[0][0] if installed([sql]) else None for name, sql in queries.items()}


def project_env(workdir, **extra):
    """The environment the third-party project runs in, its database and files in `workdir`;
    `extra` on top."""
    settings = {"DJANGO_SETTINGS_MODULE": "fixtures.thirdparty.settings"}
    return live_env(workdir, THIRDPARTY_SQL_LOG=str(workdir / "sql.jsonl"), **{**settings, **extra})


def seeded_project(workdir, **extra):
    """`project_env`, its database migrated and seeded (thirdparty_seed)."""
    env = project_env(workdir, **extra)
    _manage(env, "migrate", "--verbosity", "0")
    _manage(env, "thirdparty_seed")
    return env


def never_stamped(env):
    """A key's use is stamped at most once a minute; stamped far ahead, it never is, so the
    database changes only when a tool writes."""
    _manage(
        env,
        "shell",
        "-c",
        "import datetime; from django_mcp.models import MCPAPIKey;"
        "MCPAPIKey.objects.update(last_used_at=datetime.datetime(2999, 1, 1, tzinfo=datetime.timezone.utc))",
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The third-party project under uvicorn on 127.0.0.1 with its own database.

    Keys: alice (superuser), victor (staff holding every view_* permission and nothing else),
    and dave (staff, a "page editor" of the `pages` site with no model permission).
    """
    workdir = tmp_path_factory.mktemp("thirdparty")
    env = seeded_project(workdir)
    keys = {who: _manage(env, "mcp_key", "create", who, "--name", "thirdparty") for who in ("alice", "victor", "dave")}
    never_stamped(env)
    with serve_uvicorn("fixtures.thirdparty.asgi:application", HERE, env, workdir / "server.log") as url:
        yield {
            "url": url,
            "keys": keys,
            "db": env,
            "sql_log": Path(env["THIRDPARTY_SQL_LOG"]),
            "log": workdir / "server.log",
            "pk": _pks(env),
        }


# --- talking to it --------------------------------------------------------------------------


class Outcome:
    """What one tools/call came back with: `ok` (structured content), a tool error, or a
    JSON-RPC error (code)."""

    def __init__(self, kind, value=None, code=None, text=""):
        self.kind, self.value, self.code, self.text = kind, value, code, text

    def __repr__(self):
        return f"Outcome({self.kind}, code={self.code}, text={self.text!r}, value={self.value!r})"


class Session:
    """One SDK client for one user, with the tools it was shown (every tools/list page)."""

    def __init__(self, client, tools):
        self.client = client
        self.tools = {t.name: t for t in tools}

    async def call(self, name, arguments):
        try:
            result = await self.client.call_tool(name, arguments)
        except MCPError as error:
            return Outcome("rpc_error", code=error.error.code, text=error.error.message)
        text = " ".join(c.text for c in result.content if getattr(c, "type", None) == "text")
        if result.is_error:
            return Outcome("tool_error", value=result.structured_content, text=text)
        tool = self.tools.get(name)
        if tool is not None and tool.output_schema is not None:
            errors = sorted(
                Draft202012Validator(tool.output_schema, format_checker=FORMATS).iter_errors(result.structured_content),
                key=str,
            )
            assert not errors, f"{name}({arguments}) answered outside its outputSchema: {errors[0]}"
        return Outcome("ok", value=result.structured_content, text=text)

    async def ok(self, name, arguments):
        outcome = await self.call(name, arguments)
        assert outcome.kind == "ok", f"{name}({json.dumps(arguments)}) failed: {outcome!r}"
        return outcome.value

    def name(self, verb, app, model, site="admin"):
        return tool_name(self.tools, verb, app, model, site)


def tool_name(names, verb, app, model, site="admin"):
    """The portable name of a tool, found among `names`; long names carry a hash suffix."""
    full = "_".join(([site] if site != "admin" else []) + [verb, app, model])
    if len(full) <= NAME_MAX:
        return full if full in names else None
    head = full[: NAME_MAX - 9] + "_"
    found = [n for n in names if n.startswith(head) and len(n) == NAME_MAX]
    assert len(found) <= 1, found
    return found[0] if found else None


def admin_tools(session):
    """The names of the admin's tools a session was shown, leaving out the routed views
    (flatpages, django.contrib.auth), whose tools carry their gates in `_meta`."""
    return {name for name, tool in session.tools.items() if "django-mcp/gates" not in (tool.meta or {})}


def connect(live, who):
    headers = {"Authorization": f"Bearer {live['keys'][who]}"}
    transport = streamable_http_client(live["url"], http_client=httpx2.AsyncClient(headers=headers, timeout=60))
    return Client(transport, mode="legacy")


def as_user(live, who, body):
    """Run `await body(session)` for this user over a fresh SDK connection."""

    async def main():
        async with connect(live, who) as client:
            return await body(Session(client, await list_all_tools(client)))

    return anyio.run(main)


@pytest.fixture(scope="module")
def alice_tools(live):
    async def body(s):
        return s.tools

    return as_user(live, "alice", body)


def dump_lines(live):
    """The live server's whole database, a line per row (`live_dump`, read from the database
    itself: conftest's `db_dump` reads this process's Django connection)."""
    return [f"{table}: {row!r}" for table, rows in live_dump(live["db"]).items() for row in rows]


@contextlib.contextmanager
def unchanged(live):
    """The database, dumped, is byte for byte the same after the block as before it."""
    before = dump_lines(live)
    yield
    after = dump_lines(live)
    if after != before:
        diff = "\n".join(list(difflib.unified_diff(before, after, lineterm="", n=0))[:40])
        pytest.fail(f"the database changed:\n{diff}")


def sql_of(live, name, arguments):
    """The SQL the server ran for the latest call of `name` with these arguments."""
    entries = [json.loads(line) for line in live["sql_log"].read_text().splitlines()]
    matching = [e for e in entries if e["tool"] == name and e["arguments"] == arguments]
    assert matching, f"no request for {name} was recorded"
    return [statement for statement, _params in matching[-1]["sql"]]


def assert_nothing_read(live, name, arguments):
    """Only the credential lookup and the caller's permissions (the tool's gate, checked
    before arguments are judged) were read: no row of the tool's model, or any other."""
    other = [
        s
        for s in sql_of(live, name, arguments)
        if "django_mcp_mcpapikey" not in s and not s.startswith('SELECT "django_content_type"."app_label"')
    ]
    assert not other, f"{name} refused, yet it queried: {other}"


def db_rows(live, sql, *params):
    return live_rows(live["db"], sql, *params)


def same(a, b):
    """Equal as values: ISO datetimes by instant, decimals by value, lists of pks as sets."""
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(json.dumps, a)) == sorted(map(json.dumps, b))
    if isinstance(a, str) and isinstance(b, str) and a != b:
        for parse in (datetime.datetime.fromisoformat, Decimal):
            try:
                return parse(a) == parse(b)
            except (ValueError, InvalidOperation):
                pass
    return a == b


# --- every tool of every model, listed with valid schemas ----------------------------------


def test_every_tool_is_listed_with_schemas_a_2020_12_validator_accepts(live, alice_tools):
    # More than one tools/list page (100 tools) where celery-beat's admins are there to make it so.
    assert len(alice_tools) > (100 if HAS_CELERY_BEAT else 90), "expected more tools"
    for tool in alice_tools.values():
        Draft202012Validator.check_schema(tool.input_schema)
        assert tool.input_schema.get("type") == "object", tool.name
        assert tool.output_schema is not None, f"{tool.name} has no outputSchema"
        Draft202012Validator.check_schema(tool.output_schema)
        assert len(tool.name) <= NAME_MAX, tool.name


@pytest.mark.parametrize("admin", ADMINS, ids=ADMIN_IDS)
def test_list_and_get_tools_for_every_registered_model(alice_tools, admin):
    site, app, model, _actions = admin
    for verb in ("list", "get"):
        name = tool_name(alice_tools, verb, app, model, site)
        assert name, f"no {verb} tool for {site}/{app}.{model}"
        assert alice_tools[name].annotations.read_only_hint is True


@pytest.mark.parametrize("admin", ADMINS, ids=ADMIN_IDS)
def test_create_update_delete_tools_for_every_registered_model(alice_tools, admin):
    site, app, model, _actions = admin
    for verb in ("create", "update", "delete"):
        name = tool_name(alice_tools, verb, app, model, site)
        assert name, f"no {verb} tool for {site}/{app}.{model}"
        # Not read-only is the MCP default: left unsaid.
        assert not alice_tools[name].annotations.read_only_hint
    assert alice_tools[tool_name(alice_tools, "delete", app, model, site)].annotations.destructive_hint is True


@pytest.mark.parametrize("admin", ADMINS, ids=ADMIN_IDS)
def test_a_tool_for_every_admin_action(alice_tools, admin):
    site, app, model, actions = admin
    for action in actions:
        name = tool_name(alice_tools, action, app, model, site)
        assert name, f"no tool for the action {action} of {site}/{app}.{model}"
        schema = alice_tools[name].input_schema
        assert "pks" in schema["properties"] and "pks" in schema.get("required", []), name


# --- list and get on every model ------------------------------------------------------------


@pytest.mark.parametrize("admin", ADMINS, ids=ADMIN_IDS)
def test_list_and_get_work_on_every_model(live, admin):
    site, app, model, _actions = admin

    async def body(s):
        listed = await s.ok(s.name("list", app, model, site), {})
        assert listed["count"] >= len(listed["results"]) > 0, listed
        assert listed["page"] == 1
        for row in listed["results"][:3]:
            got = await s.ok(s.name("get", app, model, site), {"pk": row["id"]})
            assert got["object"]["id"] == row["id"]
            for column, value in row.items():
                if column in got["object"]:
                    assert same(got["object"][column], value), (column, got["object"][column], value)
        if listed["count"] > 1:  # the pages partition the rows
            first = await s.ok(s.name("list", app, model, site), {"page_size": 1})
            second = await s.ok(s.name("list", app, model, site), {"page_size": 1, "page": 2})
            assert first["count"] == second["count"] == listed["count"]
            assert first["results"][0]["id"] != second["results"][0]["id"]

    as_user(live, "alice", body)


def test_passwords_are_never_sent(live):
    hashes = [h for (h,) in db_rows(live, "SELECT password FROM auth_user")]

    async def body(s):
        users = await s.ok("list_auth_user", {"page_size": 100})
        objects = [(await s.ok("get_auth_user", {"pk": row["id"]}))["object"] for row in users["results"]]
        return json.dumps([users, objects])

    sent = as_user(live, "alice", body)
    assert not any(h in sent for h in hashes)


def test_declared_filters_search_and_ordering_work(live):
    pk = live["pk"]

    async def body(s):
        if HAS_CELERY_BEAT:
            enabled = await s.ok(
                "list_django_celery_beat_periodictask", {"filters": {"enabled": True}, "ordering": "-name"}
            )
            assert [r["name"] for r in enabled["results"]] == ["nightly cleanup", "heartbeat"]
            searched = await s.ok("list_django_celery_beat_periodictask", {"q": "ops.report"})
            assert [r["name"] for r in searched["results"]] == ["hourly report"]
        docs = await s.ok("list_flatpages_flatpage", {"filters": {"sites": pk["docs"]}})
        assert {r["url"] for r in docs["results"]} == {"/legal/", "/dave/todo/"}
        redirects = await s.ok("list_redirects_redirect", {"filters": {"site": pk["site"]}, "q": "about"})
        assert [r["old_path"] for r in redirects["results"]] == ["/old-about/"]
        tagged = await s.ok("list_thirdparty_bookmark", {"filters": {"tags": pk["python_tag"]}})
        assert {r["title"] for r in tagged["results"]} == {"Django", "Celery"}
        staff = await s.ok("list_auth_user", {"filters": {"is_staff": True}, "ordering": "username"})
        assert [r["username"] for r in staff["results"]] == ["alice", "bob", "dave", "victor"]
        tags = await s.ok("list_taggit_tag", {"q": "py"})
        assert [r["name"] for r in tags["results"]] == ["python"]

    as_user(live, "alice", body)
    # The SQL trail that proves refused calls read nothing does see the reads of a good one.
    queries = sql_of(live, "list_redirects_redirect", {"filters": {"site": pk["site"]}, "q": "about"})
    assert any('FROM "django_redirect"' in q for q in queries), queries


# --- create, read back, partial update, delete --------------------------------------------


def _crud_cases():
    # (app, model, create arguments (given the seeded pks), one field to change, its new value,
    #  fields allowed to change on update by themselves)
    return installed(
        [
            ("auth", "group", lambda pk: {"name": "crud group", "permissions": []}, "name", "crud group renamed", ()),
            (
                "auth",
                "user",
                lambda pk: {"username": "erin", "password1": "Erin-pass-8472", "password2": "Erin-pass-8472"},
                "first_name",
                "Erin",
                (),
            ),
            (
                "flatpages",
                "flatpage",
                lambda pk: {
                    "url": "/crud/",
                    "title": "CRUD page",
                    "content": "<p>crud</p>",
                    "sites": [pk["site"], pk["docs"]],
                },
                "title",
                "CRUD page, revised",
                (),
            ),
            (
                "redirects",
                "redirect",
                lambda pk: {"site": pk["docs"], "old_path": "/crud-old/", "new_path": "/crud-new/"},
                "new_path",
                "/crud-newer/",
                (),
            ),
            ("sites", "site", lambda pk: {"domain": "crud.example.com", "name": "CRUD"}, "name", "CRUD site", ()),
            ("django_celery_beat", "intervalschedule", lambda pk: {"every": 5, "period": "minutes"}, "every", 7, ()),
            (
                "django_celery_beat",
                "periodictask",
                lambda pk: {
                    "name": "crud task",
                    "task": "ops.crud",
                    "interval": pk["interval"],
                    "enabled": True,
                    "args": "[1, 2]",
                    "kwargs": '{"x": 1}',
                    "headers": "{}",
                },
                "description",
                "changed through MCP",
                ("date_changed",),
            ),
            (
                "django_celery_beat",
                "crontabschedule",
                lambda pk: {
                    "minute": "15",
                    "hour": "4",
                    "day_of_month": "*",
                    "month_of_year": "*",
                    "day_of_week": "*",
                    "timezone": "Europe/Berlin",
                },
                "hour",
                "5",
                (),
            ),
            (
                "django_celery_beat",
                "solarschedule",
                lambda pk: {"event": "sunset", "latitude": "48.8566", "longitude": "2.3522"},
                "event",
                "dusk_civil",
                (),
            ),
            (
                "django_celery_beat",
                "clockedschedule",
                lambda pk: {"clocked_time": "2031-05-06T07:08:09+00:00"},
                "clocked_time",
                "2032-01-02T03:04:05+00:00",
                (),
            ),
            ("taggit", "tag", lambda pk: {"name": "crud tag", "slug": "crud-tag"}, "name", "crud tag renamed", ()),
            (
                "thirdparty",
                "bookmark",
                lambda pk: {"title": "CRUD", "url": "https://example.org/crud", "tags": "alpha, beta"},
                "title",
                "CRUD renamed",
                (),
            ),
            (
                "library",
                "author",
                lambda pk: {"name": "Barbara Liskov", "email": "barbara@example.com"},
                "birth_date",
                "1939-11-07",
                (),
            ),
            (
                "library",
                "book",
                lambda pk: {
                    "title": "Data Abstraction",
                    "slug": "data-abstraction",
                    "pages": 300,
                    "price": "29.50",
                    "author": pk["ada"],
                    "status": "draft",
                },
                "price",
                "31.00",
                (),
            ),
        ]
    )


def _admin_log(live, app, model, pk):
    return [
        flag
        for (flag,) in db_rows(
            live,
            "SELECT action_flag FROM django_admin_log l JOIN django_content_type c ON c.id = l.content_type_id "
            "WHERE c.app_label = ? AND c.model = ? AND l.object_id = ? ORDER BY l.id",
            app,
            model,
            str(pk),
        )
    ]


@pytest.mark.parametrize(
    "app,model,data,field,value,volatile", _crud_cases(), ids=[f"{c[0]}.{c[1]}" for c in _crud_cases()]
)
def test_crud_round_trip(live, app, model, data, field, value, volatile):
    data = data(live["pk"])

    async def body(s):
        created = (await s.ok(s.name("create", app, model), data))["object"]
        pk = created["id"]
        read = (await s.ok(s.name("get", app, model), {"pk": pk}))["object"]
        for name, sent in data.items():
            if name in read and name != "tags":  # taggit's TagField is written as text
                assert same(read[name], sent), (name, read[name], sent)
        updated = (await s.ok(s.name("update", app, model), {"pk": pk, "fields": {field: value}}))["object"]
        assert same(updated[field], value), (field, updated[field], value)
        after = (await s.ok(s.name("get", app, model), {"pk": pk}))["object"]
        assert same(after[field], value)
        for name in read:
            if name != field and name not in volatile:
                assert same(after[name], read[name]), f"{name} changed: {read[name]!r} -> {after[name]!r}"
        return pk, read, after

    pk, read, after = as_user(live, "alice", body)

    if model == "user":
        (password,) = db_rows(live, "SELECT password FROM auth_user WHERE id = ?", pk)[0]
        assert password and not password.startswith("!"), "the new user has no usable password"
        assert password not in json.dumps([read, after])
    if model == "bookmark":
        tags = {
            name
            for (name,) in db_rows(
                live,
                "SELECT t.name FROM taggit_tag t JOIN taggit_taggeditem i ON i.tag_id = t.id "
                "JOIN django_content_type c ON c.id = i.content_type_id "
                "WHERE c.app_label = 'thirdparty' AND i.object_id = ?",
                pk,
            )
        }
        assert tags == {"alpha", "beta"}, "a partial update must leave the tags alone"

    async def delete(s):
        deleted = await s.ok(s.name("delete", app, model), {"pk": pk})
        assert deleted == {"deleted": True, "pk": pk}
        gone = await s.call(s.name("get", app, model), {"pk": pk})
        assert gone.kind != "ok", gone

    as_user(live, "alice", delete)
    assert _admin_log(live, app, model, pk) == [1, 2, 3], "the admin logs an addition, a change and a deletion"


@needs_celery_beat
def test_a_periodic_task_created_with_only_the_fields_it_needs_takes_the_forms_defaults(live):
    """A browser posts the add form's initial values (args "[]", kwargs "{}", enabled on);
    an MCP client sends only what it means. Omitted fields must not become blanks that fail
    celery-beat's JSON checks or switch the task off."""
    pk = live["pk"]

    async def body(s):
        created = (
            await s.ok(
                "create_django_celery_beat_periodictask",
                {"name": "minimal task", "task": "ops.minimal", "interval": pk["interval"]},
            )
        )["object"]
        await s.ok("delete_django_celery_beat_periodictask", {"pk": created["id"]})
        return created

    created = as_user(live, "alice", body)
    assert created["enabled"] is True
    assert created["args"] == "[]" and created["kwargs"] == "{}"


def test_a_user_created_without_a_usable_password(live):
    async def body(s):
        created = (await s.ok("create_auth_user", {"username": "no-password", "usable_password": "false"}))["object"]
        await s.ok("delete_auth_user", {"pk": created["id"]})
        return created["id"]

    pk = as_user(live, "alice", body)
    assert _admin_log(live, "auth", "user", pk) == [1, 3]


# --- admin actions ----------------------------------------------------------------------------


def _enabled(live, *pks):
    return [
        bool(e)
        for pk in pks
        for (e,) in db_rows(live, "SELECT enabled FROM django_celery_beat_periodictask WHERE id = ?", pk)
    ]


@needs_celery_beat
def test_celery_beat_enable_disable_and_toggle(live):
    pk = live["pk"]
    heartbeat, hourly = pk["heartbeat"], pk["hourly"]
    assert _enabled(live, heartbeat, hourly) == [True, False]

    async def body(s):
        toggled = await s.ok(s.name("toggle_tasks", "django_celery_beat", "periodictask"), {"pks": [heartbeat, hourly]})
        assert "2 tasks were successfully toggled" in (toggled["message"] or "")
        assert _enabled(live, heartbeat, hourly) == [False, True]
        got = await s.ok("get_django_celery_beat_periodictask", {"pk": hourly})
        assert got["object"]["enabled"] is True
        disabled = await s.ok(s.name("disable_tasks", "django_celery_beat", "periodictask"), {"pks": [hourly]})
        assert "1 task was successfully disabled" in (disabled["message"] or "")
        enabled = await s.ok(s.name("enable_tasks", "django_celery_beat", "periodictask"), {"pks": [heartbeat]})
        assert "1 task was successfully enabled" in (enabled["message"] or "")

    as_user(live, "alice", body)
    assert _enabled(live, heartbeat, hourly) == [True, False]


@needs_celery_beat
def test_celery_beat_run_tasks_reports_an_unregistered_task_and_changes_nothing(live):
    async def body(s):
        with unchanged(live):
            outcome = await s.call(
                s.name("run_tasks", "django_celery_beat", "periodictask"), {"pks": [live["pk"]["heartbeat"]]}
            )
        # The admin says so at ERROR level; either a tool error or the message is fine, not a crash.
        assert outcome.kind in ("ok", "tool_error"), outcome
        message = outcome.value["message"] if outcome.kind == "ok" else outcome.text
        assert 'task "ops.heartbeat" not found' in message, outcome

    as_user(live, "alice", body)


@pytest.mark.parametrize(
    "app,model,table,rows",
    installed(
        [
            ("auth", "group", "auth_group", ["doomed group 1", "doomed group 2"]),
            ("django_celery_beat", "intervalschedule", "django_celery_beat_intervalschedule", [42, 43]),
            ("taggit", "tag", "taggit_tag", ["doomed tag"]),
            ("sites", "site", "django_site", ["doomed.example.com"]),
        ]
    ),
)
def test_delete_selected(live, app, model, table, rows):
    column = {"django_celery_beat_intervalschedule": "every", "django_site": "domain"}.get(table, "name")
    pks = [pk for value in rows for (pk,) in db_rows(live, f"SELECT id FROM {table} WHERE {column} = ?", value)]
    assert len(pks) == len(rows)

    async def body(s):
        name = s.name("delete_selected", app, model)
        assert name, f"no delete_selected tool for {app}.{model}"
        result = await s.ok(name, {"pks": pks})
        assert result["updated"] == len(pks)
        assert f"Successfully deleted {len(pks)}" in (result["message"] or "")

    as_user(live, "alice", body)
    assert db_rows(live, f"SELECT id FROM {table} WHERE id IN ({','.join('?' * len(pks))})", *pks) == []


def test_a_demo_action(live):
    async def body(s):
        draft = await s.ok("list_library_book", {"filters": {"status": "draft"}, "page_size": 2})
        pks = [row["id"] for row in draft["results"]]
        result = await s.ok("mark_published_library_book", {"pks": pks})
        assert result["updated"] == 2 and "2 book(s) marked as published." in result["message"]
        for pk in pks:
            assert (await s.ok("get_library_book", {"pk": pk}))["object"]["status"] == "published"

    as_user(live, "alice", body)


def test_an_action_that_needs_the_admins_web_pages_is_refused_cleanly(live):
    """taggit's "Merge selected tags" redirects to an intermediate admin page (and keeps the
    selection in the session): there is nothing an MCP client can do with that."""

    async def body(s):
        with unchanged(live):
            outcome = await s.call(s.name("render_tag_form", "taggit", "tag"), {"pks": [live["pk"]["python_tag"]]})
        assert outcome.kind == "tool_error", outcome
        assert "internal error" not in outcome.text, outcome

    as_user(live, "alice", body)


def test_delete_selected_stops_at_protected_objects(live):
    async def body(s):
        with unchanged(live):
            outcome = await s.call("delete_selected_library_author", {"pks": [live["pk"]["ada"]]})
        assert outcome.kind == "tool_error", outcome

    as_user(live, "alice", body)


# --- a user who may only view -----------------------------------------------------------


# Actions declared without `permissions=` are offered by Django's changelist to anyone who
# may view it; MCP holds to exactly what the admin allows (SPEC: parity with the admin).
UNRESTRICTED_ACTIONS = {
    *installed(
        f"{a}_django_celery_beat_periodictask" for a in ("enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks")
    ),
    "render_tag_form_taggit_tag",
}


def test_a_view_only_user_is_shown_list_get_and_only_the_actions_the_admin_offers(live):
    async def body(s):
        return admin_tools(s)

    names = as_user(live, "victor", body)
    # The demo's DJANGO_MCP_MODEL_SEARCH tools need only the view permission too.
    expected = {*UNRESTRICTED_ACTIONS, "search_library_book", "search_library_author"}
    for site, app, model, _actions in ADMINS:
        if site == "admin":
            expected |= {f"list_{app}_{model}", f"get_{app}_{model}"}
    assert names == expected, f"unexpected: {sorted(names - expected)}; missing: {sorted(expected - names)}"


def test_a_view_only_user_can_list_and_get_every_model(live):
    async def body(s):
        for name in sorted(n for n in admin_tools(s) if n.startswith("list_")):
            listed = await s.ok(name, {"page_size": 2})
            if listed["results"]:
                await s.ok("get_" + name[len("list_") :], {"pk": listed["results"][0]["id"]})

    as_user(live, "victor", body)


def _write_attempts(pk):
    return installed(
        [
            ("create", "auth", "group", {"name": "victor's group"}),
            ("update", "auth", "user", {"pk": pk["victor"], "fields": {"is_superuser": True}}),
            ("delete", "auth", "user", {"pk": pk["bob"]}),
            ("create", "flatpages", "flatpage", {"url": "/victor/", "title": "Victor", "sites": [pk["site"]]}),
            ("update", "sites", "site", {"pk": pk["site"], "fields": {"name": "victor was here"}}),
            ("delete", "redirects", "redirect", {"pk": pk["redirect"]}),
            ("update", "django_celery_beat", "periodictask", {"pk": pk["heartbeat"], "fields": {"enabled": False}}),
            ("delete", "taggit", "tag", {"pk": pk["python_tag"]}),
            ("delete_selected", "auth", "group", {"pks": [pk["librarians"]]}),
            ("delete_selected", "django_celery_beat", "periodictask", {"pks": [pk["heartbeat"]]}),
            ("delete_selected", "library", "book", {"pks": [pk["book"]]}),
            ("mark_published", "library", "book", {"pks": [pk["book"]]}),
        ]
    )


def test_a_view_only_user_is_refused_every_write(live, alice_tools):
    attempts = _write_attempts(live["pk"])

    async def body(s):
        with unchanged(live):
            for verb, app, model, arguments in attempts:
                name = tool_name(alice_tools, verb, app, model)
                assert name, f"no {verb} tool for {app}.{model}"
                outcome = await s.call(name, arguments)
                assert (outcome.kind, outcome.code) == ("rpc_error", -32002), (name, outcome)

    as_user(live, "victor", body)


@needs_celery_beat
def test_a_view_only_user_cannot_run_actions_that_need_a_permission(live, alice_tools):
    """delete_selected needs delete permission (its `allowed_permissions`), as in the admin."""
    pk = live["pk"]

    async def body(s):
        with unchanged(live):
            name = tool_name(alice_tools, "delete_selected", "django_celery_beat", "periodictask")
            outcome = await s.call(name, {"pks": [pk["heartbeat"], pk["hourly"]]})
            assert (outcome.kind, outcome.code) == ("rpc_error", -32002), (name, outcome)

    as_user(live, "victor", body)


# --- an editor held to object-level rules -----------------------------------------------


def test_a_page_editor_sees_only_the_pages_site(live):
    async def body(s):
        return admin_tools(s)

    names = as_user(live, "dave", body)
    assert names, "the page editor was shown nothing"
    assert all(n.startswith("pages_") for n in names), sorted(names)
    assert {"pages_list_flatpages_flatpage", "pages_get_flatpages_flatpage"} <= names


def test_a_page_editor_views_every_page_but_nothing_on_the_default_site(live):
    pk = live["pk"]

    async def body(s):
        pages = await s.ok("pages_list_flatpages_flatpage", {})
        assert {r["url"] for r in pages["results"]} >= {"/about/", "/legal/", "/dave/notes/", "/dave/todo/"}
        about = await s.ok("pages_get_flatpages_flatpage", {"pk": pk["about"]})
        assert about["object"]["title"] == "About us"
        refused = await s.call("list_flatpages_flatpage", {})
        assert (refused.kind, refused.code) == ("rpc_error", -32002), refused
        refused = await s.call("get_auth_user", {"pk": pk["alice"]})
        assert (refused.kind, refused.code) == ("rpc_error", -32002), refused

    as_user(live, "dave", body)


def test_a_page_editor_changes_only_their_own_pages(live):
    pk = live["pk"]

    async def body(s):
        mine = await s.ok(
            "pages_update_flatpages_flatpage", {"pk": pk["dave_notes"], "fields": {"title": "Dave's notes, revised"}}
        )
        assert mine["object"]["title"] == "Dave's notes, revised"
        with unchanged(live):
            for pk_other in (pk["about"], pk["legal"]):
                outcome = await s.call(
                    "pages_update_flatpages_flatpage", {"pk": pk_other, "fields": {"title": "mine now"}}
                )
                assert outcome.kind != "ok", outcome
                assert outcome.kind == "tool_error" or outcome.code == -32002, outcome
                outcome = await s.call("pages_delete_flatpages_flatpage", {"pk": pk_other})
                assert outcome.kind != "ok", outcome
            # The same page through the default site, where dave holds no permission.
            outcome = await s.call("update_flatpages_flatpage", {"pk": pk["about"], "fields": {"title": "mine now"}})
            assert (outcome.kind, outcome.code) == ("rpc_error", -32002), outcome
        created = await s.ok(
            "pages_create_flatpages_flatpage", {"url": "/dave/scratch/", "title": "Scratch", "sites": [pk["site"]]}
        )
        deleted = await s.ok("pages_delete_flatpages_flatpage", {"pk": created["object"]["id"]})
        assert deleted["deleted"] is True

    as_user(live, "dave", body)


def test_a_page_editor_cannot_bulk_delete_pages_they_do_not_own(live):
    pk = live["pk"]

    async def body(s):
        name = s.name("delete_selected", "flatpages", "flatpage", site="pages")
        assert name, "the page editor has no delete_selected tool"
        with unchanged(live):
            outcome = await s.call(name, {"pks": [pk["dave_todo"], pk["about"]]})
            assert outcome.kind != "ok", outcome
        # Their own pages they may delete in bulk.
        mine = [
            (
                await s.ok(
                    "pages_create_flatpages_flatpage",
                    {"url": f"/dave/bulk-{n}/", "title": f"Bulk {n}", "sites": [pk["site"]]},
                )
            )["object"]["id"]
            for n in (1, 2)
        ]
        deleted = await s.ok(name, {"pks": mine})
        assert deleted["updated"] == 2, deleted
        return mine

    mine = as_user(live, "dave", body)
    assert db_rows(live, f"SELECT id FROM django_flatpage WHERE id IN ({mine[0]}, {mine[1]})") == []


# --- hostile filters and ordering: refused, nothing read ---------------------------------

HOSTILE = installed(
    [
        ("list_library_book", {"filters": {"author__password__startswith": "x"}}),
        ("list_library_book", {"filters": {"id__gt": 0}}),
        ("list_library_book", {"filters": {"author__name": "Ada Lovelace"}}),
        ("list_library_book", {"filters": {"status__regex": ".*"}}),
        ("list_library_book", {"filters": {"author__email__icontains": "@"}}),
        ("list_library_book", {"ordering": "author__password"}),
        ("list_library_book", {"ordering": "?"}),
        ("list_library_book", {"ordering": "title,?"}),
        ("list_auth_user", {"ordering": "-password"}),
        ("list_auth_user", {"ordering": "password"}),
        ("list_auth_user", {"ordering": "groups__permissions__codename"}),
        ("list_auth_user", {"filters": {"password__startswith": "pbkdf2"}}),
        ("list_auth_user", {"filters": {"groups__permissions__codename": "add_user"}}),
        ("list_auth_user", {"filters": {"is_staff__isnull": True}}),
        ("list_auth_user", {"filters": {"is_superuser": "1 OR 1=1"}}),
        ("list_auth_user", {"filters": {"groups": {"name__startswith": "lib"}}}),
        ("list_auth_group", {"filters": {"permissions__codename": "view_user"}}),
        ("list_flatpages_flatpage", {"filters": {"sites__domain__startswith": "docs"}}),
        ("list_flatpages_flatpage", {"ordering": "sites__domain"}),
        ("list_redirects_redirect", {"filters": {"site__domain": "example.com"}}),
        ("list_django_celery_beat_periodictask", {"filters": {"interval__every__gt": 1}}),
        ("list_django_celery_beat_periodictask", {"ordering": "interval__every"}),
        ("list_django_celery_beat_periodictask", {"filters": {"enabled": "yes"}}),
        ("list_django_celery_beat_periodictask", {"filters": {"start_time": {"gte": "last tuesday"}}}),
        (
            "list_django_celery_beat_periodictask",
            {"filters": {"start_time": {"gte": "2020-01-01T00:00:00Z", "regex": "."}}},
        ),
        ("list_thirdparty_bookmark", {"filters": {"tags__name__startswith": "py"}}),
        ("list_taggit_tag", {"filters": {"taggit_taggeditem_items__object_id": 1}}),
        ("list_taggit_tag", {"ordering": "-taggit_taggeditem_items__object_id"}),
        ("list_auth_group", {"page": 0}),
        ("list_auth_group", {"page_size": 0}),
        ("list_auth_group", {"page_size": 10**9}),
        ("list_auth_group", {"q": "x" * 10_000}),
        ("list_auth_user", {"where": "1=1"}),
        ("get_auth_user", {"pk": "1 OR 1=1"}),
        ("get_auth_user", {"pk": {"pk__gt": 0}}),
        ("get_auth_user", {}),
        ("pages_list_flatpages_flatpage", {"filters": {"sites__domain__startswith": "d"}}),
        ("pages_list_flatpages_flatpage", {"ordering": "-content"}),
    ]
)


@pytest.mark.parametrize("who", ["alice", "victor"])
@pytest.mark.parametrize("name,arguments", HOSTILE, ids=[f"{n}:{json.dumps(a)[:60]}" for n, a in HOSTILE])
def test_hostile_lists_are_refused_without_reading_anything(live, who, name, arguments):
    if who == "victor" and name.startswith("pages_"):
        pytest.skip("victor is not a page editor")

    async def body(s):
        with unchanged(live):
            outcome = await s.call(name, arguments)
        assert outcome.kind == "tool_error", outcome
        assert outcome.value is None
        return outcome

    as_user(live, who, body)
    assert_nothing_read(live, name, arguments)


# --- bad writes leave the database byte for byte as it was --------------------------------


def _bad_writes(pk):
    task = {"task": "ops.x", "interval": pk["interval"], "args": "[]", "kwargs": "{}"}
    return installed(
        [
            ("create_auth_user", {"username": "mallory", "password1": "Pass-word-1234", "password2": "other-9876"}),
            ("create_auth_user", {"username": "alice", "password1": "Pass-word-1234", "password2": "Pass-word-1234"}),
            (
                "create_auth_user",
                {"username": "eve", "password1": "Pass-word-1234", "password2": "Pass-word-1234", "is_superuser": True},
            ),
            (
                "create_auth_user",
                {"username": "bad name!", "password1": "Pass-word-1234", "password2": "Pass-word-1234"},
            ),
            ("create_auth_group", {"name": "librarians"}),
            ("create_auth_group", {"name": "ghost permissions", "permissions": [999999]}),
            ("create_auth_group", {"name": "x" * 151}),
            ("create_sites_site", {"name": "no domain"}),
            ("create_sites_site", {"domain": "bad domain with spaces", "name": "x"}),
            ("create_flatpages_flatpage", {"url": "no-leading-slash/", "title": "t", "sites": [pk["site"]]}),
            ("create_flatpages_flatpage", {"url": "/about/", "title": "a second /about/", "sites": [pk["site"]]}),
            ("create_flatpages_flatpage", {"url": "/nowhere/", "title": "no site", "sites": []}),
            ("create_redirects_redirect", {"site": pk["site"], "old_path": "/old-about/", "new_path": "/x/"}),
            ("create_redirects_redirect", {"site": 999999, "old_path": "/x/", "new_path": "/y/"}),
            ("create_django_celery_beat_periodictask", {"name": "two schedules", **task, "crontab": pk["crontab"]}),
            ("create_django_celery_beat_periodictask", {"name": "no schedule", **task, "interval": None}),
            ("create_django_celery_beat_periodictask", {"name": "bad kwargs", **task, "kwargs": "{not json"}),
            ("create_django_celery_beat_periodictask", {"name": "heartbeat", **task}),
            ("create_django_celery_beat_periodictask", {"name": "no task", **task, "task": ""}),
            (
                "create_django_celery_beat_periodictask",
                {"name": "both expiries", **task, "expire_seconds": 60, "expires": "2031-01-01T00:00:00+00:00"},
            ),
            ("create_django_celery_beat_intervalschedule", {"every": 0, "period": "seconds"}),
            ("create_django_celery_beat_intervalschedule", {"every": 5, "period": "fortnights"}),
            ("create_django_celery_beat_solarschedule", {"event": "sunrise", "latitude": "95", "longitude": "0"}),
            ("create_django_celery_beat_crontabschedule", {"minute": "61", "timezone": "UTC"}),
            ("create_django_celery_beat_crontabschedule", {"minute": "0", "timezone": "Mars/Olympus_Mons"}),
            ("create_django_celery_beat_clockedschedule", {"clocked_time": "not a time"}),
            ("create_taggit_tag", {"name": "python", "slug": "python"}),
            ("create_thirdparty_bookmark", {"title": "x", "url": "not a url"}),
            ("create_library_book", {"title": "t", "slug": "t", "pages": 10, "price": "abc", "author": pk["ada"]}),
            ("create_library_book", {"title": "t", "slug": "t", "pages": -1, "price": "1.00", "author": pk["ada"]}),
            ("update_auth_user", {"pk": pk["alice"], "fields": {"password": "pbkdf2_sha256$1$x$y"}}),
            ("update_auth_user", {"pk": pk["bob"], "fields": {"username": "alice"}}),
            ("update_auth_user", {"pk": pk["bob"], "fields": {"email": "not-an-email"}}),
            ("update_auth_user", {"pk": pk["bob"], "fields": {"groups": [999999]}}),
            ("update_auth_user", {"pk": 999999, "fields": {"first_name": "nobody"}}),
            ("update_auth_group", {"pk": pk["librarians"], "fields": {"name": "page editors"}}),
            ("update_auth_group", {"pk": pk["librarians"], "fields": {"id": 999}}),
            ("update_auth_group", {"pk": pk["librarians"]}),
            ("create_auth_group", {"id": pk["librarians"], "name": "hijack"}),
            ("update_library_book", {"pk": pk["book"], "fields": {"author__name": "x"}}),
            ("update_library_book", {"pk": pk["book"], "fields": {"author": 999999}}),
            ("update_django_celery_beat_periodictask", {"pk": pk["heartbeat"], "fields": {"kwargs": "{bad"}}),
            ("update_django_celery_beat_periodictask", {"pk": pk["heartbeat"], "fields": {"crontab": pk["crontab"]}}),
            (
                "update_django_celery_beat_periodictask",
                {"pk": pk["heartbeat"], "fields": {"last_run_at": "2020-01-01T00:00:00Z"}},
            ),
            ("update_django_celery_beat_periodictask", {"pk": pk["heartbeat"], "fields": {"total_run_count": 99}}),
            ("update_django_celery_beat_periodictask", {"pk": pk["heartbeat"], "fields": {"name": "hourly report"}}),
            ("update_flatpages_flatpage", {"pk": pk["about"], "fields": {"url": "/legal/"}}),
            ("update_sites_site", {"pk": pk["site"], "fields": {"domain": ""}}),
            ("update_thirdparty_bookmark", {"pk": pk["bookmark"], "fields": {"url": "javascript:alert(1)"}}),
            ("delete_library_author", {"pk": pk["ada"]}),
            ("delete_auth_group", {"pk": 999999}),
            ("delete_auth_group", {"pk": "librarians"}),
        ]
    )


def _bad_actions(pk):
    return installed(
        [
            ("delete_selected", "auth", "group", {"pks": []}),
            ("delete_selected", "auth", "group", {"pks": "all"}),
            ("delete_selected", "library", "author", {"pks": [pk["ada"]]}),
            ("enable_tasks", "django_celery_beat", "periodictask", {"pks": ["heartbeat"]}),
            ("toggle_tasks", "django_celery_beat", "periodictask", {"pks": [pk["heartbeat"]], "extra": 1}),
        ]
    )


class _Named(dict):
    """Stands in for the seeded pks while tests are collected: `<name>`."""

    def __missing__(self, key):
        return f"<{key}>"


def _case_ids(cases):
    return [
        f"{c[0]}:{json.dumps(c[-1])[:70]}" if len(c) == 2 else f"{c[0]}_{c[1]}.{c[2]}:{json.dumps(c[-1])[:60]}"
        for c in cases
    ]


@pytest.mark.parametrize("index", range(len(_bad_writes(_Named()))), ids=_case_ids(_bad_writes(_Named())))
def test_bad_writes_leave_the_database_unchanged(live, index):
    name, arguments = _bad_writes(live["pk"])[index]

    async def body(s):
        with unchanged(live):
            outcome = await s.call(name, arguments)
        assert outcome.kind == "tool_error", (name, arguments, outcome)
        assert "internal error" not in outcome.text, (name, arguments, outcome)

    as_user(live, "alice", body)


@pytest.mark.parametrize("index", range(len(_bad_actions(_Named()))), ids=_case_ids(_bad_actions(_Named())))
def test_bad_actions_leave_the_database_unchanged(live, alice_tools, index):
    verb, app, model, arguments = _bad_actions(live["pk"])[index]
    name = tool_name(alice_tools, verb, app, model)
    assert name, f"no {verb} tool for {app}.{model}"

    async def body(s):
        with unchanged(live):
            outcome = await s.call(name, arguments)
        assert outcome.kind == "tool_error", (name, arguments, outcome)

    as_user(live, "alice", body)


def test_a_prompt_for_every_admin_action_lists_and_renders(live):
    """Every action of every registered admin has a prompt parallel to its tool; lazy
    translation strings in descriptions never break JSON (the original's STDIO crash)."""

    async def body(s):
        prompts, cursor = [], None
        while True:
            page = await s.client.list_prompts(cursor=cursor)
            prompts.extend(page.prompts)
            cursor = page.next_cursor
            if cursor is None:
                break
        by_name = {p.name: p for p in prompts}
        rendered = {}
        for site, app, model, actions in ADMINS:
            for action in actions:
                name = tool_name(by_name, action, app, model, site)
                assert name is not None, f"no prompt for {site}:{app}.{model} {action}"
                assert isinstance(by_name[name].description, str) and "%(" not in by_name[name].description
                result = await s.client.get_prompt(name, {"pks": "1"})
                rendered[name] = result.messages[0].content.text
        return rendered

    rendered = as_user(live, "alice", body)
    assert len(rendered) == sum(len(actions) for *_, actions in ADMINS)
    assert all(f"`{name}`" in text and '{"pks":[1]}' in text for name, text in rendered.items())


def test_views_nobody_here_wrote_run_through_mcp(live):
    """django.contrib.flatpages' view and django.contrib.auth's views, as the URL walk found
    them: a flatpage rendered, a login-gated password change done through its own form."""

    async def body(s):
        tools = s.tools
        flatpage = next(n for n in tools if n.startswith("invoke_") and "flatpage" in n)
        page = await s.ok(flatpage, {"method": "GET", "path": {"url": "about/"}})
        missing = await s.call(flatpage, {"method": "GET", "path": {"url": "nowhere/"}})
        change = await s.ok("invoke_password_change", {"method": "GET"})
        done = await s.ok(
            "invoke_password_change",
            {
                "method": "POST",
                "body": {"old_password": "wrong", "new_password1": "N3w-passw0rd!", "new_password2": "N3w-passw0rd!"},
            },
        )
        return tools, page, missing, change, done

    tools, page, missing, change, done = as_user(live, "dave", body)
    assert "password_change" in " ".join(tools) and "create_logout" in tools
    assert tools["get_password_change_done"].meta["django-mcp/gates"] == [{"kind": "login"}]
    assert page["status"] == 200 and "About us" in page["body"]
    assert missing.kind == "tool_error" and missing.value["status"] == 404
    assert change["status"] == 200 and "Old password" in change["body"]
    # The form's own validation answers (the old password is wrong): the page again, unchanged.
    assert done["status"] == 200 and "incorrectly" in done["body"]
