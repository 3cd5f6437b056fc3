"""The engine/host seam's vocabulary: the host's mirror of the engine's ``seam.rs``.

The engine decides and the host carries out: each step of the engine may return effects,
JSON objects tagged by ``kind`` (``EffectKind``, fields as the ``TypedDict`` of that kind
below), which the host answers, in order, with ``{"ok": value}`` or ``{"error": {"kind":
HostErrorKind, "message", "fields"?, "retry_after"?}}``. A finished request comes back with
its audit line, whose ``outcome`` is an ``AuditOutcome``. A kind added to the engine is added
here: ``tests/python/test_seam.py`` holds the two lists together. A message the host answers
without stepping the catalogue (a transport's check, a rate limit, no credential) is a
``Refusal`` (``RefusalKind``), which the engine words too (``errors.rs``); so is why a view
is not served (``LeftOut``).
"""

from enum import StrEnum
from typing import Any, Literal, NotRequired, TypedDict


class EffectKind(StrEnum):
    AUTHORIZE = "authorize"
    PERMISSIONS = "permissions"
    ADMIN_FORMS = "admin.forms"
    ADMIN_LIST = "admin.list"
    ADMIN_RETRIEVE = "admin.retrieve"
    ADMIN_CREATE = "admin.create"
    ADMIN_UPDATE = "admin.update"
    ADMIN_DELETE = "admin.delete"
    ADMIN_ACTION = "admin.action"
    MODEL_SEARCH = "model.search"
    VIEW_CALL = "view.call"
    DRF_CALL = "drf.call"
    CUSTOM_TOOL = "custom.tool"
    CUSTOM_RESOURCE = "custom.resource"
    CUSTOM_PROMPT = "custom.prompt"
    RESOURCE_OBJECT = "resource.object"
    RESOURCE_FILE = "resource.file"
    RESOURCE_OBJECTS = "resource.objects"


class HostErrorKind(StrEnum):
    """Why the host could not carry out an effect."""

    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    VALIDATION = "validation"
    CONFLICT = "conflict"
    INVALID = "invalid"
    TOO_LARGE = "too_large"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    RATE_LIMITED = "rate_limited"
    SKIPPED = "skipped"
    INTERNAL = "internal"


