"""Schemathesis over the OpenAPI spec against a real server process: no input may
produce a 5xx. Bounded examples so it stays a test, not a soak."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from daihuo.migrate import upgrade_async


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_fuzzing_the_api_finds_no_server_error(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
    asyncio.run(upgrade_async(url))
    port = free_port()
    env = {
        **os.environ,
        "DAIHUO_DATABASE_URL": url,
        "DAIHUO_DATA_DIR": str(tmp_path),
        "DAIHUO_PASSWORD_MEMORY_KIB": "64",
        "DAIHUO_PASSWORD_TIME_COST": "1",
        "DAIHUO_PASSWORD_PARALLELISM": "1",
        "DAIHUO_LOGIN_MAX_FAILURES": "1000000",
        "DAIHUO_LOGIN_MAX_FAILURES_PER_IP": "1000000",
        "DAIHUO_LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "daihuo", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base) as client:
            for _ in range(100):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            body = {
                "email": "fuzz@example.test",
                "password": "fuzzing password",
                "display_name": "fuzz",
                "tenant": {"kind": "merchant", "name": "测试店"},
            }
            assert client.post("/api/v1/auth/signup", json=body).status_code == 201
            r = client.post(
                "/api/v1/auth/token", json={"email": body["email"], "password": body["password"]}
            )
            token = r.json()["access_token"]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"{base}/api/openapi.json",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "25",
                "--phases",
                "examples,coverage,fuzzing",
                "--exclude-path",
                "/api/v1/auth/logout",
                "--header",
                f"Authorization: Bearer {token}",
                "--seed",
                "20261127",
                "--workers",
                "1",
                "--no-color",
                "--request-timeout",
                "20",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,  # schemathesis keeps a cache folder in its working directory
            env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        )
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        counts = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
        assert counts and int(counts[1]) > 100 and counts[1] == counts[2], result.stdout[-3000:]
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    errors = [
        line for line in (tmp_path / "server.log").read_text().splitlines() if "unhandled" in line
    ]
    assert errors == []
