"""What loading the catalogue left out, or could describe only in part, and why.

Each is logged where it is decided (the facts modules here, the engine's load in
`engine.EngineRuntime`) and kept with the catalogue, so `manage.py mcp_catalogue` lists what
start-up only logged. No Django here: the engine runtime collects with it.
"""

import contextlib
import contextvars
import logging

#: The list `report` appends to while a catalogue's facts are gathered in this context.
_kept: contextvars.ContextVar[list | None] = contextvars.ContextVar("django_mcp_left_out", default=None)


def report(logger, message, *args, level=logging.WARNING, exc_info=False):
    """Log `message % args` on `logger` and keep it for the catalogue being gathered, if any
    (the traceback of `exc_info` goes to the log only)."""
    logger.log(level, message, *args, exc_info=exc_info)
    kept = _kept.get()
    if kept is not None:
        kept.append(message % args if args else message)


@contextlib.contextmanager
def kept():
    """The messages `report` is given meanwhile, in this context."""
    messages = []
    token = _kept.set(messages)
    try:
        yield messages
    finally:
        _kept.reset(token)
