"""Notifications a request receives while the host works on it: progress and log messages.

The engine says which a request may receive (``notify`` in its effects output: the
client's progress token, the log levels it asked for); handlers report through
:class:`Notifications` and the transport delivers what was sent (an SSE stream ahead of the
result, or lines ahead of it on STDIO). Anything the request did not ask for is dropped.
"""

import json


class Notifications:
    def __init__(self, notify=None, sink=None):
        notify = notify or {}
        self._token = notify.get("progress_token")
        self._levels = frozenset(notify.get("log_levels") or ())
        self._sink = sink
        self._last_progress = None

    def progress(self, progress, total=None, message=None):
        """Report `progress` (of `total`); values that do not increase are not sent."""
        if self._sink is None or self._token is None:
            return
        if self._last_progress is not None and progress <= self._last_progress:
            return
        self._last_progress = progress
        params = {"progressToken": self._token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None:
            params["message"] = str(message)
        self._send("notifications/progress", params)

    def log(self, level, data, logger=None):
        """A log message at an RFC 5424 `level`, if the request asked for that level."""
        if self._sink is None or level not in self._levels:
            return
        params = {"level": level, "data": data}
        if logger is not None:
            params["logger"] = logger
        self._send("notifications/message", params)

    def _send(self, method, params):
        self._sink(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}, default=str))


SILENT = Notifications()
