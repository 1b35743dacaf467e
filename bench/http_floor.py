"""What one server process can answer per second before any business logic: the HTTP
floor under every API benchmark (orders, flash sales).

Three servers, each one uvicorn process (httptools, uvloop) measured by the same lean
load generator in another process (``_rawload.py``: raw keep-alive sockets, microseconds
per request; an httpx client costs ~2 ms of CPU per request here and would measure
itself), with 1 and 32 connections:

* the baseline: the smallest ASGI app, a fixed ``200 ok`` (``_bare_asgi.py``);
* this app's ``GET /healthz``: FastAPI, the middleware stack, no database;
* this app's authenticated ``GET /api/v1/me``: the bearer-token lookup every API call
  pays (the token, the user, the memberships) on SQLite.

Each row also gives the server's CPU time per request (from /proc), which does not
depend on how busy the client kept it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(
    port: int, pid: int, conns: int, seconds: float, path: str, header: str = "", body: str = ""
) -> tuple[float, float]:
    """Requests/s and the server's CPU milliseconds per request (``body``: POST, see
    ``_rawload.py``)."""
    before = _cpu_seconds(pid)
    load = [sys.executable, str(HERE / "_rawload.py"), str(port), str(conns), str(seconds)]
    out = subprocess.run(
        [*load, path, header, *([body] if body else [])], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed: {(out.stderr or out.stdout)[-500:]}")
    rate = float(out.stdout.strip())
    cpu = _cpu_seconds(pid) - before
    return rate, 1000 * cpu / max(rate * seconds, 1)


def _bare(seconds: float) -> dict[int, tuple[float, float]]:
    from bench.orders import _free_port, wait_until_up

    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "_bare_asgi:app",
               "--port", str(port), "--log-level", "warning", "--no-access-log",
               "--loop", "uvloop", "--http", "httptools"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc)
        return {c: _measure(port, proc.pid, c, seconds, "/") for c in (1, 32)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(quick: bool) -> list[dict[str, Any]]:
    from bench import orders

    seconds = 2.0 if quick else 5.0
    bare = _bare(seconds)
    rows: list[dict[str, Any]] = []
    for conns, (rate, cpu) in bare.items():
        case = f"bare ASGI app on uvicorn, {conns} connection(s)"
        rows.append({"case": case, "value": round(rate, 1), "unit": "requests/s",
                     "server_cpu_ms": round(cpu, 3)})  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="daihuo-bench-floor-"))

    async def prepare() -> tuple[str, dict[str, Any]]:
        url, _ = await orders._database("sqlite", tmp)
        return url, await orders._seed(url, buyers=2)

    url, seed = asyncio.run(prepare())
    server = orders.Server(url, tmp / "data")
    try:
        token = f"Authorization: Bearer {seed['tokens'][0]}"
        for what, path, header in (
            ("GET /healthz (FastAPI and middleware, no database)", "/healthz", ""),
            (
                "authenticated GET /api/v1/me (token, user, memberships; SQLite)",
                "/api/v1/me",
                token,
            ),
        ):
            for conns in (1, 32):
                rate, cpu = _measure(server.port, server.proc.pid, conns, seconds, path, header)
                base = bare[conns][0]
                rows.append({"case": f"{what}, {conns} connection(s)", "value": round(rate, 1),
                             "unit": "requests/s", "baseline": round(base, 1),
                             "ratio": round(rate / base, 4),
                             "server_cpu_ms": round(cpu, 3)})  # fmt: skip
    finally:
        server.stop()
    return rows
