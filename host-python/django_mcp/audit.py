"""One JSON line per MCP request on logger ``django_mcp.audit`` (the original's fields)."""

import datetime
import json
import logging
import uuid

logger = logging.getLogger("django_mcp.audit")
errors = logging.getLogger("django_mcp.audit.errors")

FIELDS = (
    "ts", "correlation_id", "transport", "key_id", "user_id", "method", "target",
    "outcome", "duration_ms", "wire_status", "error_code", "error_message",
)


def refused(transport, reason, *, outcome="transport_error", wire_status=None, key_id=None, user_id=None):
    """Audit an answer a transport gave before the engine saw the message."""
    record(correlation_id=uuid.uuid4().hex, transport=transport, key_id=key_id, user_id=user_id,
           method="<pre-dispatch>", outcome=outcome, duration_ms=0.0, wire_status=wire_status,
           error_message=reason)


def record(**fields):
    entry = {name: fields.get(name) for name in FIELDS}
    entry["ts"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    try:
        logger.info(json.dumps(entry, default=str), extra={"mcp": entry})
    except Exception:  # the audit trail never breaks a request
        errors.exception("audit record failed")
