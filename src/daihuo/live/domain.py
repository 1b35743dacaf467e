"""Pure live-session rules: states, event shapes and visitor tokens. No I/O.

States::

    scheduled ──start──▶ live ──end──▶ ended

A visitor token lets an anonymous viewer join one session's room. It is
``v1.<session>.<visitor>.<expires unix seconds>.<signature>`` where the signature is
HMAC-SHA256 (base64url, unpadded) over everything before it, keyed with a key derived
from the server secret for this one purpose. It is bound to the session, so a token of
one room does not open another, and the visitor id in it is the stable anonymous id the
room and the events use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SCHEDULED = "scheduled"
LIVE = "live"
ENDED = "ended"

VISITOR_PREFIX = "anon_"
_TOKEN_VERSION = "v1"  # noqa: S105 - a format version, not a secret
_MAX_TOKEN = 300


def event_ts(at: datetime) -> str:
    """A time in the events contract's one shape: ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def system_event(event_id: str, session_id: str, kind: str, at: datetime) -> dict[str, Any]:
    """A ``live_start`` / ``live_end`` event of shared/spec/events.md."""
    return {"id": event_id, "ts": event_ts(at), "session": session_id, "type": kind}


def visitor_key(server_secret: bytes) -> bytes:
    """The key for visitor tokens only: a leak of one derived key reveals no other."""
    return hmac.new(server_secret, b"daihuo/live/visitor-token/v1", hashlib.sha256).digest()


def _sign(key: bytes, body: str) -> str:
    mac = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def new_visitor_id() -> str:
    return VISITOR_PREFIX + secrets.token_hex(10)


def issue_visitor_token(key: bytes, session_id: str, visitor: str, expires: int) -> str:
    body = f"{_TOKEN_VERSION}.{session_id}.{visitor}.{expires}"
    return f"{body}.{_sign(key, body)}"


@dataclass(frozen=True)
class Visitor:
    session_id: str
    visitor: str
    expires: int


def verify_visitor_token(key: bytes, token: str, *, now: int) -> Visitor | None:
    """The token's visitor if the signature holds and it has not expired, else ``None``."""
    if not token.isascii() or len(token) > _MAX_TOKEN:
        return None
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != _TOKEN_VERSION:
        return None
    body, signature = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(_sign(key, body), signature):
        return None
    _, session_id, visitor, expires = parts[:4]
    if not expires.isdigit() or int(expires) <= now or not visitor.startswith(VISITOR_PREFIX):
        return None
    return Visitor(session_id, visitor, int(expires))
