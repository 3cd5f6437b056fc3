"""Authenticate the credential of an incoming request against `MCPAPIKey`."""

import enum
import re
import weakref
from dataclasses import dataclass
from functools import partial

from django.core.signals import setting_changed
from django.db import connections, router
from django.db.models import F
from django.db.models import query as model_query
from django.dispatch import receiver

from .models import CREDENTIAL_SEPARATOR, KEY_ID_LENGTH, MCPAPIKey

# Both halves come from the urlsafe alphabet; the bound on the secret keeps junk off the hasher.
_CREDENTIAL = re.compile(
    rf"(?P<key_id>[A-Za-z0-9_-]{{{KEY_ID_LENGTH}}}){re.escape(CREDENTIAL_SEPARATOR)}"
    r"(?P<secret>[A-Za-z0-9_-]{1,128})"
)


class KeyStatus(enum.StrEnum):
    OK = "ok"
    MISSING = "missing"
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    WRONG_SECRET = "wrong_secret"
    REVOKED = "revoked"
    EXPIRED = "expired"
    INACTIVE_USER = "inactive_user"


@dataclass(frozen=True)
class KeyCheck:
    status: KeyStatus
    # The key id the client presented, when it could be parsed (for the audit log).
    key_id: str | None = None
    # The stored key, when one matched the key id, whatever the outcome.
    key: MCPAPIKey | None = None

    @property
    def ok(self):
        return self.status is KeyStatus.OK

    @property
    def user(self):
        """The authenticated user; None unless the check succeeded."""
        return self.key.user if self.ok else None

    @property
    def http_status(self):
        """None when authenticated; 403 for an inactive user; 401 for every invalid token."""
        if self.ok:
            return None
        # MCP authorization treats a missing, wrong, revoked or expired token alike: 401.
        return 403 if self.status is KeyStatus.INACTIVE_USER else 401


def _split_credential(value):
    """Split an Authorization header value or a bare credential into (status, key_id, secret)."""
    parts = (value or "").split()
    if not parts:
        return KeyStatus.MISSING, None, None
    if len(parts) == 2 and parts[0].lower() == "bearer":
        credential = parts[1]
    elif len(parts) == 1:
        credential = parts[0]
    else:
        return KeyStatus.MALFORMED, None, None
    match = _CREDENTIAL.fullmatch(credential)
    if match is None:
        return KeyStatus.MALFORMED, None, None
    return None, match["key_id"], match["secret"]


def authenticate_credential(value):
    """Check `Bearer <key_id>.<secret>` (or the bare credential) with one database query.

    The secret is verified before the key's state is looked at, so a caller who does not hold
    the secret learns nothing about whether a key is revoked or expired.
    """
    failure, key_id, secret = _split_credential(value)
    if failure is not None:
        return KeyCheck(failure)
    key = find_key(key_id)
    if key is None:
        return KeyCheck(KeyStatus.UNKNOWN, key_id)
    if not key.verify_secret(secret):
        return KeyCheck(KeyStatus.WRONG_SECRET, key_id, key)
    return KeyCheck(_standing(key), key_id, key)


def recheck_key(key_id):
    """The key as it stands now, read again with a fresh user (so the user's permissions are
    read again too): for a session that proved the secret once (STDIO)."""
    key = find_key(key_id)
    if key is None:
        return KeyCheck(KeyStatus.UNKNOWN, key_id)
    return KeyCheck(_standing(key), key_id, key)


def presented_key_id(value):
    """The key id of an Authorization header value, when it has the shape of a key credential."""
    return _split_credential(value)[1]


def _standing(key):
    if key.is_revoked:
        return KeyStatus.REVOKED
    if key.is_expired:
        return KeyStatus.EXPIRED
    if not key.user.is_active:
        return KeyStatus.INACTIVE_USER
    return KeyStatus.OK


def find_key(key_id):
    """The key with `key_id` and its user, in one query, or None: what
    `MCPAPIKey.objects.select_related("user").get(key_id=key_id)` gives, less building and
    compiling that same query again on every request (~250 µs of its ~300)."""
    return compiled_lookup(MCPAPIKey, "key_id", ("user",)).find(key_id)


