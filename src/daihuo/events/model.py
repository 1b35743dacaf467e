"""The live-room event: its types, required keys and the checks one JSON object must pass.

The contract is shared/spec/events.md. :func:`event_from_obj` turns one decoded JSON
object into an :class:`Event` or raises :class:`InvalidEvent` whose text is the reason;
reading whole files is :mod:`daihuo.events.parse`.

The rules, including the choices made where events.md leaves room:

* ``ts`` must have exactly the shape of the spec's example, ``YYYY-MM-DDTHH:MM:SS.mmmZ``:
  upper-case ``T`` and ``Z``, exactly three fraction digits, ASCII digits, and a real
  calendar date and time (no ``:60`` leap second, no year 0000). RFC 3339 would also
  allow ``+00:00``, lower case or other fraction lengths; the contract names one shape,
  so anything else is rejected with a reason rather than guessed at.
* ``qty``, ``amount`` and ``count`` must be JSON integers: ``100.0``, ``1e2`` and ``true``
  are rejected although Python would compare them equal to integers.
  ``qty >= 1``, ``count >= 1``, ``amount >= 0``.
* ``id``, ``session``, ``user``, ``product`` and ``order`` must be non-empty strings (an
  empty id identifies nothing); ``text`` may be empty.
* A known key that is present must have its type whatever the event type (``qty: "2"``
  on a ``like`` is malformed), but is *required* only where :data:`REQUIRED_KEYS` says.
* ``null`` counts as absent: fine for an optional key, "missing" for a required one.
* ``product`` is required on ``order_created`` and ``order_paid`` but optional on
  ``order_refunded``: a refund names its ``order``, which carries the product, and both
  the spec's worked example and the simulated samples write refunds without it. (The
  table's "on product and order types" can be read either way; this is the reading that
  accepts the files the other tools write.)
* Unknown keys are kept verbatim in ``Event.extra`` (``None`` when there are none) and
  otherwise ignored.

``Event`` is a NamedTuple, not a dataclass or a pydantic model: files have millions of
lines and a tuple is built several times faster than a frozen dataclass.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Any, Final, NamedTuple

SYSTEM_TYPES: Final = frozenset({"live_start", "live_end"})
ORDER_TYPES: Final = frozenset({"order_created", "order_paid", "order_refunded"})
SOURCES: Final = ("feed", "follow", "search", "share", "ads", "other")

# type -> keys that must be present (and not null) besides id, ts, session, type.
REQUIRED_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    "live_start": (),
    "live_end": (),
    "impression": ("user", "source"),
    "enter": ("user", "source"),
    "leave": ("user",),
    "comment": ("user", "text"),
    "like": ("user",),
    "share": ("user",),
    "follow": ("user",),
    "product_impression": ("user", "product"),
    "product_click": ("user", "product"),
    "cart_add": ("user", "product", "qty"),
    "order_created": ("user", "product", "order", "qty", "amount"),
    "order_paid": ("user", "product", "order", "qty", "amount"),
    "order_refunded": ("user", "order", "amount"),  # no product: see the module docstring
}
EVENT_TYPES: Final = frozenset(REQUIRED_KEYS)
USER_TYPES: Final = EVENT_TYPES - SYSTEM_TYPES


class Event(NamedTuple):
    """One accepted event. ``ts_ms`` is ``ts`` as integer milliseconds since the epoch (UTC)."""

    id: str
    ts: str
    ts_ms: int
    session: str
    type: str
    user: str | None = None
    source: str | None = None
    product: str | None = None
    order: str | None = None
    qty: int | None = None
    amount: int | None = None
    text: str | None = None
    # Named as in the spec; it shadows tuple.count(), which nothing here needs.
    count: int | None = None  # type: ignore[assignment]
    device: str | None = None
    ip: str | None = None
    meta: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None


KNOWN_KEYS: Final = frozenset(Event._fields) - {"ts_ms", "extra"}


class InvalidEvent(ValueError):
    """A JSON object that breaks the contract; ``str(exc)`` is the readable reason."""


# [0-9], not \d: \d also matches non-ASCII digits such as '٣'.
_TS_SHAPE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_DAY_MS: Final = 86_400_000


@lru_cache(maxsize=8192)
def _minute_ms(prefix: str) -> int | None:
    # Keyed by "YYYY-MM-DDTHH:MM": a session spans a few hundred minutes, so nearly
    # every line hits the cache and only seconds and milliseconds are converted.
    try:
        day = date(int(prefix[0:4]), int(prefix[5:7]), int(prefix[8:10]))
    except ValueError:
        return None
    hour, minute = int(prefix[11:13]), int(prefix[14:16])
    if hour > 23 or minute > 59:
        return None
    return ((day.toordinal() - _EPOCH_ORDINAL) * 1440 + hour * 60 + minute) * 60_000


def parse_ts(ts: str) -> int:
    """Milliseconds since the epoch of a contract timestamp; :class:`InvalidEvent` otherwise."""
    if _TS_SHAPE.fullmatch(ts) is None:
        raise InvalidEvent(
            "ts must be RFC 3339 UTC with milliseconds, shaped like "
            f"2026-11-27T12:00:05.120Z; got {_preview(ts)}"
        )
    base = _minute_ms(ts[:16])
    seconds_ms = int(ts[17:19] + ts[20:23])
    if base is None or seconds_ms >= 60_000:
        raise InvalidEvent(f"ts is not a real date and time: {_preview(ts)}")
    return base + seconds_ms


def format_ts(ms: int) -> str:
    """The contract string of an instant given in milliseconds since the epoch."""
    days, rest = divmod(ms, _DAY_MS)
    secs, milli = divmod(rest, 1000)
    mins, sec = divmod(secs, 60)
    hour, minute = divmod(mins, 60)
    day = date.fromordinal(days + _EPOCH_ORDINAL)
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:{sec:02d}.{milli:03d}Z"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _preview(value: object, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(value: object) -> str:
    return f"{_json_type(value)} {_preview(value)}"


# Known keys besides id/ts/session/type, by the check a present, non-null value must pass.
_BASE_KEYS: Final = frozenset({"id", "ts", "session", "type"})
_IDENT_KEYS: Final = frozenset({"user", "product", "order", "source"})  # non-empty strings
_TEXT_KEYS: Final = frozenset({"text", "device", "ip"})  # strings, may be empty
_INT_MINIMUM: Final = {"qty": 1, "amount": 0, "count": 1}
_INT_UNIT: Final = {"qty": "units", "amount": "fen", "count": "likes"}


def _bad_string(key: str, value: object) -> InvalidEvent:
    if type(value) is not str:
        return InvalidEvent(f"{key} must be a string, got {_describe(value)}")
    return InvalidEvent(f"{key} must be a non-empty string")


def _bad_integer(key: str, value: object) -> InvalidEvent:
    if type(value) is not int:
        return InvalidEvent(
            f"{key} must be an integer number of {_INT_UNIT[key]}, got {_describe(value)}"
        )
    return InvalidEvent(f"{key} must be >= {_INT_MINIMUM[key]}, got {value}")


def _missing(obj: Mapping[str, Any], key: str, etype: str | None = None) -> InvalidEvent:
    where = f" for type {etype}" if etype else ""
    null = " (it is null)" if key in obj else ""
    return InvalidEvent(f"missing required key {key!r}{where}{null}")


def _base_problem(obj: Mapping[str, Any]) -> InvalidEvent:
    for key in ("id", "ts", "session", "type"):
        if obj.get(key) is None:
            return _missing(obj, key)
    for key in ("id", "ts", "session", "type"):
        value = obj[key]
        if type(value) is not str or not value:
            return _bad_string(key, value)
    raise AssertionError("called for a valid object")  # pragma: no cover


def event_from_obj(obj: Mapping[str, Any]) -> Event:
    """Validate one decoded JSON object and build its :class:`Event`.

    Written as one pass over the keys with inline checks because it runs once per line
    of files with millions of lines; the readable reasons are built only on failure.
    """
    get = obj.get
    eid, ts, session, etype = get("id"), get("ts"), get("session"), get("type")
    if not (
        type(eid) is str
        and eid
        and type(ts) is str
        and type(session) is str
        and session
        and type(etype) is str
    ):
        raise _base_problem(obj)
    required = REQUIRED_KEYS.get(etype)
    if required is None:
        raise InvalidEvent(f"unknown type {_preview(etype)}")
    for key in required:
        if get(key) is None:
            raise _missing(obj, key, etype)
    ts_ms = parse_ts(ts)

    extra = None
    for key, value in obj.items():
        if key in _BASE_KEYS or (value is None and key in KNOWN_KEYS):
            continue
        if key in _IDENT_KEYS:
            if type(value) is not str or not value:
                raise _bad_string(key, value)
        elif key in _INT_MINIMUM:
            if type(value) is not int or value < _INT_MINIMUM[key]:
                raise _bad_integer(key, value)
        elif key in _TEXT_KEYS:
            if type(value) is not str:
                raise _bad_string(key, value)
        elif key == "meta":
            if type(value) is not dict:
                raise InvalidEvent(f"meta must be an object, got {_describe(value)}")
        else:
            if extra is None:
                extra = {}
            extra[key] = value
    source = get("source")
    if source is not None and source not in SOURCES:
        raise InvalidEvent(f"source must be one of {', '.join(SOURCES)}; got {_preview(source)}")

    return Event(
        eid,
        ts,
        ts_ms,
        session,
        etype,
        get("user"),
        source,
        get("product"),
        get("order"),
        get("qty"),
        get("amount"),
        get("text"),
        get("count"),
        get("device"),
        get("ip"),
        get("meta"),
        extra,
    )


def event_to_obj(event: Event) -> dict[str, Any]:
    """The JSON object of an event (keys left out where ``None``; unknown keys restored)."""
    obj: dict[str, Any] = {}
    for key, value in zip(Event._fields, event, strict=True):
        if value is not None and key not in ("ts_ms", "extra"):
            obj[key] = value
    if event.extra:
        obj.update(event.extra)
    return obj
