"""``Idempotency-Key`` for POSTs that create things.

Same key + same request → the stored response is replayed (``Idempotent-Replayed:
true``); same key + a different request → 409; a key whose first request is still
running → 409 (retry later). Keys are scoped to the caller (the credential it
presents, or the client address when anonymous), so two callers never see each
other's responses. Responses with status ≥ 500 are not stored: the client may
retry. Records expire after ``ttl_seconds``.

The record is reserved before the handler runs and filled after it; a process that
dies in between leaves a pending record that another request may take over after
``stale_seconds`` — the handler may then run twice for that key, which is the
documented limit of doing this at the edge instead of inside each transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import LargeBinary, String, Text, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from daihuo.core.clock import utcnow
from daihuo.core.db import Base, Database
from daihuo.core.errors import send_problem
from daihuo.core.gate import write_gate
from daihuo.core.middleware import replay_receive

_KEY_OK = re.compile(r"^[\x21-\x7e]{1,255}$")
_STORED_HEADERS = {b"content-type", b"location"}


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # pending | done
    status_code: Mapped[int | None]
    headers: Mapped[str | None] = mapped_column(Text)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


def _caller_scope(scope: Scope) -> str:
    headers = dict(scope["headers"])
    credential = headers.get(b"authorization") or headers.get(b"x-api-key")
    if credential is None:
        cookies = headers.get(b"cookie", b"")
        match = re.search(rb"(?:^|;\s*)dh_session=([^;]+)", cookies)
        credential = match.group(1) if match else None
    if credential is None:
        client = scope.get("client") or ("?", 0)
        credential = f"anon:{client[0]}".encode()
    return hashlib.sha256(credential).hexdigest()


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str = "/api/",
        exclude: tuple[str, ...] = (),
        refuse: tuple[str, ...] = (),
        ttl_seconds: int = 24 * 3600,
        stale_seconds: int = 60,
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.exclude = exclude
        self.refuse = refuse
        self.ttl = timedelta(seconds=ttl_seconds)
        self.stale = timedelta(seconds=stale_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        raw_key = dict(scope["headers"]).get(b"idempotency-key")
        if raw_key is None or not path.startswith(self.prefix) or path in self.exclude:
            await self.app(scope, receive, send)
            return
        if path in self.refuse:
            await send_problem(
                send,
                400,
                "idempotency-not-supported",
                "Idempotency-Key not supported here",
                "This endpoint's response carries a secret, which is never stored for replay; "
                "send the request without Idempotency-Key.",
            )
            return
        key = raw_key.decode("latin-1")
        if not _KEY_OK.match(key):
            await send_problem(
                send,
                400,
                "bad-idempotency-key",
                "Bad Idempotency-Key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            )
            return

        body = await _read_body(receive)
        fp = hashlib.sha256(
            b"\n".join([path.encode(), scope.get("query_string", b""), body])
        ).hexdigest()
        caller = _caller_scope(scope)
        db: Database = scope["app"].state.db

        async with write_gate(db):  # SQLite: queue behind the process's other writers
            verdict = await self._reserve(db, caller, key, fp)
        if isinstance(verdict, IdempotencyRecord):
            await _replay(send, verdict)
            return
        if verdict == "mismatch":
            await send_problem(
                send,
                409,
                "idempotency-key-reused",
                "Idempotency-Key reused",
                "This Idempotency-Key was already used with a different request.",
            )
            return
        if verdict == "in-progress":
            await send_problem(
                send,
                409,
                "idempotency-key-in-progress",
                "Request in progress",
                "A request with this Idempotency-Key is still being processed; retry later.",
            )
            return

        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive(body, receive), capture)
        finally:
            async with write_gate(db):
                await self._finish(db, caller, key, status, headers, b"".join(chunks))

    async def _reserve(
        self, db: Database, caller: str, key: str, fp: str
    ) -> IdempotencyRecord | str:
        now = utcnow()
        async with db.session(all_tenants=True) as session:
            session.add(
                IdempotencyRecord(
                    scope=caller, key=key, fingerprint=fp, state="pending", created_at=now
                )
            )
            try:
                await session.commit()
                return "reserved"
            except IntegrityError:
                await session.rollback()
            record = await session.get(IdempotencyRecord, (caller, key))
            if record is None:  # deleted in between (a failed first attempt): try once more
                return await self._reserve(db, caller, key, fp)
            expired = record.created_at < now - self.ttl
            stale = record.state == "pending" and record.created_at < now - self.stale
            if expired or stale:
                record.fingerprint, record.state, record.created_at = fp, "pending", now
                record.status_code = record.headers = record.body = None
                await session.commit()
                return "reserved"
            if record.fingerprint != fp:
                return "mismatch"
            if record.state != "done":
                return "in-progress"
            return record

    async def _finish(
        self,
        db: Database,
        caller: str,
        key: str,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> None:
        async with db.session(all_tenants=True) as session:
            if status >= 500:
                await session.execute(
                    delete(IdempotencyRecord).where(
                        IdempotencyRecord.scope == caller, IdempotencyRecord.key == key
                    )
                )
            else:
                record = (
                    await session.execute(
                        select(IdempotencyRecord).where(
                            IdempotencyRecord.scope == caller, IdempotencyRecord.key == key
                        )
                    )
                ).scalar_one()
                kept = [
                    [k.decode("latin-1"), v.decode("latin-1")]
                    for k, v in headers
                    if k.lower() in _STORED_HEADERS
                ]
                record.state, record.status_code = "done", status
                record.headers, record.body = json.dumps(kept), body
            await session.commit()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _replay(send: Send, record: IdempotencyRecord) -> None:
    stored: list[list[str]] = json.loads(record.headers or "[]")
    headers: list[Any] = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored]
    headers.append((b"idempotent-replayed", b"true"))
    await send(
        {"type": "http.response.start", "status": record.status_code or 200, "headers": headers}
    )
    await send({"type": "http.response.body", "body": record.body or b""})
