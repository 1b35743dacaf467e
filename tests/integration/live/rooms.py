"""Real servers and real WebSocket clients for the live-room tests.

:class:`ThreadServer` runs the app in uvicorn on a free loopback port in a thread of the
test process (so a test can read ``app.state``); :class:`ProcessServer` runs it in a
separate process (for fan-out across processes through Redis). :class:`Viewer` is a
``websockets`` client that speaks docs/protocol.md and keeps what it received.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from redis import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from daihuo.app import create_app
from daihuo.config import Settings
from daihuo.events.store import session_events

from tests.fixtures import Account, create_user

# Fast room clocks so the tests do not wait for production's pacing.
FAST_ROOM: dict[str, Any] = {
    "live_frame_ms": 20,
    "live_likes_ms": 50,
    "live_online_ms": 100,
    "live_comment_burst": 100,
    "live_comment_per_second": 100.0,
    "live_max_messages_per_second": 200,
    "secret_key": "room-test-secret-key-of-enough-length",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _config(app: Any, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        log_config=None,
        lifespan="on",
    )


class ThreadServer:
    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self.port = free_port()
        self.server = uvicorn.Server(_config(self.app, self.port))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


class ProcessServer:
    """The app in its own process, configured through DAIHUO_* variables."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._out: Any = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> ProcessServer:
        out = self._out = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "daihuo.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--ws", "websockets-sansio",
             "--ws-per-message-deflate", "false", "--no-access-log"],
            env=self.env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.http}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"server did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to Redis."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()


class Viewer:
    """A WebSocket viewer: top-level messages in ``received``, room messages in ``msgs``."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[dict[str, Any]] = []
        self.msgs: list[dict[str, Any]] = []

    @classmethod
    async def join(cls, base: str, session_id: str, **hello: Any) -> Viewer:
        ws = await connect(f"{base}/ws/rooms/{session_id}", compression=None, open_timeout=10)
        viewer = cls(ws)
        await viewer.send({"type": "hello", "v": 1, **hello})
        return viewer

    async def send(self, obj: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(obj, ensure_ascii=False))

    async def recv(self, within: float = 5.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), within)
        msg: dict[str, Any] = json.loads(raw)
        self.received.append(msg)
        if msg["type"] == "frame":
            self.msgs.extend(msg["msgs"])
        if msg["type"] == "snapshot":
            self.msgs.extend(msg["comments"])
        return msg

    async def expect(self, kind: str, within: float = 5.0) -> dict[str, Any]:
        """Read until a top-level message of ``kind`` comes."""
        deadline = time.monotonic() + within
        while True:
            msg = await self.recv(max(deadline - time.monotonic(), 0.01))
            if msg["type"] == kind:
                return msg

    async def until(self, pred: Any, within: float = 5.0) -> dict[str, Any]:
        """Read until a room message satisfies ``pred``; returns it."""
        deadline = time.monotonic() + within
        seen = 0
        while True:
            for m in self.msgs[seen:]:
                if pred(m):
                    return m
            seen = len(self.msgs)
            await self.recv(max(deadline - time.monotonic(), 0.01))

    async def closed(self, within: float = 5.0) -> int:
        """Read until the server closes; returns the close code."""
        deadline = time.monotonic() + within
        try:
            while True:
                await self.recv(max(deadline - time.monotonic(), 0.01))
        except ConnectionClosed as exc:
            assert exc.rcvd is not None, "closed without a close frame"
            return exc.rcvd.code

    async def close(self) -> None:
        await self.ws.close()

    def seqs(self) -> list[int]:
        return [m["seq"] for m in self.msgs]


async def live_session(
    http: httpx.AsyncClient, owner: Account | None = None
) -> tuple[Account, str]:
    """A merchant (``owner``, else a new one) with a session that is live."""
    owner = owner or await create_user(http, label="host", tenant_kind="merchant")
    r = await http.post(
        "/api/v1/live-sessions",
        json={"title": "双十二美妆专场", "planned_start": "2026-12-12T20:00:00+08:00"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    sid = str(r.json()["id"])
    r = await http.post(f"/api/v1/live-sessions/{sid}/start", headers=owner.headers)
    assert r.status_code == 200, r.text
    return owner, sid


async def visitor_token(http: httpx.AsyncClient, sid: str) -> str:
    r = await http.post(f"/api/v1/live-sessions/{sid}/visitor-token")
    assert r.status_code == 201, r.text
    token: str = r.json()["token"]
    return token


def flush_prefix(url: str, prefix: str) -> None:
    client = Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


class Env:
    def __init__(self, server: ThreadServer, http: httpx.AsyncClient, db: str) -> None:
        self.server = server
        self.http = http
        self.db = db

    @property
    def ws(self) -> str:
        return self.server.ws

    def events(self, sid: str) -> list[Any]:
        return list(session_events(self.server.app.state.event_sink.flushed(), sid))
