"""``daihuo ledger monitor`` against a real server process: it follows the log as it
grows and raises the alarm when the log is rolled back or forked under it.

The server runs ``daihuo serve`` on 127.0.0.1 and a free port; this test process plays
the log's writer (a second sequencer on the same database) and, for the attacks, an
intruder with SQL access who drops the append-only triggers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from daihuo.config import Settings

from tests.conftest import DatabaseFactory
from tests.integration.ledger.support import (
    daihuo,
    entry,
    ledger_settings,
    roll_back_to,
    running_ledger,
    server_process,
)


class Watch:
    def __init__(self, settings: Settings, base: str, state: Path) -> None:
        self.settings, self.base, self.state = settings, base, state
        self.key = str(settings.data_dir / "ledger.key.pub")

    def once(self, *extra: str):  # type: ignore[no-untyped-def]
        return daihuo(
            "ledger", "monitor", self.base, "--key", self.key, "--once",
            "--state", str(self.state), *extra,
        )  # fmt: skip

    async def append(self, first: int, count: int, **body: object) -> None:
        async with running_ledger(self.settings) as ledger:
            await ledger.append_entries([entry(first + i, **body) for i in range(count)])


@pytest.fixture
async def watch(databases: DatabaseFactory, tmp_path: Path) -> AsyncIterator[Watch]:
    url = await databases.new()
    settings = ledger_settings(url, tmp_path)
    r = daihuo("ledger", "keys", env={"DAIHUO_DATA_DIR": str(settings.data_dir)})
    assert r.returncode == 0, r.stderr
    (settings.data_dir / "ledger.key.pub").write_text(r.stdout)
    with server_process(settings, tmp_path) as base:
        yield Watch(settings, base, tmp_path / "monitor.state")


def assert_alert(r, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert r.returncode == 2, r.stdout + r.stderr
    line = " ".join(r.stderr.split())
    assert line.startswith("ALERT: "), r.stderr
    for needle in needles:
        assert needle in line, line


async def test_the_monitor_follows_a_growing_log(watch: Watch) -> None:
    r = watch.once()
    assert r.returncode == 0, r.stderr
    assert "first checkpoint: size 0" in r.stdout
    await watch.append(0, 5)
    r = watch.once()
    assert r.returncode == 0, r.stderr
    assert "unchanged" not in r.stdout and "consistent: size 0 -> 5" in r.stdout
    await watch.append(5, 3)
    r = watch.once()
    assert "consistent: size 5 -> 8" in r.stdout, r.stderr
    r = daihuo(
        "ledger", "monitor", watch.base, "--key", watch.key, "--state", str(watch.state),
        "--interval", "0.1", "--checks", "2",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("unchanged: size 8") == 2


async def test_the_monitor_alerts_on_a_rollback(watch: Watch) -> None:
    await watch.append(0, 5)
    await watch.append(5, 4)
    assert watch.once().returncode == 0
    await roll_back_to(watch.settings.database_url, 5)
    assert_alert(watch.once(), "rollback: the newer checkpoint signs 5 leaves, the older 9")


async def test_the_monitor_alerts_on_a_fork(watch: Watch) -> None:
    """History after leaf 5 is replaced by other entries, and the log grows past it."""
    await watch.append(0, 5)
    await watch.append(5, 4)
    assert watch.once().returncode == 0
    await roll_back_to(watch.settings.database_url, 5)
    await watch.append(5, 6, forged=True)
    assert_alert(watch.once(), "fork:", "size 11", "size 9")


async def test_the_monitor_alerts_on_a_checkpoint_signed_by_another_key(
    watch: Watch, tmp_path: Path
) -> None:
    await watch.append(0, 2)
    other = tmp_path / "other.pub"
    from daihuo.ledger import note

    other.write_text(note.generate_key("daihuo.local/log")[1].key_string() + "\n")
    r = daihuo("ledger", "monitor", watch.base, "--key", str(other), "--once")
    assert_alert(r, "no signature by the given key")


def test_an_unreachable_log_is_an_error_not_an_alert(tmp_path: Path) -> None:
    from daihuo.ledger import note

    key = note.generate_key("daihuo.local/log")[1].key_string()
    r = daihuo("ledger", "monitor", "http://127.0.0.1:9", "--key", key, "--once")
    assert r.returncode == 1
    assert r.stderr.startswith("error: GET /api/v1/ledger/checkpoint: ConnectError")
