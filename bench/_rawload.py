"""A lean HTTP/1.1 load generator: ``python bench/_rawload.py PORT CONNS SECONDS PATH
[HEADER] [BODY]`` prints requests answered per second: GETs, or POSTs of the JSON
``BODY`` when one is given (``@FILE``: one JSON body per line, sent in turn); every
answer must be 200 or 201. Keep-alive GETs over raw asyncio
sockets (uvloop), a few microseconds of CPU per request, where an httpx client costs
about 2 ms on this machine: the client is not what it measures."""

from __future__ import annotations

import asyncio
import sys
import time

import uvloop


def _request(path: str, header: str, body: bytes) -> bytes:
    head = f"{'POST' if body else 'GET'} {path} HTTP/1.1\r\nHost: bench\r\n"
    if header:
        head += f"{header}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


def main() -> None:
    port, conns, seconds, path = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    header = sys.argv[5] if len(sys.argv) > 5 else ""
    body = sys.argv[6] if len(sys.argv) > 6 else ""
    if body.startswith("@"):
        with open(body[1:], encoding="utf-8") as f:
            bodies = [line.strip().encode() for line in f if line.strip()]
    else:
        bodies = [body.encode()] if body else []
    requests = [_request(path, header, b) for b in bodies] or [_request(path, header, b"")]
    turn = 0

    def next_request() -> bytes:
        nonlocal turn
        turn += 1
        return requests[turn % len(requests)]

    done = 0
    end = 0.0

    class Client(asyncio.Protocol):
        def __init__(self, finished: asyncio.Future[None]) -> None:
            self.buf = b""
            self.finished = finished

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: asyncio.Transport = transport  # type: ignore[assignment]
            self.transport.write(next_request())

        def data_received(self, data: bytes) -> None:
            nonlocal done
            self.buf += data
            while (head := self.buf.find(b"\r\n\r\n")) >= 0:
                lines = self.buf[:head].lower().split(b"\r\n")
                if not lines[0].startswith((b"http/1.1 200", b"http/1.1 201")):
                    raise SystemExit(f"not 200: {self.buf[:300]!r}")
                length = next(
                    int(x.split(b":")[1]) for x in lines if x.startswith(b"content-length:")
                )
                if len(self.buf) < head + 4 + length:
                    return
                self.buf = self.buf[head + 4 + length :]
                done += 1
                if time.perf_counter() < end:
                    self.transport.write(next_request())
                else:
                    self.transport.close()
                    if not self.finished.done():
                        self.finished.set_result(None)
                    return

    async def run() -> None:
        nonlocal end
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        end = started + seconds
        waits = []
        for _ in range(conns):
            finished: asyncio.Future[None] = loop.create_future()
            waits.append(finished)
            await loop.create_connection(lambda f=finished: Client(f), "127.0.0.1", port)
        await asyncio.gather(*waits)
        print(f"{done / (time.perf_counter() - started):.1f}")

    uvloop.run(run())


if __name__ == "__main__":
    main()
