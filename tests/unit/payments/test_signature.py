"""The webhook signature: HMAC-SHA256 over "<timestamp>." + body, fresh timestamps only."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daihuo.payments.domain import backoff, parse_header, sign, verify
from daihuo.payments.errors import WebhookSignatureInvalid, WebhookStale

SECRET = b"s3cret"
NOW = 1_800_000_000


def reference(secret: bytes, t: int, body: bytes) -> str:
    return hmac.new(secret, str(t).encode() + b"." + body, hashlib.sha256).hexdigest()


def test_the_header_is_the_documented_hmac() -> None:
    body = b'{"a":1}'
    assert sign(SECRET, NOW, body) == f"t={NOW},v1={reference(SECRET, NOW, body)}"


@given(st.binary(max_size=500), st.integers(min_value=0, max_value=10**10))
def test_a_signed_body_verifies(body: bytes, t: int) -> None:
    assert verify(SECRET, sign(SECRET, t, body), body, now=t, tolerance=300) == t


@given(st.binary(min_size=1, max_size=200), st.integers(min_value=0, max_value=199))
def test_any_change_to_the_body_breaks_it(body: bytes, position: int) -> None:
    header = sign(SECRET, NOW, body)
    i = position % len(body)
    tampered = body[:i] + bytes([body[i] ^ 1]) + body[i + 1 :]
    with pytest.raises(WebhookSignatureInvalid):
        verify(SECRET, header, tampered, now=NOW, tolerance=300)


def test_the_wrong_secret_or_a_moved_timestamp_fails() -> None:
    body = b"{}"
    with pytest.raises(WebhookSignatureInvalid):
        verify(b"other", sign(SECRET, NOW, body), body, now=NOW, tolerance=300)
    moved = sign(SECRET, NOW, body).replace(f"t={NOW}", f"t={NOW + 1}")
    with pytest.raises(WebhookSignatureInvalid):
        verify(SECRET, moved, body, now=NOW, tolerance=300)


@pytest.mark.parametrize("age", [301, -301, 10_000])
def test_stale_or_future_timestamps_are_refused(age: int) -> None:
    body = b"{}"
    with pytest.raises(WebhookStale):
        verify(SECRET, sign(SECRET, NOW - age, body), body, now=NOW, tolerance=300)
    verify(SECRET, sign(SECRET, NOW - 300, body), body, now=NOW, tolerance=300)


def test_a_rotated_secret_may_sign_twice() -> None:
    body = b"{}"
    header = f"t={NOW},v1={reference(b'old', NOW, body)},v1={reference(SECRET, NOW, body)}"
    assert verify(SECRET, header, body, now=NOW, tolerance=300) == NOW


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "t=1",
        "v1=" + "0" * 64,
        "t=abc,v1=" + "0" * 64,
        "t=1,v1=short",
        "garbage",
        "t=١٢,v1=" + "0" * 64,
    ],
)
def test_malformed_headers_are_refused(header: str | None) -> None:
    with pytest.raises(WebhookSignatureInvalid):
        verify(SECRET, header, b"{}", now=NOW, tolerance=300)


def test_parse_header() -> None:
    assert parse_header(f"t=5, v1={'a' * 64}") == (5, ["a" * 64])


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n, 1.0) for n in range(1, 6)] == [1, 2, 4, 8, 16]
    assert backoff(40, 1.0) == 3600
