"""What differs between databases, held to one behaviour on each (the whole suite runs on SQLite
and, through scripts/test-postgres, on PostgreSQL): the compiled key lookup builds the rows the
ORM builds, search text with a null character is refused alike, and seeded data is the same."""

import pytest
from django.contrib.auth.models import User
from django.db import connection

from conftest import ENGINES, TEST_DATABASE, db_dump
from django_mcp.keys import find_key
from django_mcp.models import MCPAPIKey


def test_the_suite_runs_on_the_database_it_was_asked_for():
    assert connection.settings_dict["ENGINE"] == ENGINES[TEST_DATABASE]


def test_the_compiled_key_lookup_builds_what_the_orm_builds(alice_key):
    """keys.py runs the key query compiled once and builds the key and its user with the
    compiler's converters and `from_db`: every field as the ORM's own query gives it (aware
    datetimes, booleans, the hash), the instances marked as loaded from this database."""
    key_id = alice_key.split(".")[0]
    MCPAPIKey.objects.filter(key_id=key_id).update(
        allowed_tools=["library.*"], expires_at="2999-01-02T03:04:05.678901Z"
    )
    User.objects.filter(username="alice").update(last_login="2026-01-02T03:04:05.123456Z")
    expected = MCPAPIKey.objects.select_related("user").get(key_id=key_id)
    found = find_key(key_id)
    for mine, theirs in ((found, expected), (found.user, expected.user)):
        for field in type(theirs)._meta.concrete_fields:
            assert getattr(mine, field.attname) == getattr(theirs, field.attname), field.name
            assert type(getattr(mine, field.attname)) is type(getattr(theirs, field.attname)), field.name
        assert (mine._state.db, mine._state.adding) == (connection.alias, False)
    assert found.expires_at.tzinfo is not None and found.user.last_login.microsecond == 123456
    assert find_key("nosuchkeyid") is None


@pytest.mark.parametrize("tool", ["list_library_book", "search_library_book", "list_library_author"])
def test_search_text_with_a_null_character_is_refused_on_every_database(mcp, tool):
    """PostgreSQL cannot compare text holding U+0000; the admin's search form refuses it."""
    mcp.call(tool, {"q": "Ada"})  # the key's first use is stamped on it
    before = db_dump()
    result = mcp.call(tool, {"q": "Ada\x00 Lovelace"})
    assert result == {
        "isError": True,
        "content": [{"type": "text", "text": "Invalid: q: Null characters are not allowed."}],
    }
    assert db_dump() == before
    assert mcp.call(tool, {"q": "Ada"})["isError"] is False


def test_seeded_rows_have_the_same_pks_on_every_database(library):
    """The suite names seeded rows by pk; `library` restarts PostgreSQL's sequences as SQLite's
    rowids restart after a rolled-back test."""
    from library.models import Author, Book

    assert min(Book.objects.values_list("pk", flat=True)) == 1
    assert min(Author.objects.values_list("pk", flat=True)) == 1
