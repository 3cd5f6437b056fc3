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
    """A fresh correlation id, current until the block ends (a contextvar: per thread and task)."""
    token = _current.set(uuid.uuid4().hex)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


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
