"""The bus interface. Invariants both implementations keep:

* :meth:`Bus.publish` gives each message of a topic the next sequence number (1, 2, 3…),
  stores it in the topic's bounded replay buffer and delivers it to every subscriber of
  the topic in every process, **in sequence order** — sequence assignment, buffering
  and delivery are one atomic step, so no subscriber sees 7 before 6.
* A message is a JSON object text; the bus inserts the number as its first key, so a
  delivered message always starts with ``{"seq":<n>,`` (read back with :func:`message_seq`).
* :meth:`Bus.replay` returns every buffered message after a number, or ``None`` when
  some of them have already left the buffer (the caller must start over from a snapshot).
* A claim set never holds more than its limit, nor any member twice, however many
  processes claim at once (:meth:`Bus.claim` is one atomic step).
* Counters only grow by what is added; presence counts members whose lease is fresh, so a
  crashed process's members disappear after the lease instead of staying online forever.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence

Handler = Callable[[bytes], None]
Unsubscribe = Callable[[], Awaitable[None]]

SEQ_PREFIX = b'{"seq":'


def with_seq(seq: int, body: bytes) -> bytes:
    """``{"seq":n,…}`` from ``{…}`` (a JSON object text with at least one key)."""
    if not body.startswith(b"{") or body == b"{}":
        raise ValueError("a bus message is a JSON object with at least one key")
    return SEQ_PREFIX + str(seq).encode() + b"," + body[1:]


def message_seq(message: bytes) -> int:
    """The sequence number of a delivered message."""
    return int(message[len(SEQ_PREFIX) : message.index(b",", len(SEQ_PREFIX))])


class Bus(ABC):
    """Fan-out, replay, presence and counters for topics (a topic is one live room)."""

    @abstractmethod
    async def publish(self, topic: str, body: bytes, *, keep: str | None = None) -> int:
        """Number, buffer and deliver ``body``; also remember it in the bounded list
        ``keep`` (e.g. the last comments) when given. Returns its sequence number."""

    @abstractmethod
    async def subscribe(self, topic: str, handler: Handler) -> Unsubscribe:
        """Call ``handler`` with every message published on ``topic`` from now on."""

    @abstractmethod
    async def replay(self, topic: str, after: int) -> tuple[int, list[bytes]] | None:
        """``(last seq, messages after `after`)``, or ``None`` if the buffer no longer
        holds them all (or ``after`` is in the future)."""

    @abstractmethod
    async def kept(self, topic: str, names: Sequence[str]) -> tuple[int, dict[str, list[bytes]]]:
        """``(last seq, {name: the messages kept in that list, oldest first})``, all read
        in one atomic step: the lists hold exactly the messages up to that number."""

    @abstractmethod
    async def forget(self, topic: str, name: str, needle: bytes) -> int:
        """Remove from kept list ``name`` the messages that contain ``needle``; returns
        how many. (The replay buffer keeps them: it is history, later messages amend it.)"""

    @abstractmethod
    async def put(self, topic: str, name: str, value: int, ttl_ms: int | None = None) -> None:
        """Set a value of the topic (for ``ttl_ms`` if given)."""

    @abstractmethod
    async def get(self, topic: str, name: str) -> int | None:
        """A value of the topic, ``None`` if unset or expired."""

    @abstractmethod
    async def add(self, topic: str, counter: str, by: int) -> int:
        """Add to a counter; returns the new total."""

    @abstractmethod
    async def counter(self, topic: str, counter: str) -> int:
        """A counter's total (0 if never added to)."""

    @abstractmethod
    async def claim(self, topic: str, name: str, member: str, limit: int) -> int:
        """Add ``member`` to the claim set ``name`` in one atomic step, unless it is in it
        already (returns 0) or the set holds ``limit`` members (returns -1); else returns
        the set's new size (1 … ``limit``)."""

    @abstractmethod
    async def unclaim(self, topic: str, name: str, member: str) -> None:
        """Take ``member`` out of the claim set ``name`` (its claim did not go through)."""

    @abstractmethod
    async def allow(self, topic: str, key: str, burst: int, per_second: float) -> float:
        """A token bucket shared by every process: 0.0 if ``key`` may act now (and the
        action is counted), else the seconds until it may. ``burst`` at once, then
        ``per_second``."""

    @abstractmethod
    async def join(self, topic: str, member: str) -> None:
        """``member`` (one connection) is present."""

    @abstractmethod
    async def leave(self, topic: str, member: str) -> None:
        """``member`` is gone."""

    @abstractmethod
    async def refresh(self, topic: str, members: Sequence[str]) -> None:
        """Renew the presence lease of this process's members."""

    @abstractmethod
    async def present(self, topic: str) -> int:
        """How many members are present, in every process."""

    @abstractmethod
    async def lead(self, topic: str, owner: str, ttl_ms: int) -> bool:
        """Take or keep the topic's leadership lease for ``ttl_ms``: True if ``owner``
        leads (one process publishes the topic's periodic totals)."""

    @abstractmethod
    async def retire(self, topic: str) -> None:
        """The topic is finished (its session ended): its state may go. Messages already
        published are still delivered; in Redis the keys expire after an hour, so late
        readers still find the counters."""

    @abstractmethod
    async def close(self) -> None:
        """Stop delivering; release connections."""
