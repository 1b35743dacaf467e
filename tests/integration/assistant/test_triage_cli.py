"""``daihuo assistant triage`` as a user runs it: a real process reading files and stdin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from daihuo.assistant.triage import INTENTS

DAIHUO = [sys.executable, "-m", "daihuo", "assistant", "triage"]


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*DAIHUO, *args], capture_output=True, input=stdin, timeout=120)


def rows(out: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.decode("utf-8").splitlines()]


def test_one_json_object_per_line_even_for_invalid_utf8(tmp_path: Path) -> None:
    comments = tmp_path / "comments.txt"
    comments.write_bytes(
        "求链接!!!\n三号链接还有货吗\n".encode() + b"\xff\xfe\x00bad\n\n" + "主播好\r\n".encode()
    )
    r = run("--input", str(comments))
    assert r.returncode == 0, r.stderr
    got = rows(r.stdout)
    assert len(got) == 5
    for row in got:
        assert list(row) == ["text", "intent", "product", "score"]
        assert row["intent"] in INTENTS
        assert isinstance(row["score"], float) and 0.0 <= row["score"] <= 1.0
    assert got[0]["text"] == "求链接!!!" and got[4]["text"] == "主播好"
    assert "\ufffd" in str(got[2]["text"])
    assert got[1]["product"] == 3  # a link number, reported as a number without products
    assert got[0]["product"] is None


def test_stdin_and_a_product_list_resolve_ids(tmp_path: Path) -> None:
    products = tmp_path / "products.jsonl"
    lines = [
        {"id": "p-dress", "title": "法式碎花连衣裙", "slot": 3},
        {"id": "p-mask", "title": "玻尿酸补水面膜", "slot": 5},
    ]
    products.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    stdin = "3号多少钱\n面膜能天天敷吗\n9号有吗\n已拍\n".encode()
    r = run("--input", "-", "--products", str(products), "--pinned", "p-mask", stdin=stdin)
    assert r.returncode == 0, r.stderr
    assert [row["product"] for row in rows(r.stdout)] == ["p-dress", "p-mask", None, "p-mask"]


def test_errors_are_one_readable_line(tmp_path: Path) -> None:
    r = run("--input", str(tmp_path / "missing.txt"))
    assert r.returncode == 1
    assert r.stderr.decode().strip().splitlines() == [
        f"error: no such file: {tmp_path / 'missing.txt'}"
    ]
    bad = tmp_path / "products.jsonl"
    bad.write_text('{"title": "no id"}\n')
    r = run("--input", "-", "--products", str(bad), stdin=b"x\n")
    assert r.returncode == 1 and len(r.stderr.decode().strip().splitlines()) == 1
    assert "line 1" in r.stderr.decode()
