"""STDIO: newline-delimited JSON-RPC on stdin/stdout, one message per line.

stdout carries only protocol messages; anything else that writes to stdout (a stray
print, a logging handler) is sent to stderr instead. A line that is not UTF-8 is answered
with a parse error, as HTTP answers such a body, and the server goes on reading.

The key is read again for every message, as HTTP authenticates every request: a key revoked
or expired, or a user deactivated, mid-session refuses the next message, and each message
acts for a fresh user object (permissions changed meanwhile are seen, not a cached set).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from django_mcp import correlation, server
from django_mcp.identity import Identity
from django_mcp.keys import KeyStatus, recheck_key
from django_mcp.seam import CredentialStatus, Refusal, RefusalKind

if TYPE_CHECKING:
    from django_mcp.models import MCPAPIKey


def serve(key: MCPAPIKey, stdin: IO[Any] | None = None, stdout: IO[str] | None = None, host: str = "localhost") -> None:
    stdin = stdin or sys.stdin
    protocol_out = stdout or sys.stdout
    saved_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        for line in _lines(stdin):
            if line is not None and not line.strip():
                continue
            # One correlation id per message: the key's recheck and a refusal carry it too.
            with correlation.new_request():
                messages = _answer(line, key, host)
            for message in messages:
                protocol_out.write(message + "\n")
            protocol_out.flush()
    finally:
        sys.stdout = saved_stdout


def _answer(line: str | None, key: MCPAPIKey, host: str) -> list[str]:
    """The messages to write for one line (None: a line that is not UTF-8)."""
    if line is None:
        outcome = server.refuse({"kind": RefusalKind.INVALID_UTF8}, transport="stdio", identity=Identity.of_key(key))
    else:
        outcome = _serve_line(line.strip(), key, host)
    reply = [] if outcome.reply is None else [outcome.reply.decode("utf-8")]
    return [*outcome.notifications, *reply]


def _serve_line(line: str, key: MCPAPIKey, host: str) -> server.Outcome:
    check = recheck_key(key.key_id)
    if check.ok:
        return server.handle(line, identity=Identity.of_key(check.key), transport="stdio", host=host)
    identity = Identity.of_key(key)
    if check.status is KeyStatus.INACTIVE_USER:
        refusal: Refusal = {"kind": RefusalKind.INACTIVE_USER}
    else:
        refusal = {"kind": RefusalKind.INVALID_CREDENTIAL, "status": CredentialStatus(check.status)}
    return server.refuse(refusal, transport="stdio", message_text=line, identity=identity)


def _lines(stdin: IO[Any]) -> Iterator[str | None]:
    """Each line as text, or None for a line that is not UTF-8.

    The bytes under a text stream are read when there are any: the text layer of `sys.stdin`
    would raise on the first invalid byte (ending the server) under a strict locale, or turn
    it into a lone surrogate that the engine cannot be given under the C locale."""
    binary = getattr(stdin, "buffer", None)
    for raw in binary if binary is not None else stdin:
        if isinstance(raw, bytes):
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                yield None
            continue
        try:
            raw.encode("utf-8")  # lone surrogates: undecodable bytes, escaped by the text layer
        except UnicodeEncodeError:
            yield None
        else:
            yield raw
