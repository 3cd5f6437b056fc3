"""Many writers at once on PostgreSQL: the demo under uvicorn with two worker processes, eight
clients with a key each sending raw JSON-RPC over HTTP at the same moment — creates, partial
updates of one row, deletes racing creates of protected relations (Book.author is PROTECT),
admin actions over overlapping rows.

Every answer is a result or a clear tool error (no HTTP 500, no internal error), every write
that succeeded has its LogEntry, a write that failed left nothing behind, and no partial update
loses a field another one sent. The numbers are printed (run with -s) for docs/concurrency.md.
A deadlock made on purpose (concurrency_items.py) shows what the loser of one is told.
"""

import datetime
import itertools
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from conftest import InProcessMCP, live_env, live_rows, on_postgres_only, post_rpc
from servers import DEMO, manage, serve_uvicorn

pytestmark = on_postgres_only

WRITERS = 8
ADDITION, CHANGE, DELETION = 1, 2, 3  # django.contrib.admin.models


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("concurrency")
    env = live_env(workdir)
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "demo_seed")
    keys = [manage(env, "mcp_key", "create", "alice", "--name", f"writer {n}") for n in range(WRITERS)]
    with serve_uvicorn("demo_project.asgi:application", DEMO, env, workdir / "server.log", "--workers", "2") as url:
        yield {"url": url, "env": env, "keys": keys, "log": workdir / "server.log"}


class Outcomes:
    """Every answer of a scenario, sorted into writes, tool errors by kind and anything else."""

    def __init__(self, name):
        self.name, self.ok, self.refused, self.broken = name, [], [], []

    def add(self, call, status, body):
        result = body.get("result") if isinstance(body, dict) else None
        if status != 200 or result is None:
            self.broken.append((call, status, body))
        elif result.get("isError"):
            text = result["content"][0]["text"]
            (self.broken if "internal error" in text else self.refused).append((call, text))
        else:
            self.ok.append((call, result["structuredContent"]))

    def report(self):
        print(
            f"\nconcurrency {self.name}: {len(self.ok)} writes, {len(self.refused)} refused "
            f"({dict(Counter(text.split(':')[0] for _, text in self.refused))}), {len(self.broken)} errors"
        )
        assert not self.broken, self.broken[:5]


def at_once(server, name, calls):
    """Run `calls` ([(tool, arguments)], spread over the writers' keys) all at once, each writer
    sending its share in order; the Outcomes."""
    outcomes, lock = Outcomes(name), threading.Lock()
    shares = [calls[n::WRITERS] for n in range(WRITERS)]
    start = threading.Barrier(WRITERS)

    def writer(n):
        start.wait()
        for index, (tool, arguments) in enumerate(shares[n]):
            status, body = post_rpc(
                server["url"], server["keys"][n], "tools/call", {"name": tool, "arguments": arguments}, index
            )
            with lock:
                outcomes.add((tool, arguments), status, body)

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        list(pool.map(writer, range(WRITERS)))
    outcomes.report()
    return outcomes


def log_entries(server, model, flag):
    """{object_id: how many LogEntries} of this action for `model` ("library.book")."""
    app, name = model.split(".")
    rows = live_rows(
        server["env"],
        "SELECT e.object_id FROM django_admin_log e JOIN django_content_type t "
        "ON t.id = e.content_type_id WHERE t.app_label = ? AND t.model = ? "
        "AND e.action_flag = ?",
        app,
        name,
        flag,
    )
    return Counter(int(object_id) for (object_id,) in rows)


def first_author(server):
    return live_rows(server["env"], "SELECT min(id) FROM library_author")[0][0]


def book(title, author, **fields):
    return {"title": title, "slug": "concurrent", "pages": 10, "price": "9.99", "author": author, **fields}


def test_creates_at_once_all_land_each_with_its_log_entry(server):
    author = first_author(server)
    calls = [("create_library_book", book(f"created {n}", author)) for n in range(5 * WRITERS)]
    outcomes = at_once(server, "creates", calls)
    assert len(outcomes.ok) == len(calls) and not outcomes.refused
    pks = {result["object"]["id"] for _, result in outcomes.ok}
    titles = dict(live_rows(server["env"], "SELECT id, title FROM library_book WHERE title LIKE 'created %'"))
    assert set(titles) == pks and sorted(titles.values()) == sorted(args["title"] for _, args in calls)
    assert {pk: n for pk, n in log_entries(server, "library.book", ADDITION).items() if pk in pks} == dict.fromkeys(
        pks, 1
    )


