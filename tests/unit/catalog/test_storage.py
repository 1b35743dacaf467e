"""The local file storage behind product images: atomic writes, keys that cannot
climb out of the root."""

from __future__ import annotations

from pathlib import Path

import pytest

from daihuo.core.storage import FileNotStored, InvalidKey, LocalStorage, make_storage


async def test_put_get_replace_delete(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "files")
    await store.put("products/prd_1/img_1", b"one", content_type="image/png")
    assert await store.get("products/prd_1/img_1") == b"one"
    await store.put("products/prd_1/img_1", b"two", content_type="image/png")
    assert await store.get("products/prd_1/img_1") == b"two"
    assert [p.name for p in (tmp_path / "files/products/prd_1").iterdir()] == ["img_1"]
    await store.delete("products/prd_1/img_1")
    await store.delete("products/prd_1/img_1")  # deleting twice is fine
    with pytest.raises(FileNotStored):
        await store.get("products/prd_1/img_1")


@pytest.mark.parametrize(
    "key",
    ["../etc/passwd", "a/../../b", "/abs", "a//b", "", "UPPER", "a/b/", ".hidden", "a\\b", "a b"],
)
async def test_keys_stay_inside_the_root(tmp_path: Path, key: str) -> None:
    store = LocalStorage(tmp_path)
    with pytest.raises(InvalidKey):
        await store.put(key, b"x", content_type="image/png")
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240 - a test's own temporary folder


def test_storage_urls(tmp_path: Path) -> None:
    assert isinstance(make_storage(f"file://{tmp_path}"), LocalStorage)
    assert isinstance(make_storage(str(tmp_path)), LocalStorage)
    with pytest.raises(ValueError, match="s3"):
        make_storage("s3://bucket/prefix")