def compiled_lookup(model, field, related, only=None, values=None):
    """The `CompiledLookup` of `model` by its unique `field`, with the `related` rows, on the
    alias the router reads `model` from. When given, `only` names the fields read (as
    `QuerySet.only`), and `values` pairs of an attribute and the field it is read from across
    a relation (`("client_id", "application__client_id")`), for a value without its instance."""
    alias = router.db_for_read(model)
    lookup = _lookups.get((alias, model, field, related, only, values))
    if lookup is None:
        lookup = _lookups[alias, model, field, related, only, values] = CompiledLookup(
            alias, model, field, related, only, values
        )
    return lookup


#: One compiled lookup per database alias and query. Not per connection: Django opens one per
#: thread, and under ASGI every request runs on a thread of its own.
_lookups: dict[tuple, "CompiledLookup"] = {}


@receiver(setting_changed)
def _forget_lookups(setting, **kwargs):
    if setting == "DATABASES":
        _lookups.clear()


class CompiledLookup:
    """A query for one row by a unique field, compiled once, its rows turned into instances as
    the ORM's own model iterable does: the compiler's converters, `from_db`, the select_related
    populators. The SQL and the converters are the same for every connection to the alias; the
    query runs on the calling thread's own. The compiler keeps a connection object of its own,
    which never holds a database connection: one of a thread's would outlive the thread with it."""

    _VALUE = "\x00value"  # no looked-up value looks like this: it marks the parameter to replace

    def __init__(self, alias, model, field, related, only=None, values=None):
        self.alias, self.model = alias, model
        queryset = model._default_manager.using(alias).select_related(*related).filter(**{field: self._VALUE})
        if only is not None:
            queryset = queryset.only(*only)
        if values is not None:
            queryset = queryset.annotate(**{name: F(path) for name, path in values})
        own = connections.create_connection(alias)
        try:
            self.compiler = queryset.query.get_compiler(connection=own)
            self.sql, params = self.compiler.as_sql()
        finally:
            own.close()  # in case compiling asked the server something (its version)
        self.params = list(params)
        self.position = self.params.index(self._VALUE)
        fields = self.compiler.klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in self.compiler.select[self.start : self.end]]
        # Django 6.1 hands the queryset's fetch mode to `from_db` and the populators (through a
        # helper that also serves `from_db` overrides written before fetch modes, while they
        # are deprecated).
        self.fetch_mode = getattr(queryset, "_fetch_mode", None)
        if self.fetch_mode is None:
            self.from_db = model.from_db
            self.populators = model_query.get_related_populators(self.compiler.klass_info, self.compiler.select, alias)
        else:
            bind = getattr(model_query, "_get_from_db", None)
            self.from_db = bind(model, self.fetch_mode) if bind else partial(model.from_db, fetch_mode=self.fetch_mode)
            self.populators = model_query.get_related_populators(
                self.compiler.klass_info, self.compiler.select, alias, self.fetch_mode
            )
        # What `results_iter` would work out again for every row it is given.
        columns = [column[0] for column in self.compiler.select[: self.compiler.col_count]]
        if self.compiler.has_composite_fields(columns):
            raise ValueError(f"{model._meta.label} has composite fields: a CompiledLookup does not read them")
        self.converters = self.compiler.get_converters(columns)
        self.values = list(self.compiler.annotation_col_map.items())

    def find(self, value):
        params = list(self.params)
        params[self.position] = value
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchmany(2)
        if len(rows) != 1:  # the field is unique: none, or one
            return None
        row = rows[0]
        if self.converters:
            (row,) = self.compiler.apply_converters(rows, self.converters)
        instance = self.from_db(self.alias, self.init_list, row[self.start : self.end])
        if self.fetch_mode is not None and self.fetch_mode.track_peers:  # its only peer is itself
            instance._state.peers = [weakref.ref(instance)]
        for populator in self.populators:
            populator.populate(row, instance)
        for name, position in self.values:
            setattr(instance, name, row[position])
        return instance
