"""The live-room WebSocket protocol, version 1 (docs/protocol.md): client messages in,
server messages out. Pure: no I/O.

Server messages are built as JSON text here, once; room messages (``comment``, ``likes``,
``online``, ``coupon``, ``draw``, ``ended``…) travel over the bus without a number and
get their ``seq`` there.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from typing import Any

VERSION = 1
MAX_MESSAGE_CHARS = 4096
MAX_LIKES_PER_MESSAGE = 100
MAX_REF = 64
SOURCES = ("feed", "follow", "search", "share", "ads", "other")

# Close codes (docs/protocol.md).
CLOSE_NORMAL = 1000
CLOSE_TOO_BIG = 1009
CLOSE_PROTOCOL = 4000
CLOSE_UNAUTHORIZED = 4001
CLOSE_BANNED = 4003
CLOSE_NOT_FOUND = 4404
CLOSE_IDLE = 4408
CLOSE_NOT_LIVE = 4409
CLOSE_ENDED = 4410
CLOSE_FLOOD = 4429
CLOSE_TOO_SLOW = 4430

# Bidirectional-text controls can make a comment display as something else.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


class ProtocolError(Exception):
    """A client message the room refuses; ``code`` goes into the error frame."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def out(kind: str, **fields: Any) -> str:
    """A top-level server message."""
    return dumps({"v": VERSION, "type": kind, **fields})


def error(code: str, detail: str, ref: str | None = None) -> str:
    extra = {"ref": ref} if ref is not None else {}
    return out("error", code=code, detail=detail, **extra)


def frame(messages: list[str]) -> str:
    """Room messages (JSON texts, each with its ``seq``) bundled without re-encoding."""
    return f'{{"v":{VERSION},"type":"frame","msgs":[' + ",".join(messages) + "]}"


def room_message(kind: str, **fields: Any) -> bytes:
    """A room message for the bus (which adds ``seq``)."""
    return json.dumps({"type": kind, **fields}, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Hello:
    token: str | None
    visitor: str | None
    resume_from: int | None
    device: str | None
    source: str


def _object(text: str) -> dict[str, Any]:
    try:
        obj = json.loads(text)
    except ValueError:
        raise ProtocolError("bad-json", "A message must be one JSON object.") from None
    if not isinstance(obj, dict):
        raise ProtocolError("bad-json", "A message must be one JSON object.")
    return obj


def _opt_str(obj: dict[str, Any], key: str, limit: int) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ProtocolError("bad-message", f"'{key}' must be a string of 1 to {limit} characters.")
    return value


def parse_hello(text: str) -> Hello:
    obj = _object(text)
    if obj.get("type") != "hello":
        raise ProtocolError("bad-message", "The first message must be a hello.")
    if obj.get("v") != VERSION:
        raise ProtocolError("unsupported-version", f"This server speaks version {VERSION}.")
    resume = obj.get("resume_from")
    if resume is not None and (type(resume) is not int or resume < 0):
        raise ProtocolError("bad-message", "'resume_from' must be a sequence number (>= 0).")
    device = _opt_str(obj, "device", 64)
    if device is not None and not (device.isascii() and device.isprintable()):
        raise ProtocolError("bad-message", "'device' must be printable ASCII.")
    source = obj.get("source", "other")
    if source not in SOURCES:
        raise ProtocolError("bad-message", f"'source' must be one of {', '.join(SOURCES)}.")
    return Hello(
        token=_opt_str(obj, "token", 200),
        visitor=_opt_str(obj, "visitor", 300),
        resume_from=resume,
        device=device,
        source=source,
    )


@dataclass(frozen=True)
class Ping:
    t: Any


@dataclass(frozen=True)
class Comment:
    text: str
    ref: str | None


@dataclass(frozen=True)
class Like:
    count: int


@dataclass(frozen=True)
class Track:
    """A viewer action the room only records: share, follow, a product card shown or
    opened, an add to cart."""

    kind: str
    product: str | None = None
    qty: int | None = None


@dataclass(frozen=True)
class ClaimCoupon:
    coupon: str
    ref: str | None


TRACKED = frozenset({"share", "follow", "product_impression", "product_click", "cart_add"})
PRODUCT_TRACKED = frozenset({"product_impression", "product_click", "cart_add"})
MAX_QTY = 999

ClientMessage = Ping | Comment | Like | Track | ClaimCoupon


def ref_of(text: str) -> str | None:
    """The client's ``ref`` of a message, best effort (for error frames)."""
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    ref = obj.get("ref") if isinstance(obj, dict) else None
    return ref if isinstance(ref, str) and len(ref) <= MAX_REF else None


def parse(text: str, *, max_comment: int) -> ClientMessage:
    """One client message after the hello."""
    obj = _object(text)
    kind = obj.get("type")
    if kind == "ping":
        t = obj.get("t")
        return Ping(t if isinstance(t, int | str) and len(str(t)) <= MAX_REF else None)
    if kind == "comment":
        raw = obj.get("text")
        if not isinstance(raw, str):
            raise ProtocolError("bad-message", "'text' must be a string.")
        return Comment(check_comment(raw, max_comment), _opt_str(obj, "ref", MAX_REF))
    if kind == "like":
        count = obj.get("count", 1)
        if type(count) is not int or not 1 <= count <= MAX_LIKES_PER_MESSAGE:
            raise ProtocolError(
                "bad-message", f"'count' must be an integer from 1 to {MAX_LIKES_PER_MESSAGE}."
            )
        return Like(count)
    if kind in TRACKED:
        assert isinstance(kind, str)
        if kind not in PRODUCT_TRACKED:
            return Track(kind)
        product = obj.get("product")
        if not isinstance(product, str) or not product or len(product) > MAX_REF:
            raise ProtocolError("bad-message", "'product' must be a product id.")
        if kind != "cart_add":
            return Track(kind, product)
        qty = obj.get("qty", 1)
        if type(qty) is not int or not 1 <= qty <= MAX_QTY:
            raise ProtocolError("bad-message", f"'qty' must be an integer from 1 to {MAX_QTY}.")
        return Track(kind, product, qty)
    if kind == "claim_coupon":
        coupon = obj.get("coupon")
        if not isinstance(coupon, str) or not coupon or len(coupon) > MAX_REF:
            raise ProtocolError("bad-message", "'coupon' must be a coupon id.")
        return ClaimCoupon(coupon, _opt_str(obj, "ref", MAX_REF))
    if kind == "hello":
        raise ProtocolError("bad-message", "Already joined.")
    raise ProtocolError("unknown-type", "Unknown message type.")


def check_comment(text: str, max_chars: int) -> str:
    """The comment if it may be shown: not blank, not too long, no control characters."""
    if not text.strip():
        raise ProtocolError("empty", "A comment needs some text.")
    if len(text) > max_chars:
        raise ProtocolError("too-long", f"A comment has at most {max_chars} characters.")
    for c in text:
        if c in _BIDI or unicodedata.category(c) in ("Cc", "Cs"):
            raise ProtocolError("control-characters", "Control characters are not allowed.")
    return text
