"""``daihuo analytics`` and ``daihuo events`` as a user runs them: real processes, a real
warehouse file, one-line errors and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from daihuo.analytics import reference
from daihuo.events.parse import load_events, parse_lines

from tests.unit.analytics.logs import end, enter, ev, start, write_jsonl
from tests.unit.analytics.test_engine import assert_matches

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
EXAMPLES = SHARED / "spec" / "examples"
needs_example = pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"{EXAMPLES} is absent")


def daihuo(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "DAIHUO_DATA_DIR": str(tmp / "var"),
        "COLUMNS": "200",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "daihuo", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        cwd=tmp,
    )


@needs_example
def test_report_of_a_file_prints_the_spec_report(tmp_path: Path) -> None:
    r = daihuo(
        tmp_path, "analytics", "report", "--events", str(EXAMPLES / "edge-cases.events.jsonl")
    )
    assert r.returncode == 0, r.stderr
    expected = json.loads((EXAMPLES / "edge-cases.report.json").read_text(encoding="utf-8"))
    assert_matches(json.loads(r.stdout), expected)
    assert r.stderr == ""  # nothing rejected: nothing to say
    assert not (tmp_path / "var").exists()  # straight from the file: no warehouse made


@needs_example
def test_report_as_a_table_names_each_figure(tmp_path: Path) -> None:
    path = EXAMPLES / "edge-cases.events.jsonl"
    r = daihuo(tmp_path, "analytics", "report", "--events", str(path), "--format", "table")
    assert r.returncode == 0, r.stderr
    assert "场次 session A" in r.stdout and "场次 session C" in r.stdout
    assert "最高在线" in r.stdout and "pcu" in r.stdout
    assert "¥257.90" in r.stdout  # A's GMV, 25790 fen


@needs_example
def test_report_exports_csv_and_html_for_the_review(tmp_path: Path) -> None:
    path = EXAMPLES / "edge-cases.events.jsonl"
    r = daihuo(tmp_path, "analytics", "report", "--events", str(path), "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = [line.split(",") for line in r.stdout.splitlines()]
    assert rows[0] == ["session", "figure", "name", "minute", "value"]
    assert ["A", "gmv", "成交金额", "", "25790"] in rows
    r = daihuo(tmp_path, "analytics", "report", "--events", str(path), "--format", "html")
    assert r.returncode == 0 and r.stdout.startswith("<!doctype html>")
    assert "¥257.90" in r.stdout and "<script" not in r.stdout


def test_report_of_a_file_with_bad_lines_reports_the_rest_and_says_so(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "e.jsonl", [start(0), enter(1, "u1"), end(60)])
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "x", "type": "like"}\nnot json\n')
    r = daihuo(tmp_path, "analytics", "report", "--events", str(path), "--session", "s")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["sessions"]["s"]["viewer_uv"] == 1
    assert "line 4: missing required key 'ts'" in r.stderr
    assert "line 5: bad JSON" in r.stderr
    assert "kept 3, rejected 2" in r.stderr


def test_import_twice_then_report_and_export_the_stored_session(tmp_path: Path) -> None:
    events = [
        start(0),
        enter(1, "u1"),
        ev(2, "comment", user="u1", text="多少钱"),
        ev(2, "comment", eid="dup", user="u2", text="a"),
        ev(3, "comment", eid="dup", user="u2", text="a"),
        end(60),
    ]
    path = write_jsonl(tmp_path / "e.jsonl", events)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n{bad\n")
    r = daihuo(tmp_path, "events", "import", str(path))
    assert r.returncode == 0, r.stderr
    assert "8 lines, kept 5, rejected 1, duplicates 1, blank 1" in r.stdout
    assert "line 8: bad JSON" in r.stderr
    again = daihuo(tmp_path, "events", "import", str(path))
    assert "kept 0, rejected 1, duplicates 6, blank 1" in again.stdout
    assert (tmp_path / "var" / "warehouse.duckdb").is_file()

    stored = daihuo(tmp_path, "analytics", "report", "--session", "s")
    assert stored.returncode == 0, stored.stderr
    kept, _ = load_events(path)
    assert json.loads(stored.stdout) == reference.report(kept)

    exported = daihuo(tmp_path, "events", "export", "--session", "s")
    assert exported.returncode == 0, exported.stderr
    assert list(parse_lines(exported.stdout.splitlines())) == sorted(kept, key=lambda e: e.ts_ms)

    out = tmp_path / "s.parquet"
    r = daihuo(
        tmp_path, "events", "export", "--session", "s", "--format", "parquet", "--out", str(out)
    )
    assert r.returncode == 0, r.stderr
    assert duckdb.sql(f"SELECT count(*) FROM '{out}'").fetchall() == [(5,)]
    jsonl = tmp_path / "s.jsonl"
    assert (
        daihuo(tmp_path, "events", "export", "--session", "s", "--out", str(jsonl)).returncode == 0
    )
    assert jsonl.read_text(encoding="utf-8") == exported.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("analytics", "report", "--events", "missing.jsonl"), "no such file: missing.jsonl"),
        (("events", "import", "missing.jsonl"), "no such file: missing.jsonl"),
        (("events", "export", "--session", "nope"), "no events stored for session 'nope'"),
        (("events", "export", "--session", "s", "--format", "parquet"), "--out FILE is required"),
        (("analytics", "report", "--session", "nope"), "no events for session 'nope'"),
    ],
)
def test_mistakes_are_one_line_and_a_nonzero_exit(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    r = daihuo(tmp_path, *args)
    assert r.returncode == 1
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr


def test_an_unavailable_warehouse_is_one_line(tmp_path: Path) -> None:
    # nothing listens on the discard port of loopback: the server cannot be reached
    url = "clickhouse://daihuo:secret@127.0.0.1:9/x"
    r = daihuo(tmp_path, "events", "import", __file__, DAIHUO_WAREHOUSE_URL=url)
    assert r.returncode == 1
    [line] = r.stderr.strip().splitlines()
    assert line.startswith("error: cannot open ClickHouse warehouse clickhouse://daihuo:***@")
    assert "secret" not in line


def test_import_report_and_export_through_a_chdb_warehouse(tmp_path: Path) -> None:
    events = [start(0), enter(1, "u1"), ev(2, "comment", user="u1", text="多少钱"), end(60)]
    path = write_jsonl(tmp_path / "e.jsonl", events)
    url = f"chdb:///{tmp_path / 'store.chdb'}"
    r = daihuo(tmp_path, "events", "import", str(path), DAIHUO_WAREHOUSE_URL=url)
    assert r.returncode == 0, r.stderr
    assert "4 lines, kept 4, rejected 0, duplicates 0" in r.stdout
    assert (tmp_path / "store.chdb").is_dir()
    stored = daihuo(tmp_path, "analytics", "report", "--session", "s", DAIHUO_WAREHOUSE_URL=url)
    assert stored.returncode == 0, stored.stderr
    assert json.loads(stored.stdout) == reference.report(events)
    exported = daihuo(tmp_path, "events", "export", "--session", "s", DAIHUO_WAREHOUSE_URL=url)
    assert exported.returncode == 0, exported.stderr
    assert list(parse_lines(exported.stdout.splitlines())) == events


def test_help_lists_the_commands_quickly(tmp_path: Path) -> None:
    r = daihuo(tmp_path, "--help")
    assert r.returncode == 0
    assert "events" in r.stdout and "analytics" in r.stdout
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, daihuo.cli; print('duckdb' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "False"  # the sub-commands load DuckDB only when run