# Each writer changes one field of the same book, over and over: a partial update saves only
# what it was sent, so at the end every field holds the last value its writer sent.
FIELDS = {
    "title": lambda n: f"title {n}",
    "summary": lambda n: f"summary {n}",
    "pages": lambda n: 100 + n,
    "price": lambda n: f"{n}.50",
    "rating": lambda n: n / 4,
    "website": lambda n: f"https://example.com/{n}",
    "published": lambda n: f"2001-01-{n + 1:02d}",
    "in_print": lambda n: n % 2 == 0,
}


def test_partial_updates_of_one_row_at_once_lose_no_field(server):
    [(pk,)] = live_rows(server["env"], "SELECT min(id) FROM library_book")
    rounds = 6
    # Writer n (the n-th field) sends round r as the call at index r * WRITERS + n: its own share, in order.
    calls = [
        ("update_library_book", {"pk": pk, "fields": {field: value(r)}})
        for r in range(rounds)
        for field, value in FIELDS.items()
    ]
    changes_before = log_entries(server, "library.book", CHANGE)[pk]
    outcomes = at_once(server, "partial updates of one row", calls)
    assert len(outcomes.ok) == len(calls) and not outcomes.refused
    columns = ", ".join(FIELDS)
    [row] = live_rows(server["env"], f"SELECT {columns} FROM library_book WHERE id = ?", pk)
    last = rounds - 1
    expected = (
        FIELDS["title"](last),
        FIELDS["summary"](last),
        FIELDS["pages"](last),
        Decimal(FIELDS["price"](last)),
        FIELDS["rating"](last),
        FIELDS["website"](last),
        datetime.date.fromisoformat(FIELDS["published"](last)),
        FIELDS["in_print"](last),
    )
    assert row == expected
    assert log_entries(server, "library.book", CHANGE)[pk] - changes_before == len(calls)


def test_deleting_an_author_while_books_of_theirs_are_created_keeps_protect(server):
    """Per author: one delete and three creates of a book of theirs at once. Either the delete
    won (no book of theirs exists, every create refused) or a create did (the author stays,
    the delete refused as protected): never a book whose author is gone, never an error."""
    authors = []
    for n in range(10):
        status, body = post_rpc(
            server["url"],
            server["keys"][0],
            "tools/call",
            {
                "name": "create_library_author",
                "arguments": {"name": f"Racing author {n}", "email": f"racing{n}@example.com"},
            },
        )
        authors.append(body["result"]["structuredContent"]["object"]["id"])
    calls = list(
        itertools.chain.from_iterable(
            [("delete_library_author", {"pk": author})]
            + [("create_library_book", book(f"race {author} {n}", author)) for n in range(3)]
            for author in authors
        )
    )
    outcomes = at_once(server, "deletes racing protected creates", calls)
    deleted = {args["pk"] for tool, args in (call for call, _ in outcomes.ok) if tool == "delete_library_author"}
    created = Counter(
        args["author"] for tool, args in (call for call, _ in outcomes.ok) if tool == "create_library_book"
    )
    remaining = {
        a for (a,) in live_rows(server["env"], "SELECT id FROM library_author WHERE name LIKE 'Racing author %'")
    }
    books = Counter(
        a for (a,) in live_rows(server["env"], "SELECT author_id FROM library_book WHERE title LIKE 'race %'")
    )
    assert remaining == set(authors) - deleted
    assert not deleted & set(created) and not deleted & set(books)
    assert books == created
    assert set(log_entries(server, "library.author", DELETION)) >= deleted
    new_books = {result["object"]["id"] for (tool, _), result in outcomes.ok if tool == "create_library_book"}
    assert all(log_entries(server, "library.book", ADDITION)[pk] == 1 for pk in new_books)


