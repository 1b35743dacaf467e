"""The event store on every engine (DuckDB, chDB, a ClickHouse server when configured):
unique ids with the first delivery winning, arrival order, a store that survives
reopening, one writing process, and batched writes that lose nothing on a clean shutdown
and at most the last interval on a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from daihuo.config import Settings
from daihuo.core.warehouse import (
    COLUMNS,
    AppendResult,
    BatchWriter,
    WarehouseError,
    duckdb_path,
    make_warehouse,
)
from daihuo.core.warehouse.clickhouse import ClickHouseWarehouse

from tests.integration.analytics.engines import ENGINES, store_url


def row(eid: str, ts_ms: int = 0, session: str = "s", user: str = "u1", **keys: Any) -> tuple:
    values: dict[str, Any] = dict.fromkeys(COLUMNS)
    values |= {"id": eid, "ts_ms": ts_ms, "session": session, "type": "like", "user": user}
    values |= keys
    return tuple(values[c] for c in COLUMNS)


def test_append_keeps_the_first_row_of_each_id_and_counts_the_rest(scratch_url: str) -> None:
    with make_warehouse(scratch_url) as warehouse:
        first = warehouse.append([row("a", user="first"), row("b"), row("a", user="second")])
        assert first == AppendResult(kept=2, duplicates=1)
        again = warehouse.append([row("b", user="late"), row("c")])
        assert again == AppendResult(kept=1, duplicates=1)
        assert warehouse.append([]) == AppendResult()
        users = {r[0]: r[4] for batch in warehouse.rows("s") for r in batch}
        assert users == {"a": "first", "b": "u1", "c": "u1"}


def test_rows_come_back_by_time_then_arrival_per_session(scratch_url: str) -> None:
    with make_warehouse(scratch_url) as warehouse:
        warehouse.append([row("late", 50), row("tie-1", 10), row("other", 5, session="t")])
        warehouse.append([row("tie-2", 10), row("early", 1)])
        ids = [r[0] for batch in warehouse.rows("s", batch_size=2) for r in batch]
        assert ids == ["early", "tie-1", "tie-2", "late"]
        assert warehouse.sessions() == ["s", "t"]
        assert (warehouse.count(), warehouse.count("t"), warehouse.count("none")) == (5, 1, 0)


def test_a_warehouse_file_keeps_rows_and_arrival_order_across_reopening(
    engine: str, tmp_path: Path
) -> None:
    with store_url(engine, tmp_path / "deep") as url:
        with make_warehouse(url) as warehouse:
            warehouse.append([row("x", 10), row("y", 10)])
        if engine != "clickhouse":
            assert any((tmp_path / "deep").iterdir())
        with make_warehouse(url) as warehouse:
            assert warehouse.append([row("x", 10, user="again"), row("z", 10)]).kept == 1
            ids = [r[0] for batch in warehouse.rows("s") for r in batch]
            assert ids == ["x", "y", "z"]  # z arrived last, so it sorts last at the same ts


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("duckdb:///var/warehouse.duckdb", "var/warehouse.duckdb"),
        ("duckdb:////srv/w.duckdb", "/srv/w.duckdb"),
        ("duckdb:///:memory:", None),
        ("duckdb://", None),
    ],
)
def test_duckdb_urls_name_a_file_relative_absolute_or_memory(url: str, path: str | None) -> None:
    assert duckdb_path(url) == path


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://x/y", "unknown warehouse URL"),
        ("duckdb://host/w.duckdb", "has no host"),
        ("chdb://host/w", "has no host"),
        ("clickhouse://127.0.0.1:port/db", "bad port"),
        ("clickhouse:///db", "needs a host"),
        ("clickhouse://127.0.0.1:8123/a/b", "names one database"),
        # nothing listens on the discard port: the connection is refused, said in one line
        ("clickhouse://u:secret@127.0.0.1:9/db", "cannot open ClickHouse warehouse"),
    ],
)
def test_unusable_urls_fail_with_one_clear_line(url: str, message: str) -> None:
    with pytest.raises(WarehouseError, match=message) as info:
        make_warehouse(url)
    assert "\n" not in str(info.value)


def test_the_default_warehouse_is_a_file_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    assert settings.warehouse_url == f"duckdb:///{tmp_path / 'var' / 'warehouse.duckdb'}"
    with make_warehouse(settings.warehouse_url) as warehouse:
        warehouse.append([row("a")])
    assert (tmp_path / "var" / "warehouse.duckdb").is_file()


def test_a_closed_warehouse_refuses_use(scratch_url: str) -> None:
    warehouse = make_warehouse(scratch_url)
    warehouse.close()
    warehouse.close()  # idempotent
    with pytest.raises(WarehouseError, match="closed"):
        warehouse.append([row("a")])


def test_rows_of_the_wrong_type_are_refused_whole(scratch_url: str) -> None:
    with make_warehouse(scratch_url) as warehouse:
        with pytest.raises(WarehouseError, match="not storable"):
            warehouse.append([row("a"), row("b", ts_ms="yesterday")])
        assert warehouse.count() == 0
        assert warehouse.append([row("a")]).kept == 1  # the stage was emptied


CHILD = textwrap.dedent(
    """
    import sys, time
    from daihuo.core.warehouse import COLUMNS, BatchWriter, make_warehouse

    def row(i):
        values = dict.fromkeys(COLUMNS)
        values.update(id=f"e{i}", ts_ms=i, session="s", type="like", user="u")
        return tuple(values[c] for c in COLUMNS)

    url, mode = sys.argv[1], sys.argv[2]
    if mode == "hold":
        held = make_warehouse(url)
        print("ready", flush=True)
        time.sleep(60)
    writer = BatchWriter(make_warehouse(url), interval=0.2)
    writer.add_many(row(i) for i in range(1000))
    if mode == "close":
        writer.add_many(row(i) for i in range(1000, 2000))
        writer.close()
        print("closed", flush=True)
        sys.exit(0)
    time.sleep(1.5)  # several intervals: the first thousand are stored by now
    writer.add_many(row(i) for i in range(1000, 2000))
    print("ready", flush=True)
    time.sleep(60)
    """
)


@contextmanager
def child_process(url: str, mode: str) -> Iterator[subprocess.Popen[str]]:
    """A child running CHILD in ``mode``, past its first line of output; killed at the end."""
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, url, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        try:
            line = child.stdout.readline()
            assert line.strip() in ("ready", "closed"), child.stderr.read()
            yield child
        finally:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=30)


def stored_ids(url: str) -> set[str]:
    with make_warehouse(url) as warehouse:
        return {r[0] for batch in warehouse.rows("s") for r in batch}


@pytest.fixture
def kept_url(engine: str, tmp_path: Path) -> Iterator[str]:
    """A store that outlives the process writing it."""
    with store_url(engine, tmp_path) as url:
        yield url


def test_a_crash_loses_at_most_the_rows_of_the_last_interval(kept_url: str) -> None:
    with child_process(kept_url, "crash") as child:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    ids = stored_ids(kept_url)
    assert {f"e{i}" for i in range(1000)} <= ids  # buffered longer than an interval ago
    assert ids <= {f"e{i}" for i in range(2000)}
    # whatever of the last thousand made it, made it as whole batches, in order
    late = sorted(int(i[1:]) for i in ids if int(i[1:]) >= 1000)
    assert late == list(range(1000, 1000 + len(late)))


def test_a_clean_shutdown_loses_nothing(kept_url: str) -> None:
    with child_process(kept_url, "close") as child:
        assert child.wait(timeout=30) == 0
    assert stored_ids(kept_url) == {f"e{i}" for i in range(2000)}


# A ClickHouse server takes any number of clients (docs/analytics.md): the embedded only.
@pytest.mark.parametrize("engine", ["duckdb", "chdb"], indirect=True)
def test_a_second_process_cannot_open_a_store_in_use(kept_url: str) -> None:
    with child_process(kept_url, "hold"):
        with pytest.raises(WarehouseError, match="cannot open") as info:
            make_warehouse(kept_url)
        assert "\n" not in str(info.value)


def test_the_batch_writer_appends_by_itself_and_on_flush(scratch_url: str) -> None:
    with make_warehouse(scratch_url) as warehouse:
        writer = BatchWriter(warehouse, interval=0.05)
        writer.add(row("a"))
        deadline = time.monotonic() + 10
        while warehouse.count() < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert warehouse.count() == 1
        slow = BatchWriter(warehouse, interval=3600, max_rows=3)
        slow.add_many([row("b"), row("a")])
        assert slow.pending == 2
        assert slow.flush() == AppendResult(kept=1, duplicates=1)
        slow.add_many([row("c"), row("d"), row("e")])  # max_rows reached: wakes the thread
        deadline = time.monotonic() + 10
        while warehouse.count() < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert warehouse.count() == 5
        writer.close()
        slow.close()
        assert slow.total == AppendResult(kept=4, duplicates=1)
        with pytest.raises(WarehouseError, match="closed"):
            slow.add(row("f"))


# DuckDB appends in one transaction instead: ClickHouse's engines only.
@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "duckdb"], indirect=True)
def test_a_clickhouse_append_is_one_data_part_so_it_lands_whole(scratch_url: str) -> None:
    # ClickHouse adds a data part to a table atomically; the store writes each append as
    # one part (one insert thread, no block splitting), which is what makes it all or
    # nothing. A batch large enough to span several default insert blocks proves it.
    with make_warehouse(scratch_url) as warehouse:
        assert isinstance(warehouse, ClickHouseWarehouse)
        batch = [row(f"e{i}", i) for i in range(1_200_000)] + [row("e7", user="again")]
        assert warehouse.append(batch) == AppendResult(kept=1_200_000, duplicates=1)
        _, parts = warehouse.query_json(
            "SELECT count(), sum(rows) FROM system.parts"
            " WHERE database = currentDatabase() AND table = 'events' AND active"
        )
        assert parts == [[1, 1_200_000]]
