"""STDIO: newline-delimited JSON-RPC on stdin/stdout, one message per line.

stdout carries only protocol messages; anything else that writes to stdout (a stray
print, a logging handler) is sent to stderr instead.
"""

import sys

from django_mcp import server


def serve(key, stdin=None, stdout=None, host="localhost"):
    stdin = stdin or sys.stdin
    protocol_out = stdout or sys.stdout
    saved_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        for line in stdin:
            line = line.strip()
            if not line:
                continue
            outcome = server.handle(line, key=key, transport="stdio", host=host)
            if outcome.reply is not None:
                protocol_out.write(outcome.reply + "\n")
                protocol_out.flush()
    finally:
        sys.stdout = saved_stdout
