"""File storage behind one small interface: the embedded default keeps files on the
local disk under ``Settings.data_dir``; an S3-compatible store plugs in by implementing
:class:`Storage` (``put`` / ``get`` / ``delete`` by key).

Keys are chosen by the application, never by a client: lower-case ASCII segments
separated by ``/`` (``products/prd_01J…/img_01J…``). Anything else is refused, so a key
can never climb out of the storage root.
"""

from __future__ import annotations

from daihuo.core.storage.base import FileNotStored, InvalidKey, Storage, check_key
from daihuo.core.storage.local import LocalStorage

__all__ = ["FileNotStored", "InvalidKey", "LocalStorage", "Storage", "check_key", "make_storage"]


def make_storage(url: str) -> Storage:
    """A storage from its URL: ``file:///path`` (or a bare path) for the local disk."""
    if url.startswith("file://"):
        return LocalStorage(url.removeprefix("file://"))
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise ValueError(f"no storage backend for {scheme}:// (only file:// is built in)")
    return LocalStorage(url)
