"""The request Django code sees when the engine asks the host to act for a caller.

Admin hooks, permission checks and views read ``request.user``, ``get_host()``, messages
and ``META``; a bare ``HttpRequest`` breaks them (``message_user`` without storage is a
classic). This one carries the caller's user, the inbound host and scheme, and a
messages store that keeps what the code says so it can be reported back.
"""

from django.contrib.messages.storage.base import BaseStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import HttpRequest, QueryDict

from django_mcp.notifications import SILENT


class CollectedMessages(BaseStorage):
    """Messages storage without a session: keeps this request's messages in memory."""

    def _get(self, *args, **kwargs):
        return [], True

    def _store(self, messages, response, *args, **kwargs):
        return []

    def texts(self):
        return [str(m) for m in self._queued_messages]


class CallerContext:
    """Who is calling and from where; builds requests and is shared by one MCP request's effects."""

    def __init__(self, user, *, host="localhost", scheme="http", correlation_id="", client=None, subject=None):
        self.user = user
        #: Who is calling, for the admin's history (`LogEntry`): the MCP key's name.
        self.client = client
        #: The credential rate limits count against (`Identity.subject`); None: not limited.
        self.subject = subject
        self.host = host
        self.scheme = scheme
        self.correlation_id = correlation_id
        #: Where effects report progress and log messages (set per batch by EffectRunner).
        self.notifications = SILENT

    def request(self, method="GET", path="/__mcp__/", query=None):
        request = HttpRequest()
        request.method = method
        request.path = request.path_info = path
        request.user = request._cached_user = self.user
        request.GET = QueryDict(mutable=True)
        for key, value in (query or {}).items():
            request.GET[key] = value
        host, _, port = self.host.partition(":")
        request.META.update({
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "HTTP_HOST": self.host,
            "SERVER_NAME": host,
            "SERVER_PORT": port or ("443" if self.scheme == "https" else "80"),
            "wsgi.url_scheme": self.scheme,
            "HTTP_X_DJANGO_MCP": "1",
        })
        if self.scheme == "https":
            request.META["HTTPS"] = "on"
        request._messages = CollectedMessages(request)
        # Code that stashes state for its next page finds a session; nothing is stored.
        request.session = SessionStore()
        request._dont_enforce_csrf_checks = True
        return request
