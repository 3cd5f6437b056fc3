"""Python values from the ORM → JSON values, as docs/engine-protocol.md describes them."""

import base64
import datetime
import decimal
import uuid

from django.db.models.fields.files import FieldFile
from django.utils.duration import duration_iso_string
from django.utils.functional import Promise


#: What a redacted field's value is sent as, whatever it holds: set or empty alike, since
#: whether a secret is set is information too.
MASK = "********"


def to_json(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime.timedelta):
        return duration_iso_string(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID, Promise)):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(v) for v in value]
    return str(value)


def field_value(obj, field):
    """The JSON value of `field` on `obj`: relations as target pks, without extra queries
    for foreign keys (their ``attname`` holds the pk); decimals with the field's places."""
    if field.many_to_many:
        return [to_json(pk) for pk in _related_pks(obj, field)]
    value = getattr(obj, field.attname)
    places = getattr(field, "decimal_places", None)
    if isinstance(value, decimal.Decimal) and places is not None and value.is_finite():
        # As stored: an object just saved from a form holds Decimal("3") for a 3.00 column.
        value = value.quantize(decimal.Decimal(1).scaleb(-places))
    return to_json(value)


def _related_pks(obj, field):
    prefetched = getattr(obj, "_prefetched_objects_cache", {}).get(field.name)
    if prefetched is not None:
        return [o.pk for o in prefetched]
    return getattr(obj, field.name).values_list("pk", flat=True)
