"""Field values between JSON, storage and the wire, with Salesforce's DML error texts.

Stored forms: text as ``str``; id/reference as the 18-character ID; boolean ``bool``; numbers
``int``/``float``; date ``YYYY-MM-DD``; datetime the wire form ``YYYY-MM-DDThh:mm:ss.000+0000``
(UTC, fixed width, so text order is time order). Sources: REST API Developer Guide and the
recorded responses in salesforce-wire.md §6.3 (``"2013-05-07T22:07:19.000+0000"``) and §6.6.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from localforce.data.errors import BadRequest
from localforce.data.schema import NUMBER_TYPES, TEXT_TYPES, FieldDef
from localforce.domain import ids

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)\s*(Z|[+-]\d{2}:?\d{2})?$")


def is_true(flag: str | None) -> bool:
    """A query-string flag (``?allOrNone=true``, ``?updateOnly=TRUE``): ``true`` in any case."""
    return (flag or "").lower() == "true"


def format_datetime(moment: dt.datetime) -> str:
    """Salesforce's wire form: milliseconds and ``+0000`` without a colon."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def epoch_to_wire(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return format_datetime(dt.datetime.fromtimestamp(seconds, dt.UTC))


def wire_to_epoch(text: str) -> float:
    return parse_datetime(text).timestamp()


def parse_datetime(text: str) -> dt.datetime:
    match = _DATETIME.match(text.strip())
    if not match:
        raise ValueError(text)
    day, clock, zone = match.groups()
    if clock.count(":") == 1:
        clock += ":00"
    zone = "+00:00" if zone in (None, "Z") else zone
    if ":" not in zone:
        zone = zone[:3] + ":" + zone[3:]
    whole, _, fraction = clock.partition(".")
    fraction = (fraction + "000000")[:6]
    return dt.datetime.fromisoformat(f"{day}T{whole}.{fraction}{zone}")


def to_storage(f: FieldDef, value: Any, reference_prefixes: tuple[str, ...] = ()) -> Any:
    """A JSON value for ``f`` in stored form, or :class:`BadRequest` with Salesforce's text."""
    if value is None:
        return None
    kind = f.type
    if kind in TEXT_TYPES:
        return _text(f, value)
    if kind in ("id", "reference"):
        return _reference(f, value, reference_prefixes)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _json_error("boolean", value)
    if kind in NUMBER_TYPES:
        return _number(f, value)
    if kind == "date":
        if isinstance(value, str) and _DATE.match(value):
            try:
                dt.date.fromisoformat(value)
                return value
            except ValueError:
                pass
        raise _json_error("date", value)
    if kind == "datetime":
        try:
            return format_datetime(parse_datetime(str(value)))
        except ValueError:
            raise _json_error("datetime", value) from None
    if kind == "base64":
        try:
            base64.b64decode(str(value), validate=True)
        except ValueError:
            raise _json_error("base64", value) from None
        return str(value)
    return value


def converter(f: FieldDef, reference_prefixes: tuple[str, ...] = ()) -> Callable[[Any], Any]:
    """``to_storage`` for one field, worked out once (a Bulk transaction converts the same
    few fields 10,000 times): plain text and numbers given as text take a short path to the
    same value; anything that path does not settle, errors included, goes through
    ``to_storage``."""
    kind = f.type

    def general(value: Any) -> Any:
        return to_storage(f, value, reference_prefixes)

    plain = plain_text(f)
    if plain is not None:
        length = plain

        def text(value: Any) -> Any:
            if value.__class__ is str and (not length or len(value) <= length):
                return value
            return general(value)

        return text
    if kind in NUMBER_TYPES:
        limit, whole = _limit(f), kind in ("int", "long")

        def number(value: Any) -> Any:
            if value.__class__ is str:
                try:
                    parsed = float(value)
                except ValueError:
                    return general(value)
                if abs(parsed) < limit:  # finite (NaN compares false) and in range
                    if not whole:
                        return parsed
                    if parsed == int(parsed):
                        return int(parsed)
            return general(value)

        return number
    return general


def plain_text(f: FieldDef) -> int | None:
    """For a text field whose stored form of a string is that string when no longer than
    the field's length (0: any length; no email or restricted picklist check), that length;
    None for the other fields."""
    kind = f.type
    if kind in TEXT_TYPES and kind != "email" and not (
            kind == "picklist" and f.flag("restrictedPicklist")):
        return f.length or 0
    return None


def _text(f: FieldDef, value: Any) -> str:
    if isinstance(value, bool) or isinstance(value, dict | list):
        raise _json_error("String", value)
    text = str(value)
    if f.length and len(text) > f.length:
        raise BadRequest("STRING_TOO_LONG", f"{f.describe.get('label', f.name)}: data value too "
                         f"large: {text} (max length={f.length})", [f.name])
    if f.type == "email" and text and not _EMAIL.match(text):
        raise BadRequest("INVALID_EMAIL_ADDRESS", f"{f.describe.get('label', f.name)}: invalid "
                         f"email address: {text}", [f.name])
    if f.type == "picklist" and f.flag("restrictedPicklist") and text not in f.picklist_values:
        raise BadRequest("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                         f"{f.describe.get('label', f.name)}: bad value for restricted picklist "
                         f"field: {text}", [f.name])
    return text


def _reference(f: FieldDef, value: Any, prefixes: tuple[str, ...]) -> str:
    text = str(value)
    if not ids.is_valid(text) or (prefixes and ids.to18(text)[:3] not in prefixes):
        raise BadRequest("MALFORMED_ID", f"{f.describe.get('label', f.name)}: id value of "
                         f"incorrect type: {text}", [f.name])
    return ids.to18(text)


