"""A real server process (uvicorn on 127.0.0.1 and a free port) for tests that need
real concurrency: requests from many sockets, the database's own locking."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(database_url: str, data_dir: Path, **env: str) -> Iterator[str]:
    """``with live_server(url, tmp) as base:`` — the server's base URL; its log is checked."""
    port = free_port()
    full_env = {
        **os.environ,
        "DAIHUO_DATABASE_URL": database_url,
        "DAIHUO_DATA_DIR": str(data_dir),
        "DAIHUO_PASSWORD_MEMORY_KIB": "64",
        "DAIHUO_PASSWORD_TIME_COST": "1",
        "DAIHUO_PASSWORD_PARALLELISM": "1",
        "DAIHUO_LOG_LEVEL": "WARNING",
        **env,
    }
    log_path = data_dir / f"server-{port}.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "daihuo", "serve", "--port", str(port)],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.1)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)
    unhandled = [line for line in log_path.read_text().splitlines() if "unhandled" in line]
    assert unhandled == [], unhandled[:3]
