"""Files on the local disk: the embedded default."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import anyio.to_thread

from daihuo.core.storage.base import FileNotStored, check_key


class LocalStorage:
    """Keys map to files under ``root``; writes go to a temporary file, then rename."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
            with tmp.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(path)

        await anyio.to_thread.run_sync(write)

    async def get(self, key: str) -> bytes:
        path = self._path(key)

        def read() -> bytes:
            try:
                return path.read_bytes()
            except FileNotFoundError as exc:
                raise FileNotStored(key) from exc

        return await anyio.to_thread.run_sync(read)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))
