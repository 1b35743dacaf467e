"""The provenance page in a real Chromium against a real server: every step is marked
verified by the page's own WebCrypto checks, and a tampered copy of the database is
caught — a step whose row was rewritten, and a step whose row *and* log entry were
rewritten coherently (only the signed root can tell).

Needs Debian's ``chromium``: skipped with a reason when it is missing and CI is unset;
under CI a missing Chromium fails. ``DAIHUO_PROVENANCE_SCREENSHOT=path`` also saves a
screenshot of the verified page (docs/screenshots/provenance.png is made that way).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from daihuo.ledger.jcs import canonical_json

from tests.conftest import DatabaseFactory, client_for, make_settings
from tests.integration.catalog.trace_support import (
    PNG,
    create_traced_batch,
    record_step,
    upload_evidence,
)
from tests.integration.ledger.support import server_process

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI is set but chromium is missing: .ci/run installs it")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000"]


def chromium(*args: str) -> str:
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, *FLAGS, *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Steps(HTMLParser):
    """Each ``li.step``: its attributes and the text of its mark and reason."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[dict[str, Any]] = []
        self.checkpoint: dict[str, Any] = {}
        self._into: dict[str, Any] | None = None
        self._field: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "li" and "step" in (a.get("class") or "").split():
            self.steps.append({**a, "mark": "", "reason": ""})
        elif a.get("id") == "checkpoint-status":
            self.checkpoint = {**a, "text": ""}
            self._into, self._field = self.checkpoint, "text"
        elif a.get("data-role") in ("mark", "reason") and self.steps:
            self._into, self._field = self.steps[-1], str(a["data-role"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._into = self._field = None

    def handle_data(self, data: str) -> None:
        if self._into is not None and self._field is not None:
            self._into[self._field] += data


def tea_png(size: int = 96) -> bytes:
    """A real PNG (green gradient) for the product photo, made here: no binary fixture."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + b"".join(bytes((40 + x, 110 + y // 2, 60)) for x in range(size))
        for y in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def dump(url: str) -> Steps:
    dom = chromium("--dump-dom", url)
    assert 'data-verification="done"' in dom, dom[-3000:]
    parsed = Steps()
    parsed.feed(dom)
    return parsed


async def build(tmp: Path) -> tuple[str, Path, list[dict[str, Any]], str]:
    """A supplier's batch with three logged steps, on SQLite; returns the db URL, the data
    dir (the log's key lives there), the steps and the batch's public id."""
    url = await DatabaseFactory("sqlite", tmp).new()
    data_dir = tmp / "var"
    async with client_for(make_settings(url, data_dir)) as client:
        traced = await create_traced_batch(client)
        r = await client.post(
            f"/api/v1/products/{traced.product['id']}/images",
            content=tea_png(),
            headers={**traced.supplier.headers, "content-type": "image/png"},
        )
        assert r.status_code == 201
        photo = (await upload_evidence(client, traced, PNG)).json()
        steps = []
        for body in (
            {"step": "sourced", "at": "2026-04-02T07:30:00+08:00", "place": "福建安溪高山茶园"},
            {"step": "inspected", "at": "2026-04-10T10:00:00+08:00", "place": "安溪县质检站",
             "evidence": [photo["id"]]},
            {"step": "shipped", "at": "2026-04-12T16:45:00+08:00", "place": "厦门仓"},
        ):  # fmt: skip
            r = await record_step(client, traced, **body)
            assert r.status_code == 201 and r.json()["leaf_index"] is not None, r.text
            steps.append(r.json())
    return url, data_dir, steps, traced.batch["public_id"]


async def test_chromium_verifies_every_step_and_catches_a_tampered_database(
    tmp_path: Path,
) -> None:
    url, data_dir, steps, public_id = await build(tmp_path)
    settings = make_settings(url, data_dir)

    with server_process(settings, tmp_path) as base:
        page = dump(f"{base}/p/{public_id}")
        shot = os.environ.get("DAIHUO_PROVENANCE_SCREENSHOT")
        if shot:
            chromium(f"--screenshot={shot}", "--window-size=1000,1400", f"{base}/p/{public_id}")
        english = dump(f"{base}/p/{public_id}?lang=en")
    assert page.checkpoint["data-status"] == "verified", page.checkpoint
    assert [s["data-id"] for s in page.steps] == [s["id"] for s in steps]
    for s in page.steps:
        assert (s["data-status"], s["mark"].strip(), s["reason"]) == ("verified", "已验证", ""), s
    assert [s["mark"].strip() for s in english.steps] == ["verified"] * 3

    # A copy of the database, rewritten by someone with write access to it.
    path = Path(url.split(":///", 1)[1])
    forged = tmp_path / "forged.db"
    with sqlite3.connect(path) as src, sqlite3.connect(forged) as dst:
        src.backup(dst)
    first, second, _third = steps
    with sqlite3.connect(forged) as db:
        db.execute("DROP TRIGGER ledger_leaves_no_update")
        # 1. The step's row says another place; the log still says the true one.
        db.execute("UPDATE trace_steps SET place = '伪造的地点' WHERE id = ?", (first["id"],))
        # 2. Row and log entry rewritten to agree; the leaf hash and the tree stay as
        #    signed, since the attacker cannot sign a new checkpoint.
        (raw,) = db.execute(
            "SELECT entry FROM ledger_leaves WHERE idx = ?", (second["leaf_index"],)
        ).fetchone()
        entry = json.loads(raw)
        entry["body"]["place"] = "另一个质检站"
        db.execute(
            "UPDATE ledger_leaves SET entry = ? WHERE idx = ?",
            (canonical_json(entry), second["leaf_index"]),
        )
        db.execute("UPDATE trace_steps SET place = '另一个质检站' WHERE id = ?", (second["id"],))
    forged_settings = make_settings(f"sqlite+aiosqlite:///{forged}", data_dir)
    with server_process(forged_settings, tmp_path) as base:
        page = dump(f"{base}/p/{public_id}")
    statuses = [(s["data-status"], s["mark"].strip()) for s in page.steps]
    assert statuses == [("failed", "未通过验证"), ("failed", "未通过验证"), ("verified", "已验证")]
    assert re.search("日志记录与页面显示不一致.*place", page.steps[0]["reason"]), page.steps[0]
    assert "包含证明与已签名的根哈希不符" in page.steps[1]["reason"], page.steps[1]
