"""The viewers of bench/fanout.py, run as a separate process so that their CPU is not the
server's: ``python -m bench.fanout_clients CONFIG_JSON`` prints one JSON line of results.

Most viewers only read (and drop) what arrives; ``sample`` of them parse every frame and
time each comment whose text carries its send time (``t=<unix seconds>``).

The readers are light on purpose (:class:`LightViewer`): a raw WebSocket on an asyncio
protocol that walks the frame headers to answer pings and drops the payloads, with no task
and no per-message decoding. A full client per viewer (the ``websockets`` library's) costs
~20 µs of this process's CPU per frame: 5,000 of them at 10 frames a second saturated the
core they share with the server, and the bench measured the clients' queue instead of the
server. The sampled viewers stay full clients: their latencies are what is reported.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import connect

from daihuo.live.domain import issue_visitor_token, new_visitor_id, visitor_key


class Viewers:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.frames = 0
        self.open = 0

    async def viewer(
        self, url: str, hello: dict[str, Any], sample: bool, ready: asyncio.Queue[bool]
    ) -> None:
        async with connect(url, compression=None, max_size=2**22, open_timeout=120) as ws:
            await ws.send(json.dumps(hello))
            self.open += 1
            ready.put_nowait(True)
            async for raw in ws:
                self.frames += 1
                if not sample:
                    continue
                now = time.time()
                msg = json.loads(raw)
                for m in msg.get("msgs", ()):
                    text = m.get("text", "")
                    if m.get("type") == "comment" and text.startswith("t="):
                        self.latencies.append(now - float(text[2:]))


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A final, masked client frame (RFC 6455 section 5.2)."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 1 << 16:
        head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class LightViewer(asyncio.Protocol):
    """A viewer that reads and drops: answers pings, counts frames, nothing else."""

    def __init__(self, host: str, path: str, hello: bytes, opened: asyncio.Future[None]) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.hello = hello
        self.opened = opened
        self.upgraded = False
        self.buf = bytearray()
        self.frames = 0
        self.closed = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(RuntimeError(bytes(buf[:80]).decode(errors="replace")))
                assert self.transport is not None
                self.transport.close()
                return
            del buf[: end + 4]
            self.upgraded = True
            assert self.transport is not None
            self.transport.write(client_frame(0x1, self.hello))
            self.opened.set_result(None)
        i, size = 0, len(buf)
        while size - i >= 2:
            n, h = buf[i + 1] & 0x7F, 2
            if n == 126:
                if size - i < 4:
                    break
                n, h = int.from_bytes(buf[i + 2 : i + 4], "big"), 4
            elif n == 127:
                if size - i < 10:
                    break
                n, h = int.from_bytes(buf[i + 2 : i + 10], "big"), 10
            if size - i < h + n:
                break
            opcode = buf[i] & 0x0F
            if opcode == 0x9 and self.transport is not None:  # ping: pong with its payload
                self.transport.write(client_frame(0xA, bytes(buf[i + h : i + h + n])))
            elif opcode == 0x8:
                self.closed = True
            else:
                self.frames += 1
            i += h + n
        del buf[:i]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed before the upgrade"))


async def light_viewer(url: str, hello: dict[str, Any]) -> LightViewer:
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    opened: asyncio.Future[None] = loop.create_future()
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    _, viewer = await loop.create_connection(
        lambda: LightViewer(f"{host}:{port}", parts.path, json.dumps(hello).encode(), opened),
        host,
        port,
    )
    await asyncio.wait_for(opened, 120)
    return viewer


async def main(cfg: dict[str, Any]) -> dict[str, Any]:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    key = visitor_key(cfg["secret"].encode())
    expires = int(time.time()) + 3600
    every = max(1, cfg["viewers"] // cfg["sample"])
    v = Viewers()
    ready: asyncio.Queue[bool] = asyncio.Queue()
    tasks = []
    light: list[asyncio.Task[LightViewer]] = []
    for i in range(cfg["viewers"]):
        base = cfg["bases"][i % len(cfg["bases"])]
        token = issue_visitor_token(key, cfg["session"], new_visitor_id(), expires)
        hello = {"type": "hello", "v": 1, "visitor": token, "device": f"bench-{i}"}
        url = f"{base}/ws/rooms/{cfg['session']}"
        if i % every == 0:
            tasks.append(asyncio.create_task(v.viewer(url, hello, True, ready)))
        else:
            light.append(asyncio.create_task(light_viewer(url, hello)))
        if i % 100 == 99:
            await asyncio.sleep(0.02)  # do not flood the accept queue
    for _ in range(len(tasks)):
        await ready.get()
    readers = await asyncio.gather(*light)
    print("READY", flush=True)
    # Read until the bench closes our stdin, then report.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    errors = [t.exception() for t in tasks if t.done() and t.exception() is not None]
    lost = sum(r.closed for r in readers)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "latencies": v.latencies,
        "frames": v.frames + sum(r.frames for r in readers),
        "failed": len(errors) + lost,
        "errors": [repr(e) for e in errors[:5]],
    }


if __name__ == "__main__":
    config = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(main(config))))