class AuditOutcome(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    OUT_OF_SCOPE = "out_of_scope"
    RATE_LIMITED = "rate_limited"
    UNAUTHENTICATED = "unauthenticated"
    TRANSPORT_ERROR = "transport_error"
    HANDLER_ERROR = "handler_error"


#: A gate as the engine renders it (``{"gate": "admin.view", "admin": …}``, ``{"gate": "user", …}``…).
Check = dict[str, Any]
JSON = Any


class Authorize(TypedDict):
    kind: Literal["authorize"]
    tool: NotRequired[str]
    checks: list[Check]


class Permissions(TypedDict):
    kind: Literal["permissions"]
    checks: list[Check]


class AdminForms(TypedDict):
    kind: Literal["admin.forms"]
    admins: list[str]


class Column(TypedDict):
    name: str
    field: str | None


class AdminList(TypedDict):
    kind: Literal["admin.list"]
    admin: str
    columns: list[Column]
    #: The columns, search fields and field paths usable in clear; anything else is masked
    #: or left out.
    cleared: list[str]
    q: str | None
    filters: list[dict[str, JSON]]
    ordering: list[str]
    page: int
    page_size: int


class AdminRetrieve(TypedDict):
    kind: Literal["admin.retrieve"]
    admin: str
    pk: JSON
    fields: list[str]
    masked: list[str]


class AdminCreate(TypedDict):
    kind: Literal["admin.create"]
    admin: str
    data: dict[str, JSON]
    fields: list[str]
    masked: list[str]


class AdminUpdate(TypedDict):
    kind: Literal["admin.update"]
    admin: str
    pk: JSON
    data: dict[str, JSON] | None
    fields: list[str]
    masked: list[str]


class AdminDelete(TypedDict):
    kind: Literal["admin.delete"]
    admin: str
    pk: JSON


class AdminAction(TypedDict):
    kind: Literal["admin.action"]
    admin: str
    action: str
    pks: list[JSON] | None


class ModelSearch(TypedDict):
    kind: Literal["model.search"]
    model: str
    admin: str | None
    q: str | None
    search_fields: list[str]
    filters: list[dict[str, JSON]]
    ordering: list[str]
    page: int
    page_size: int
    fields: list[str]
    masked: list[str]


class ViewCall(TypedDict):
    kind: Literal["view.call"]
    view: str
    method: str
    path: dict[str, JSON]
    query: dict[str, JSON] | None
    body: JSON
    #: Run in a transaction (the method may write), rolled back from this status up.
    atomic: bool
    rollback_from: int
    #: The object keys masked at any depth in a JSON body.
    masked: list[str]


class DrfCall(TypedDict):
    kind: Literal["drf.call"]
    view: str
    handler: str
    method: str
    path: dict[str, JSON]
    query: dict[str, JSON]
    body: JSON
    atomic: bool
    rollback_from: int
    masked: list[str]


class ClientInput(TypedDict, total=False):
    """What a custom handler continuing a multi round-trip request is given."""

    input_responses: dict[str, JSON] | None
    request_state: str | None
    client_capabilities: dict[str, JSON] | None


class CustomTool(ClientInput):
    kind: Literal["custom.tool"]
    tool: str
    arguments: dict[str, JSON]


class CustomResource(ClientInput):
    kind: Literal["custom.resource"]
    uri: str
    template: str
    variables: dict[str, str]


class CustomPrompt(ClientInput):
    kind: Literal["custom.prompt"]
    name: str
    arguments: dict[str, str]


class Source(TypedDict, total=False):
    """Where objects come from: an admin (by its id) or a model (by its label)."""

    admin: str
    model: str


class ResourceObject(TypedDict):
    kind: Literal["resource.object"]
    source: Source
    pk: JSON
    fields: list[str]
    masked: list[str]


class ResourceFile(TypedDict):
    kind: Literal["resource.file"]
    source: Source
    pk: JSON
    field: str
    max_bytes: int


class ResourceObjects(TypedDict):
    kind: Literal["resource.objects"]
    source: Source
    offset: int
    limit: int
    prefix: str | None


Effect = (
    Authorize
    | Permissions
    | AdminForms
    | AdminList
    | AdminRetrieve
    | AdminCreate
    | AdminUpdate
    | AdminDelete
    | AdminAction
    | ModelSearch
    | ViewCall
    | DrfCall
    | CustomTool
    | CustomResource
    | CustomPrompt
    | ResourceObject
    | ResourceFile
    | ResourceObjects
)


class HostError(TypedDict):
    kind: HostErrorKind
    message: str
    fields: NotRequired[dict[str, list[str]]]
    retry_after: NotRequired[int]


class RefusalKind(StrEnum):
    """Why the host answers a message without stepping the catalogue (``errors.rs``,
    ``Refusal``): the engine words the reply, its HTTP status and the audit line."""

    BODY_TOO_LARGE = "body_too_large"
    MEDIA_TYPE = "media_type"
    INVALID_UTF8 = "invalid_utf8"
    FOREIGN_ORIGIN = "foreign_origin"
    UNKNOWN_SESSION = "unknown_session"
    CREDENTIAL_FAILURES_LIMITED = "credential_failures_limited"
    INVALID_CREDENTIAL = "invalid_credential"
    INACTIVE_USER = "inactive_user"
    NO_MCP_SCOPE = "no_mcp_scope"
    RATE_LIMITED = "rate_limited"
    #: No credential was sent: refused only when the message needs one, else admitted.
    NO_CREDENTIAL = "no_credential"
    #: The engine failed the request (it trapped).
    INTERNAL = "internal"


class CredentialStatus(StrEnum):
    """Why a credential does not hold (``invalid_credential``)."""

    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    WRONG_SECRET = "wrong_secret"
    REVOKED = "revoked"
    EXPIRED = "expired"
    WRONG_AUDIENCE = "wrong_audience"


class PlainRefusal(TypedDict):
    """A refusal with nothing to say but its kind (media type, origin, session, …)."""

    kind: RefusalKind


class BodyTooLarge(TypedDict):
    kind: Literal[RefusalKind.BODY_TOO_LARGE]
    limit: int


class RetryLater(TypedDict):
    """``rate_limited``, ``credential_failures_limited``: seconds until the client may retry."""

    kind: Literal[RefusalKind.RATE_LIMITED, RefusalKind.CREDENTIAL_FAILURES_LIMITED]
    retry_after: int


class InvalidCredential(TypedDict):
    kind: Literal[RefusalKind.INVALID_CREDENTIAL]
    status: CredentialStatus
    #: OAuth access tokens are accepted beside keys (the 401 names both).
    tokens: NotRequired[bool]


class Internal(TypedDict):
    kind: Literal[RefusalKind.INTERNAL]
    correlation_id: str


Refusal = PlainRefusal | BodyTooLarge | RetryLater | InvalidCredential | Internal


class LeftOut(TypedDict):
    """The engine's answer (``selection.rs``) for a view it does not serve: why, and the
    logging level the host reports it at. A view it serves is answered ``None``."""

    reason: str
    level: int
