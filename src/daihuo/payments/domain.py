"""Pure payment rules: the webhook signature, the callback backoff. No I/O.

Webhook signature (the sandbox's, shaped like the big providers')::

    Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

The receiver recomputes the HMAC over the exact bytes it received, compares in
constant time, and refuses a timestamp more than ``tolerance`` seconds away from its
own clock. The timestamp is inside the MAC, so an old request cannot be made fresh;
together with the stored event ids (a replay inside the window is refused) a
captured callback cannot be played again.
"""

from __future__ import annotations

import hashlib
import hmac

from daihuo.payments.errors import WebhookSignatureInvalid, WebhookStale

SIGNATURE_HEADER = "sandbox-signature"
MAX_SIGNATURES = 4


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def parse_header(value: str) -> tuple[int, list[str]]:
    """``(timestamp, [v1 signatures])``; several v1 allow rotating the secret."""
    timestamp: int | None = None
    sigs: list[str] = []
    for part in value.split(","):
        key, sep, val = part.strip().partition("=")
        if not sep:
            continue
        if key == "t" and val.isascii() and val.isdigit() and len(val) <= 12:
            timestamp = int(val)
        elif key == "v1" and len(val) == 64 and val.isascii():
            sigs.append(val.lower())
    if timestamp is None or not sigs or len(sigs) > MAX_SIGNATURES:
        raise WebhookSignatureInvalid(
            "Sandbox-Signature must be 't=<unix seconds>,v1=<hex HMAC-SHA256>'."
        )
    return timestamp, sigs


def verify(secret: bytes, header: str | None, body: bytes, *, now: float, tolerance: int) -> int:
    """The signed timestamp if the signature holds and is fresh; raises otherwise."""
    if not header:
        raise WebhookSignatureInvalid("The Sandbox-Signature header is missing.")
    timestamp, sigs = parse_header(header)
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, s) for s in sigs):
        raise WebhookSignatureInvalid("The signature does not match the body.")
    if abs(now - timestamp) > tolerance:
        raise WebhookStale(
            f"The signed timestamp is {int(now - timestamp)} s from now "
            f"(at most {tolerance} s allowed)."
        )
    return timestamp


def backoff(attempts: int, base: float, *, cap: float = 3600.0) -> float:
    """Seconds before retry number ``attempts`` (1, 2, …): base, 2·base, 4·base, … capped."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))
