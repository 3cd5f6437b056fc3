"""What loading the catalogue left out, or could describe only in part, and why.

Each is logged by the facts modules (what the host could not read, and the engine's reasons
for the views it does not serve) or the engine's load (in `engine.EngineRuntime`) and kept
with the catalogue, so `manage.py mcp_catalogue` lists what start-up only logged. No Django
here: the engine runtime collects with it.
"""

import contextlib
import contextvars
import functools
import logging
import sys

#: The list `report` appends to while a catalogue's facts are gathered in this context.
_kept: contextvars.ContextVar[list | None] = contextvars.ContextVar("django_mcp_left_out", default=None)
#: The list `report` holds its reports in, meanwhile (`held`).
_held: contextvars.ContextVar[list | None] = contextvars.ContextVar("django_mcp_left_out_held", default=None)


def report(logger, message, *args, level=logging.WARNING, exc_info=False):
    """Log `message % args` on `logger` and keep it for the catalogue being gathered, if any
    (the traceback of `exc_info`, True or an exception, goes to the log only)."""
    held = _held.get()
    if held is not None:
        exception = sys.exc_info()[1] if exc_info is True else exc_info
        held.append(functools.partial(report, logger, message, *args, level=level, exc_info=exception))
        return
    logger.log(level, message, *args, exc_info=exc_info)
    kept = _kept.get()
    if kept is not None:
        kept.append(message % args if args else message)


def kept():
    """The messages `report` is given meanwhile, in this context."""
    return _collecting(_kept)


def held():
    """Reports made meanwhile wait in the list it gives, in order, each as a call that makes it.
    The caller puts entries of its own among them and, once it knows more, makes each report in
    its place (facts/views.py: the views are listed, then the engine says which it serves)."""
    return _collecting(_held)


@contextlib.contextmanager
def _collecting(var):
    """A new list in `var` for this context, meanwhile."""
    entries = []
    token = var.set(entries)
    try:
        yield entries
    finally:
        var.reset(token)