def test_actions_over_overlapping_rows_at_once(server):
    """Each writer marks a window of books published and deletes a window of other books; the
    windows overlap their neighbours'. Every book of every window ends published or deleted."""
    author = first_author(server)
    doomed = []
    for n in range(4 * WRITERS):
        status, body = post_rpc(
            server["url"],
            server["keys"][0],
            "tools/call",
            {"name": "create_library_book", "arguments": book(f"doomed {n}", author)},
        )
        doomed.append(body["result"]["structuredContent"]["object"]["id"])
    drafts = [
        pk for (pk,) in live_rows(server["env"], "SELECT id FROM library_book WHERE status = 'draft' ORDER BY id")
    ]
    assert len(drafts) >= WRITERS + 3
    calls = []
    for n in range(WRITERS):
        calls.append(("mark_published_library_book", {"pks": drafts[n : n + 4]}))
        calls.append(("delete_selected_library_book", {"pks": doomed[4 * n : 4 * n + 8]}))
    # One writer each: writer n sends calls n and n + WRITERS, so order them by writer.
    calls = calls[0::2] + calls[1::2]
    outcomes = at_once(server, "actions over overlapping rows", calls)
    assert len(outcomes.ok) + len(outcomes.refused) == len(calls)
    marked = {pk for (tool, args), _ in outcomes.ok if tool == "mark_published_library_book" for pk in args["pks"]}
    statuses = dict(live_rows(server["env"], "SELECT id, status FROM library_book"))
    assert all(statuses[pk] == "published" for pk in marked)
    removed = {pk for (tool, args), _ in outcomes.ok if tool == "delete_selected_library_book" for pk in args["pks"]}
    assert not removed & set(statuses)
    logged = log_entries(server, "library.book", DELETION)
    assert all(logged[pk] >= 1 for pk in removed)
    print(json.dumps({"deleted": len(removed), "marked": len(marked)}))


def test_deleting_one_object_from_every_client_at_once_deletes_and_logs_it_once(server):
    author = first_author(server)
    status, body = post_rpc(
        server["url"],
        server["keys"][0],
        "tools/call",
        {"name": "create_library_book", "arguments": book("deleted by all", author)},
    )
    pk = body["result"]["structuredContent"]["object"]["id"]
    outcomes = at_once(server, "one object deleted by every client", [("delete_library_book", {"pk": pk})] * WRITERS)
    assert len(outcomes.ok) == 1
    assert [text for _, text in outcomes.refused] == [f"No book with pk {pk} exists that you can see."] * (WRITERS - 1)
    assert live_rows(server["env"], "SELECT id FROM library_book WHERE id = ?", pk) == []
    assert log_entries(server, "library.book", DELETION)[pk] == 1


def test_a_deadlock_is_a_conflict_that_saved_nothing(transactional_db, library, client, alice_key):
    """Two calls each retitle two books in opposite orders, meeting in between: PostgreSQL
    breaks the deadlock by rolling one back, which answers a conflict; the other's titles stand."""
    from django.db import connection
    from django.test import Client, override_settings
    from library.models import Book

    from django_mcp import server as mcp_server

    first, second = Book.objects.order_by("pk").values_list("pk", flat=True)[:2]
    answers = {}

    def call(title, pair):
        try:
            answers[title] = InProcessMCP(Client(), alice_key).call(
                "retitle_both", {"first": pair[0], "second": pair[1], "title": title}
            )
        finally:
            connection.close()

    with override_settings(DJANGO_MCP_CUSTOM=["fixtures.concurrency_items"]):
        mcp_server.reset()
        threads = [
            threading.Thread(target=call, args=("one", (first, second))),
            threading.Thread(target=call, args=("two", (second, first))),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    mcp_server.reset()
    [winner] = [title for title, answer in answers.items() if not answer["isError"]]
    [loser] = [answer for answer in answers.values() if answer["isError"]]
    assert loser["content"][0]["text"] == (
        "the database rolled this write back (it deadlocked with another write made at the same "
        "time); nothing was saved, and trying again may succeed"
    )
    assert set(Book.objects.filter(pk__in=[first, second]).values_list("title", flat=True)) == {winner}
