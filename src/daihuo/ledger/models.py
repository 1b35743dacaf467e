"""The transparency log's tables. All three are append-only: the migration installs
triggers that make the database refuse UPDATE and DELETE on them (and TRUNCATE on
PostgreSQL), so a rewrite needs a schema change, which ``daihuo ledger fsck`` then
detects.

* ``ledger_leaves``: leaf ``idx`` (0-based, dense), the entry bytes (RFC 8785 JSON) and
  their RFC 9162 leaf hash.
* ``ledger_nodes``: the hash of every complete, aligned perfect subtree of two or more
  leaves, ``(level, idx)`` covering leaves ``[idx * 2**level, (idx + 1) * 2**level)``.
  Level 0 is the leaf hash column of ``ledger_leaves``. A tree of n leaves has
  ``sum(n >> level for level >= 1)`` such nodes (fewer than n), and any proof is
  made of O(log n) of them.
* ``ledger_checkpoints``: every signed checkpoint, in signing order.

The log is public and holds every tenant's entries, so no table is tenant-scoped.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from daihuo.core.db import Base

# INTEGER PRIMARY KEY is SQLite's rowid: one B-tree per table instead of two.
RowId = BigInteger().with_variant(Integer(), "sqlite")

LOG_TABLES = ("ledger_leaves", "ledger_nodes", "ledger_checkpoints")


class LedgerLeaf(Base):
    __tablename__ = "ledger_leaves"

    idx: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False)
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime]


class LedgerNode(Base):
    __tablename__ = "ledger_nodes"
    # One B-tree keyed by (level, idx) on SQLite, instead of a rowid table plus an index.
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerCheckpoint(Base):
    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class LedgerRef(Base):
    """Which leaf holds a business record's entry: ``ref`` names the event (e.g.
    ``order:<order id>:<event id>``), unique, so an event is appended once. Written by the
    sequencer in the transaction that stores the leaf, so a crash cannot separate them.
    ``source_seq`` is the position in the feed the entry came from (the order outbox),
    so a feeder restarts where it stopped."""

    __tablename__ = "ledger_refs"
    __table_args__ = (Index("ix_ledger_refs_record", "kind", "record_id"),)

    ref: Mapped[str] = mapped_column(String(160), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    record_id: Mapped[str] = mapped_column(String(64))
    idx: Mapped[int] = mapped_column(BigInteger)
    source_seq: Mapped[int | None] = mapped_column(BigInteger)
