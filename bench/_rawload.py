"""A lean HTTP/1.1 load generator: ``python bench/_rawload.py PORT CONNS SECONDS PATH
[HEADER]`` prints requests answered per second. Keep-alive GETs over raw asyncio
sockets (uvloop), a few microseconds of CPU per request, where an httpx client costs
about 2 ms on this machine: the client is not what it measures."""

from __future__ import annotations

import asyncio
import sys
import time

import uvloop


def main() -> None:
    port, conns, seconds, path = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    header = sys.argv[5] if len(sys.argv) > 5 else ""
    request = (f"GET {path} HTTP/1.1\r\nHost: bench\r\n" + (f"{header}\r\n" if header else "")
               + "\r\n").encode()  # fmt: skip
    done = 0
    end = 0.0

    class Client(asyncio.Protocol):
        def __init__(self, finished: asyncio.Future[None]) -> None:
            self.buf = b""
            self.finished = finished

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: asyncio.Transport = transport  # type: ignore[assignment]
            self.transport.write(request)

        def data_received(self, data: bytes) -> None:
            nonlocal done
            self.buf += data
            while (head := self.buf.find(b"\r\n\r\n")) >= 0:
                lines = self.buf[:head].lower().split(b"\r\n")
                if not lines[0].startswith(b"http/1.1 200"):
                    raise SystemExit(f"not 200: {self.buf[:300]!r}")
                length = next(
                    int(x.split(b":")[1]) for x in lines if x.startswith(b"content-length:")
                )
                if len(self.buf) < head + 4 + length:
                    return
                self.buf = self.buf[head + 4 + length :]
                done += 1
                if time.perf_counter() < end:
                    self.transport.write(request)
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
