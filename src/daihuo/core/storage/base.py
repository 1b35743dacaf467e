"""The storage interface and the key rule every backend shares."""

from __future__ import annotations

import re
from typing import Protocol

_KEY = re.compile(r"^[a-z0-9][a-z0-9_\-.]{0,99}(/[a-z0-9][a-z0-9_\-.]{0,99}){0,7}$")


class InvalidKey(ValueError):
    """A key that is not a plain relative name: a bug in the caller, never user input."""


class FileNotStored(LookupError):
    """No file under that key."""


def check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise InvalidKey(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing what was there (atomically)."""

    async def get(self, key: str) -> bytes:
        """The bytes under ``key``; :class:`FileNotStored` when there are none."""

    async def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""
