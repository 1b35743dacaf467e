"""``daihuo authenticity scan`` as a user runs it: a real process on simulator files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DAIHUO = [sys.executable, "-m", "daihuo"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DAIHUO, *args], capture_output=True, text=True, timeout=120, env={"COLUMNS": "200",
        "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scan") / "room"
    done = run("simulate", "--sessions", "2", "--viewers", "400", "--seed", "8", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def test_json_has_the_shape_of_the_issue(room: Path) -> None:
    done = run("authenticity", "scan", "--events", f"{room}.events.jsonl", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["sessions"]) == 2
    labels = [json.loads(line) for line in Path(f"{room}.labels.jsonl").read_text().splitlines()]
    fake = {lab.get("user") or lab.get("order") for lab in labels}
    for session in report["sessions"].values():
        assert 0.0 <= session["authenticity_score"] <= 1.0
        for flag in session["suspicious_users"]:
            assert set(flag) == {"user", "kind", "score", "reasons"}
            assert flag["kind"] in ("bot_audience", "comment_farm", "like_farm", "brushing")
            assert all(set(r) == {"en", "zh"} for r in flag["reasons"])
        for flag in session["suspicious_orders"]:
            assert set(flag) == {"order", "kind", "score", "reasons"}
        flagged = {f["user"] for f in session["suspicious_users"]}
        assert flagged and len(flagged & fake) >= 0.9 * len(flagged)
        assert session["verified"]["viewer_uv"] < session["raw"]["viewer_uv"]
        assert set(session["raw"]) == set(session["verified"])


def test_table_is_readable(room: Path) -> None:
    done = run("authenticity", "scan", "--events", f"{room}.events.jsonl", "--format", "table")
    assert done.returncode == 0, done.stderr
    assert "真实度 authenticity score" in done.stdout
    assert "raw → verified" in done.stdout
    assert "viewer_uv" in done.stdout


def test_malformed_lines_are_reported_and_skipped(room: Path, tmp_path: Path) -> None:
    lines = Path(f"{room}.events.jsonl").read_text("utf-8").splitlines()
    bad = tmp_path / "bad.jsonl"
    broken = [lines[0], "{not json", lines[1], '{"id": "x", "ts": "2026-11-20T12:00:00.000Z"}']
    bad.write_text("\n".join(broken + lines[2:]) + "\n", "utf-8")
    done = run("authenticity", "scan", "--events", str(bad))
    assert done.returncode == 0, done.stderr
    assert "line 2: bad JSON" in done.stderr
    assert "line 4: missing required key 'session'" in done.stderr
    assert "rejected 2" in done.stderr
    assert json.loads(done.stdout)["sessions"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--events", "/nonexistent.jsonl"], "error: no such file: /nonexistent.jsonl"),
        (["--events", "/", "--format", "json"], "error: no such file: /"),
    ],
)
def test_bad_input_is_one_line(args: list[str], message: str) -> None:
    done = run("authenticity", "scan", *args)
    assert done.returncode == 1
    assert done.stderr.strip() == message


def test_an_empty_file_and_system_events_only(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    done = run("authenticity", "scan", "--events", str(empty))
    assert done.returncode == 0 and json.loads(done.stdout) == {"sessions": {}}
    system = tmp_path / "system.jsonl"
    system.write_text(
        '{"id": "a", "ts": "2026-11-20T12:00:00.000Z", "session": "s", "type": "live_start"}\n'
        '{"id": "b", "ts": "2026-11-20T13:00:00.000Z", "session": "s", "type": "live_end"}\n'
    )
    done = run("authenticity", "scan", "--events", str(system), "--format", "table")
    assert done.returncode == 0, done.stderr
    assert "1.00" in done.stdout


def test_the_shared_sample_scans(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[4] / "shared" / "samples" / "sample.events.jsonl"
    if not sample.is_file():
        pytest.skip("no shared/samples beside the repository")
    done = run("authenticity", "scan", "--events", str(sample))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sessions"]