def _number(f: FieldDef, value: Any) -> int | float:
    if isinstance(value, bool):
        raise _json_error("double", value)
    try:
        number = float(value) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise _json_error("double", value) from None
    if not math.isfinite(number) or abs(number) >= _limit(f):
        raise BadRequest("NUMBER_OUTSIDE_VALID_RANGE", f"{f.describe.get('label', f.name)}: "
                         f"value outside of valid range on numeric field: {value}", [f.name])
    if f.type in ("int", "long"):
        if float(number) != int(number):
            raise _json_error("int", value)
        return int(number)
    return float(number)


def _limit(f: FieldDef) -> float:
    """The first magnitude a number field cannot hold: 10^(precision - scale) for
    double/currency/percent, 10^digits for int/long (from the describe); 1e18 otherwise, so
    every stored value is finite and fits an 8-byte integer or double."""
    d = f.describe
    digits = int(d.get("digits") or 0) if f.type in ("int", "long") else \
        int(d.get("precision") or 0) - int(d.get("scale") or 0)
    return 10.0 ** digits if 0 < digits <= 18 else 1e18


def _json_error(kind: str, value: Any) -> BadRequest:
    """Salesforce's Jackson text for a value of the wrong JSON type (JSON_PARSER_ERROR)."""
    token = "VALUE_STRING" if isinstance(value, str) else (
        "VALUE_TRUE" if value is True else "VALUE_FALSE" if value is False else
        "START_OBJECT" if isinstance(value, dict) else "START_ARRAY" if isinstance(value, list)
        else "VALUE_NUMBER_INT")
    return BadRequest("JSON_PARSER_ERROR", f"Cannot deserialize instance of {kind} from "
                      f"{token} value {value} or request may be missing a required field")


#: The field types whose value ``to_wire`` answers as a float; every other type's is a string,
#: an integer, a boolean or null.
FLOAT_TYPES = frozenset({"double", "currency", "percent"})


class FloatFree(dict[str, Any]):
    """An answer the data layer knows holds no float, its fields' types say so (none of
    ``FLOAT_TYPES``): its JSON encoder need not look for one (web/errors.py ``json_bytes``).
    A plain ``dict`` otherwise, encoded the same."""

    __slots__ = ()


#: The field types whose stored value ``to_wire`` changes (for every other type it answers the
#: value as stored).
WIRE_CONVERTED = frozenset({"base64", "double", "currency", "percent", "int", "long",
                            "boolean"})


def to_wire(f: FieldDef, value: Any, record_url: str = "") -> Any:
    """A stored value as JSON: currency/double as floats, a blob (base64) as the URL it is
    read from (``<record url>/<field>``), the rest as stored."""
    if value is None:
        return None
    if f.type == "base64":
        return f"{record_url}/{f.name}"
    if f.type in FLOAT_TYPES:
        number = float(value)
        return number if math.isfinite(number) else None  # never stored since; JSON has none
    if f.type in ("int", "long"):
        return int(value)
    if f.type == "boolean":
        return bool(value)
    return value


def compound_address(address: FieldDef, parts: Sequence[tuple[FieldDef, Any]]) -> Any:
    """An address field as Salesforce returns it, from its parts' stored values:
    ``{"city": …, "country": …, "geocodeAccuracy": …, "latitude": …, "longitude": …,
    "postalCode": …, "state": …, "street": …}`` (keys sorted), or null when every part is."""
    if all(value is None for _, value in parts):
        return None
    keys = _address_keys(address.name, tuple(f.name for f, _ in parts))
    return {key: to_wire(*parts[at]) for at, key in keys}


@functools.lru_cache(maxsize=256)
def _address_keys(address: str, parts: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    """Each part's key in the answer (``BillingPostalCode`` -> ``postalCode``) with its
    position among ``parts``, in key order; a key two parts share is the last one's."""
    prefix = address[:-len("Address")]
    keys: dict[str, int] = {}
    for at, name in enumerate(parts):
        key = name[len(prefix):]
        keys[key[:1].lower() + key[1:]] = at
    return tuple((at, key) for key, at in sorted(keys.items()))


def formatted(f: FieldDef, value: Any, zone: dt.tzinfo) -> Any:
    """``FORMAT(field)``: the value as the user reads it (en_US patterns; the org's one
    currency is USD): currency ``$1,234.50``, numbers grouped to the field's scale, percent
    with ``%``, date ``12/31/2026``, date-time ``12/31/2026 4:05 PM`` in the user's zone."""
    if value is None:
        return None
    kind = f.type
    if kind in ("currency", "double", "percent", "int", "long"):
        scale = int(f.describe.get("scale") or 0) if kind != "currency" else 2
        amount = Decimal(str(value)).quantize(Decimal(1).scaleb(-scale), ROUND_HALF_UP)
        text = f"{abs(amount):,.{scale}f}"
        sign = "-" if amount < 0 else ""
        if kind == "currency":
            return f"{sign}${text}"
        return f"{sign}{text}%" if kind == "percent" else f"{sign}{text}"
    if kind == "date" and isinstance(value, str):
        day = dt.date.fromisoformat(value[:10])
        return f"{day.month}/{day.day}/{day.year}"
    if kind == "datetime" and isinstance(value, str):
        moment = parse_datetime(value).astimezone(zone)
        hour = moment.hour % 12 or 12
        return (f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d} "
                f"{'AM' if moment.hour < 12 else 'PM'}")
    return value
