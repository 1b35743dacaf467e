"""The ClickHouse path end to end — chDB always, a server when DAIHUO_TEST_CLICKHOUSE_URL is
set: random logs reported exactly as the plain-Python oracle reads them, the shared
samples and the worked example, import and export through the generic importer, and
the server's event sink on a chDB store."""

from __future__ import annotations

import io
import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings

from daihuo.analytics import engine, engine_clickhouse, reference
from daihuo.core.warehouse import make_warehouse
from daihuo.core.warehouse.clickhouse import ClickHouseWarehouse
from daihuo.core.warehouse.duckdb import DuckDBWarehouse
from daihuo.events.model import Event, event_from_obj, event_to_obj
from daihuo.events.parse import load_events, parse_lines
from daihuo.events.sink import EventSink
from daihuo.events.store import event_row, export_jsonl, import_file

from tests.integration.analytics.engines import store_url
from tests.unit.analytics.logs import end, enter, ev, event_logs, start, store_of, write_jsonl
from tests.unit.analytics.test_engine import assert_matches

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
SAMPLES = SHARED / "samples"
EXAMPLES = SHARED / "spec" / "examples"
CLICKHOUSE_ENGINES = ["chdb", pytest.param("clickhouse", marks=pytest.mark.clickhouse)]


@pytest.mark.parametrize("engine_name", CLICKHOUSE_ENGINES)
@settings(
    max_examples=40,  # about a second each (the plan of the report query dominates)
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(log=event_logs())
def test_clickhouse_report_equals_the_reference_on_random_logs(
    engine_name: str, log: list[Event]
) -> None:
    with store_url(engine_name) as url, make_warehouse(url) as warehouse:
        warehouse.append([event_row(e) for e in log])
        got = engine.report(warehouse)
        assert got == reference.report(log)  # exactly: same keys, order, types and floats
        last = max(got["sessions"])  # one session named: the filter keeps it whole
        assert engine.session_report(warehouse, last) == got["sessions"][last]


@settings(
    max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(log=event_logs())
def test_chdb_report_with_every_cte_inlined_equals_the_reference(log: list[Event]) -> None:
    # the query as it runs on a server without materialized CTEs
    with store_of(log, "chdb:///:memory:") as warehouse:
        assert isinstance(warehouse, ClickHouseWarehouse)
        assert engine_clickhouse.can_materialize(warehouse)  # so the default path differs
        got = engine_clickhouse.query(warehouse, materialize=False)
        assert got == reference.report(log)


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"shared samples folder {SAMPLES} is absent")
def test_samples_imported_into_chdb_report_like_the_oracle(tmp_path: Path) -> None:
    paths = sorted(SAMPLES.glob("*.events.jsonl"))
    assert paths
    with make_warehouse(f"chdb:///{tmp_path / 'w.chdb'}") as warehouse:
        for path in paths:
            events, parsed = load_events(path)
            summary = import_file(warehouse, path)
            assert (summary.rejected, summary.kept, summary.duplicates) == (
                0,
                parsed.kept,
                parsed.duplicates,
            )
            expected = reference.report(events)
            assert engine.report(warehouse, list(expected["sessions"])) == expected
            assert isinstance(warehouse, ClickHouseWarehouse)
            inlined = engine_clickhouse.query(
                warehouse, list(expected["sessions"]), materialize=False
            )
            assert inlined == expected


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"shared spec folder {EXAMPLES} is absent")
def test_worked_example_on_chdb_gives_the_spec_report() -> None:
    with make_warehouse("chdb:///:memory:") as warehouse:
        summary = import_file(warehouse, EXAMPLES / "edge-cases.events.jsonl")
        assert (summary.rejected, summary.duplicates) == (0, 1)
        expected = json.loads((EXAMPLES / "edge-cases.report.json").read_text(encoding="utf-8"))
        assert_matches(engine.report(warehouse), expected)


def test_import_into_chdb_is_idempotent_and_export_gives_the_events_back(
    tmp_path: Path,
) -> None:
    events = [
        end(60),
        start(0, meta={"client": "ios 3.1", "nested": [1, {"a": None}]}),
        ev(10, "comment", user="u1", text='好 "x"\n\\', device="d1", ip="10.0.0.1"),
        enter(5, "u1", eid="same"),
        enter(7, "u2", eid="same"),  # a repeated id: the first line wins
        ev(5, "like", session="o'ther", user="u'1"),  # quotes in a session id
    ]
    path = write_jsonl(tmp_path / "in.jsonl", events)
    with make_warehouse(f"chdb:///{tmp_path / 'w.chdb'}") as warehouse:
        first = import_file(warehouse, path)
        assert (first.kept, first.duplicates) == (5, 1)
        again = import_file(warehouse, path)
        assert (again.kept, again.duplicates) == (0, 6)
        assert warehouse.sessions() == ["o'ther", "s"]
        buffer = io.StringIO()
        assert export_jsonl(warehouse, "s", buffer) == 4
        assert warehouse.export_parquet("s", tmp_path / "s.parquet") == 4
        assert engine.report(warehouse, ["o'ther"])["sessions"]["o'ther"]["like_count"] == 1
    back = list(parse_lines(buffer.getvalue().splitlines()))
    kept, _ = load_events(path)
    assert back == sorted((e for e in kept if e.session == "s"), key=lambda e: e.ts_ms)
    rows = duckdb.sql(f"SELECT ts, type, \"user\" FROM '{tmp_path / 's.parquet'}'").fetchall()
    assert rows == [(event_to_obj(e)["ts"], e.type, e.user) for e in back]


def test_rows_page_through_a_session_in_order_across_ties() -> None:
    events = [ev(i // 7, "like", eid=f"l{i}", user=f"u{i % 3}") for i in range(50)]
    with store_of(events, "chdb:///:memory:") as warehouse:
        pages = list(warehouse.rows("s", batch_size=6))
        assert [len(p) for p in pages] == [6] * 8 + [2]
        assert [r[0] for p in pages for r in p] == [e.id for e in events]


def test_the_event_sink_records_into_chdb_and_reports(tmp_path: Path) -> None:
    sink = EventSink(f"chdb:///{tmp_path / 'w.chdb'}", interval=60)
    events = [start(0), enter(1, "u1"), ev(2, "like", user="u1", count=3), end(60)]
    try:
        accepted = sink.record([event_to_obj(e) for e in events] + [{"id": "bad"}])
        assert (accepted, sink.rejected) == (4, 1)
        figures = engine.session_report(sink.flushed(), "s")
        assert figures == reference.report(events)["sessions"]["s"]
    finally:
        sink.close()


def test_the_clickhouse_engine_refuses_a_duckdb_store() -> None:
    with DuckDBWarehouse(None) as warehouse, pytest.raises(TypeError, match="ClickHouse"):
        engine_clickhouse.report(warehouse)


def test_parquet_export_writes_contract_timestamps_of_any_year(tmp_path: Path) -> None:
    stamps = ["0001-01-01T00:00:00.000Z", "1850-06-01T12:00:05.120Z", "9999-12-31T23:59:59.999Z"]
    events = [
        event_from_obj({"id": f"e{i}", "ts": ts, "session": "s", "type": "live_start"})
        for i, ts in enumerate(stamps)
    ]
    with store_of(events, "chdb:///:memory:") as warehouse:
        assert warehouse.export_parquet("s", tmp_path / "s.parquet") == 3
    rows = duckdb.sql(f"SELECT id, ts, type, \"user\" FROM '{tmp_path / 's.parquet'}'").fetchall()
    assert rows == [(f"e{i}", ts, "live_start", None) for i, ts in enumerate(stamps)]
