"""One JSON line per MCP request on logger ``django_mcp.audit`` (the original's fields)."""

import datetime
import json
import logging

from django_mcp import correlation, telemetry

logger = logging.getLogger("django_mcp.audit")
errors = logging.getLogger("django_mcp.audit.errors")

#: `json.dumps(entry, default=str)`, its encoder built once rather than on every line.
_LINE = json.JSONEncoder(default=str)

FIELDS = (
    "ts",
    "correlation_id",
    "transport",
    "key_id",
    "user_id",
    "method",
    "target",
    "outcome",
    "duration_ms",
    "wire_status",
    "error_code",
    "error_message",
    # The client of an OAuth access token (its client_id) when the caller used one, not a key.
    "oauth_client",
)


def refused(transport, reason, *, outcome="transport_error", wire_status=None, key_id=None, user_id=None):
    """Audit an answer a transport gave before the engine saw the message; `reason` is one of
    the transport's own fixed words (see `record`)."""
    with correlation.current_or_new() as correlation_id:
        record(
            correlation_id=correlation_id,
            transport=transport,
            key_id=key_id,
            user_id=user_id,
            method="<pre-dispatch>",
            outcome=outcome,
            duration_ms=0.0,
            wire_status=wire_status,
            error_message=reason,
        )


def record(**fields):
    """Write one audit line.

    `error_message` never carries what the request sent, nor the message its client got
    (which may quote an argument, or what the project said about one): only fixed words
    saying why it failed — the engine's failure kind and the argument paths it names
    (`validation: fields.title`, written by the engine's `Failure::audit_message`), or the
    host's refusal reason (`credential revoked`, `body too large`, `engine failure`).
    """
    entry = {name: fields.get(name) for name in FIELDS}
    entry["ts"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    try:
        if logger.isEnabledFor(logging.INFO):  # the line is not written when nobody reads it
            logger.info(_LINE.encode(entry), extra={"mcp": entry})
    except Exception:  # the audit trail never breaks a request
        errors.exception("audit record failed")
    try:
        telemetry.audited(entry)
    except Exception:  # nor does telemetry
        errors.exception("telemetry of the audit record failed")
