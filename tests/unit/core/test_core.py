"""Small core pieces: ids, cursors, configuration masking, problem types."""

from __future__ import annotations

import pytest

from daihuo.config import Settings, mask_url
from daihuo.core.errors import AppError, NotFound, problem_type
from daihuo.core.ids import new_id, ulid
from daihuo.core.pagination import InvalidCursor, decode_cursor, encode_cursor


def test_ids_sort_by_creation_time() -> None:
    earlier, later = ulid(1_700_000_000_000), ulid(1_700_000_000_001)
    assert earlier < later and len(earlier) == 26
    assert new_id("ten").startswith("ten_")


def test_cursor_round_trips_and_rejects_junk() -> None:
    assert decode_cursor(encode_cursor("mem_01ABC")) == "mem_01ABC"
    for junk in ("!!", "", "\x00"):
        with pytest.raises(InvalidCursor):
            decode_cursor(junk)


def test_config_masks_passwords_and_secrets() -> None:
    s = Settings(
        database_url="postgresql+asyncpg://app:hunter2@db:5432/daihuo",
        secret_key="topsecret",  # type: ignore[arg-type]
    )
    masked = s.masked()
    assert "hunter2" not in str(masked) and "topsecret" not in str(masked)
    assert masked["database_url"] == "postgresql+asyncpg://app:********@db:5432/daihuo"
    assert mask_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_embedded_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("DAIHUO_DATABASE_URL", "DAIHUO_REDIS_URL", "DAIHUO_WAREHOUSE_URL"):
        monkeypatch.delenv(key, raising=False)
    s = Settings()
    assert s.database_url == "sqlite+aiosqlite:///var/daihuo.db"
    assert s.warehouse_url == "duckdb:///var/warehouse.duckdb"
    assert s.redis_url is None


def test_environment_switches_to_scale_out_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAIHUO_DATABASE_URL", "postgresql+asyncpg://pg/daihuo")
    monkeypatch.setenv("DAIHUO_REDIS_URL", "redis://127.0.0.1:6379/0")
    s = Settings()
    assert not s.is_sqlite and s.redis_url == "redis://127.0.0.1:6379/0"


def test_problem_types_are_stable_urns() -> None:
    err = NotFound("gone")
    assert err.type == problem_type("not-found") == "urn:daihuo:problem:not-found"
    assert err.to_problem("/x") == {
        "type": "urn:daihuo:problem:not-found",
        "title": "Not found",
        "status": 404,
        "detail": "gone",
        "instance": "/x",
    }
    assert issubclass(NotFound, AppError)
