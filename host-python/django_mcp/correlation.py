"""The correlation id of the MCP request being handled, on every log record emitted meanwhile.

Records of any logger (Django's, the project's, ours) carry `record.correlation_id`, so a
formatter with `%(correlation_id)s` ties a query log or an admin hook's warning to the request's
audit line. Outside a request the attribute is "-", so such formatters never fail. A record
factory rather than a filter: filters only see the records of the loggers or handlers they are
attached to.
"""

import contextlib
import contextvars
import logging
import uuid

OUTSIDE = "-"

_current = contextvars.ContextVar("django_mcp_correlation_id", default=OUTSIDE)


@contextlib.contextmanager
def new_request():
    """A fresh correlation id, current until the block ends (a contextvar: per thread and task).
    The transports open it first, so the key lookup and their refusals carry it too."""
    token = _current.set(uuid.uuid4().hex)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


@contextlib.contextmanager
def current_or_new():
    """The correlation id a transport already opened, or a fresh one for this block (a
    message handled without a transport): one id per request, never two nested."""
    current = _current.get()
    if current != OUTSIDE:
        yield current
        return
    with new_request() as correlation_id:
        yield correlation_id


def install_record_factory():
    """Wrap the process's log record factory once (AppConfig.ready may run more than once)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_correlation_id", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.correlation_id = _current.get()
        return record

    factory.adds_correlation_id = True
    logging.setLogRecordFactory(factory)
