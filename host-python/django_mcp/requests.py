"""The request Django code sees when the engine asks the host to act for a caller.

Admin hooks, permission checks and views read ``request.user``, ``get_host()``, messages
and ``META``; a bare ``HttpRequest`` breaks them (``message_user`` without storage is a
classic). This one carries the caller's user, the inbound host and scheme, and a
messages store that keeps what the code says so it can be reported back.
"""

import io
import json
from urllib.parse import urlencode

from django.contrib.messages.storage.base import BaseStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import HttpRequest, QueryDict
from django.urls import get_script_prefix

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
        #: The plain request of each method (see `request`), built on first use.
        self._plain_requests = {}
        #: The script prefix of the request being served (read once: a thread-local lookup).
        self._script_name = None

    def request(self, method="GET", path="/__mcp__/", query=None, *, body=None, content_type=None):
        """A request as Django's handler would build it. `path` is the `path_info` (the script
        prefix of the serving request goes in front for `request.path`); `query` maps names to
        JSON values (`form_pairs`); `body` is bytes of `content_type`, readable as
        `request.body`, and parsed into `request.POST` when a POST is form-encoded, as Django
        parses it. A plain request (no path, query or body) that gate checks and reads use is
        built once per method and MCP request and shared, as one admin page's checks and
        queries share theirs."""
        plain = (path, query, body, content_type) == ("/__mcp__/", None, None, None)
        if plain and method in self._plain_requests:
            return self._plain_requests[method]
        request = self._build(method, path, query, body, content_type)
        if plain:
            self._plain_requests[method] = request
        return request

    def _build(self, method, path, query, body, content_type):
        request = HttpRequest()
        request.method = method
        if self._script_name is None:
            self._script_name = get_script_prefix().rstrip("/")
        script_name = self._script_name
        request.path_info = path
        request.path = script_name + path
        request.user = request._cached_user = self._user()
        query_string = urlencode(form_pairs(query)) if query else ""
        if query_string:  # else the empty QueryDict HttpRequest starts with
            request.GET = QueryDict(query_string, mutable=True)
        host, _, port = self.host.partition(":")
        request.META.update(
            {
                "REQUEST_METHOD": method,
                "SCRIPT_NAME": script_name,
                "PATH_INFO": path,
                "QUERY_STRING": query_string,
                "HTTP_HOST": self.host,
                "SERVER_NAME": host,
                "SERVER_PORT": port or ("443" if self.scheme == "https" else "80"),
                "wsgi.url_scheme": self.scheme,
                "HTTP_X_DJANGO_MCP": "1",
            }
        )
        if self.scheme == "https":
            request.META["HTTPS"] = "on"
        # Like a WSGIRequest: `request.body` and `content_type` are there even when empty.
        self._attach_body(request, body or b"", content_type or ("application/octet-stream" if body else ""))
        request._messages = CollectedMessages(request)
        # Code that stashes state for its next page finds a session; nothing is stored.
        request.session = SessionStore()
        request._dont_enforce_csrf_checks = True
        return request

    def _user(self):
        if self.user is not None:
            return self.user
        from django.contrib.auth.models import AnonymousUser  # needs the app registry ready

        return AnonymousUser()

    @staticmethod
    def _attach_body(request, body, content_type):
        if content_type:
            request.META["CONTENT_TYPE"] = content_type
            request.META["CONTENT_LENGTH"] = str(len(body))
        request._set_content_type_params(request.META)
        request._read_started = False
        request._body = body
        request._stream = io.BytesIO(body)  # for code that calls request.read()
        # Django parses a form body into request.POST for POST requests only.
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            request.POST = QueryDict(body, encoding=request.content_params.get("charset"))


def form_pairs(values):
    """A JSON object as (name, text) pairs for a query string or a form: a list repeats its
    name, true/false become "true"/"false" (what CheckboxInput and BooleanField read),
    null the empty string, and a nested object its JSON text."""
    pairs = []
    for name, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((str(name), _form_text(item)))
    return pairs


def _form_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
