"""Pure-ASGI middleware: request ids with access logs, and the body-size limit."""

from __future__ import annotations

import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from daihuo.core.context import request_id_var
from daihuo.core.errors import send_problem
from daihuo.core.ids import ulid

access_log = logging.getLogger("daihuo.access")
_RID_OK = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class RequestIdMiddleware:
    """Takes ``X-Request-Id`` when sane (else makes one), logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _RID_OK.match(incoming) else ulid()
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http":
                access_log.info(
                    "request",
                    extra={
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            request_id_var.reset(token)


def replay_receive(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app a body already read, then defers to the client."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


# The routes that take a file (product images, trace evidence, in the API and the console):
# their bodies may reach the settings' max_upload_bytes, every other body max_body_bytes.
UPLOAD_PATHS = re.compile(r"^/(?:api/v1|console)/products/[^/]+/(?:images|batches/[^/]+/evidence)$")


class BodySizeLimitMiddleware:
    """Refuses bodies over ``max_bytes`` with 413 before the app sees them.

    The declared Content-Length is checked first; a chunked body is counted as it
    streams, and the whole body is read before the app runs so that an oversize
    request can never be half-processed.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        *,
        upload_max_bytes: int | None = None,
        uploads: re.Pattern[str] = UPLOAD_PATHS,
    ) -> None:
        self.app = app
        self.default_max = max_bytes
        self.upload_max = max(max_bytes, upload_max_bytes or max_bytes)
        self.uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = self.uploads.match(scope["path"]) is not None
        limit = self.upload_max if upload else self.default_max
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False
            if too_big:
                await self._reject(send, limit)
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._reject(send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, replay_receive(b"".join(chunks), receive), send)

    async def _reject(self, send: Send, limit: int) -> None:
        await send_problem(
            send,
            413,
            "payload-too-large",
            "Request body too large",
            f"The request body is larger than the limit of {limit} bytes.",
        )
