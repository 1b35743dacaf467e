"""``daihuo simulate`` as a user runs it: a real process, files, one-line errors, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from daihuo.events.parse import load_events

DAIHUO = [sys.executable, "-m", "daihuo", "simulate"]


def simulate(*args: str, hashseed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": hashseed, "COLUMNS": "200"}
    return subprocess.run(
        [*DAIHUO, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_simulate_writes_valid_events_and_labels(tmp_path: Path) -> None:
    out = tmp_path / "room"
    r = simulate("--sessions", "2", "--viewers", "600", "--seed", "4", "--out", str(out))
    assert r.returncode == 0, r.stderr
    events, summary = load_events(f"{out}.events.jsonl")
    assert summary.rejected == 0 and summary.kept > 5000
    assert len({e.session for e in events}) == 2
    labels = [json.loads(x) for x in Path(f"{out}.labels.jsonl").read_text().splitlines()]
    assert {row["kind"] for row in labels} == {
        "bot_viewer", "comment_farm", "like_farm", "brushing"
    }  # fmt: skip
    assert f"wrote {summary.kept:,} events" in r.stdout
    assert "live-4-1" in r.stdout and "live-4-2" in r.stdout


def test_the_same_seed_writes_the_same_bytes_whatever_the_hash_seed(tmp_path: Path) -> None:
    for name, hashseed in (("a", "1"), ("b", "2")):
        r = simulate("--viewers", "400", "--seed", "9", "--out", str(tmp_path / name),
                     hashseed=hashseed)  # fmt: skip
        assert r.returncode == 0, r.stderr
    for suffix in (".events.jsonl", ".labels.jsonl"):
        assert (tmp_path / f"a{suffix}").read_bytes() == (tmp_path / f"b{suffix}").read_bytes()


def test_clean_writes_an_empty_labels_file(tmp_path: Path) -> None:
    out = tmp_path / "clean"
    r = simulate("--viewers", "300", "--clean", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert Path(f"{out}.labels.jsonl").read_text() == ""
    assert load_events(f"{out}.events.jsonl")[1].rejected == 0


def test_a_scenario_file_is_used(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        '[sessions]\nid_prefix = "demo"\nduration_minutes = 15\n'
        "[fake.bot_viewer]\nenabled = false\n",
        encoding="utf-8",
    )
    out = tmp_path / "s"
    r = simulate("--viewers", "200", "--scenario", str(scenario), "--out", str(out))
    assert r.returncode == 0, r.stderr
    events, _ = load_events(f"{out}.events.jsonl")
    assert {e.session for e in events} == {"demo-1-1"}
    start, end = (next(e.ts_ms for e in events if e.type == t) for t in ("live_start", "live_end"))
    assert 13 * 60_000 <= end - start <= 17 * 60_000
    kinds = {json.loads(x)["kind"] for x in Path(f"{out}.labels.jsonl").read_text().splitlines()}
    assert "bot_viewer" not in kinds


def test_an_invalid_scenario_is_one_line_naming_the_key_and_range(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text("[fake.brushing]\nshare = 2\n", encoding="utf-8")
    r = simulate("--scenario", str(scenario), "--out", str(tmp_path / "x"))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "fake.brushing.share" in lines[0] and "[0, 0.95]" in lines[0]
    assert not (tmp_path / "x.events.jsonl").exists()


def test_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    cases = [
        (["--viewers", "0"], "--viewers must be an integer in [1, 1000000]"),
        (["--sessions", "0"], "--sessions must be an integer in [1, 10000]"),
        (["--seed", "-3"], "--seed must be an integer >= 0"),
        (["--scenario", str(tmp_path / "absent.toml")], "cannot read scenario file"),
    ]
    for args, message in cases:
        r = simulate(*args, "--out", str(tmp_path / "x"))
        assert r.returncode == 1, args
        assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = simulate("--out", str(tmp_path / "missing" / "x"))
    assert r.returncode == 1 and "does not exist" in r.stderr
