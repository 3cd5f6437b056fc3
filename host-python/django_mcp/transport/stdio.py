"""STDIO: newline-delimited JSON-RPC on stdin/stdout, one message per line.

stdout carries only protocol messages; anything else that writes to stdout (a stray
print, a logging handler) is sent to stderr instead.
"""

import sys

from django_mcp import server
from django_mcp.identity import Identity


def serve(key, stdin=None, stdout=None, host="localhost"):
    stdin = stdin or sys.stdin
    protocol_out = stdout or sys.stdout
    identity = Identity.of_key(key)
    saved_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        for line in stdin:
            line = line.strip()
            if not line:
                continue
            outcome = server.handle(line, identity=identity, transport="stdio", host=host)
            for message in (*outcome.notifications, outcome.reply):
                if message is not None:
                    protocol_out.write(message + "\n")
            protocol_out.flush()
    finally:
        sys.stdout = saved_stdout
