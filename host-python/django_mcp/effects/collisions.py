"""Database errors a write meets when another transaction gets in its way: the database
refused the write and rolled it back, so the client gets a `conflict` that says nothing was
saved (and whether trying again may succeed) instead of an internal error.

The rules are tables, one entry per database's way of saying it; the driver's exception is the
`__cause__` of Django's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import DatabaseError, IntegrityError

if TYPE_CHECKING:
    from django_mcp.effects import EffectError

DEADLOCK = "it deadlocked with another write made at the same time"
#: SQLSTATE codes (PostgreSQL; the SQL standard's class 40 is "transaction rollback").
SQLSTATES = {
    "40001": "it could not be serialized with another write made at the same time",
    "40P01": DEADLOCK,
    "55P03": "a row it needed was locked by another write",
}
#: MySQL and MariaDB error numbers.
MYSQL_ERRORS = {1205: "a row it needed stayed locked by another write too long", 1213: DEADLOCK}
#: Words in the message of a driver that has no code for it (SQLite).
MESSAGES = {"database is locked": "another write held the database too long"}

INTEGRITY = (
    "the database refused the change (an integrity constraint failed, perhaps because of a change "
    "made at the same time); nothing was saved"
)


def refusal(exc: BaseException) -> EffectError | None:
    """The `conflict` EffectError to answer for `exc`, or None when it is no such refusal."""
    from django_mcp.effects import EffectError

    if isinstance(exc, IntegrityError):
        return EffectError("conflict", INTEGRITY)
    reason = _transient(exc) if isinstance(exc, DatabaseError) else None
    if reason is None:
        return None
    return EffectError(
        "conflict", f"the database rolled this write back ({reason}); nothing was saved, and trying again may succeed"
    )


def _transient(exc: BaseException) -> str | None:
    cause = exc.__cause__
    state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if state in SQLSTATES:
        return SQLSTATES[state]
    args = getattr(cause, "args", None) or ()
    if args and args[0] in MYSQL_ERRORS:
        return MYSQL_ERRORS[args[0]]
    return next((reason for words, reason in MESSAGES.items() if words in str(exc)), None)
