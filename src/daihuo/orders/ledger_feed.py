"""Feeds the order outbox into the transparency log (docs/ledger.md, "What goes in").

Every ``order_created`` / ``order_paid`` / ``order_refunded`` row of the outbox becomes an
``order`` entry; a payment and each refund also become a ``settlement`` entry with the
split (or the clawback) that settlement posted in the same transaction as the order's
change. Entries carry the event's own time, so the same event always gives the same
bytes, and the buyer is left out (the log is public; the order id links to it for those
allowed to see the order).

Exactly once: each entry's ref (``order:<order>:<event>``, ``settlement:<order>:<event>``)
is stored by the sequencer in the transaction that stores the leaf, and the feeder skips
refs already recorded — so a crash anywhere repeats nothing and loses nothing (the
outbox is durable; the feeder restarts after the last ``seq`` it recorded).

Commit order: ``seq`` is taken at insert, so on PostgreSQL a transaction holding a lower
``seq`` can commit after the feeder read past it. The feeder remembers every ``seq`` it
skipped and looks for it again each round, for ``GAP_PATIENCE`` (a gap that stays empty
that long was a rolled-back transaction). On SQLite writers are serialised, so ``seq``
order is commit order and gaps do not happen.

Run one feeder per database (every app process starts one; with several processes, set
``DAIHUO_LEDGER_FEED_INTERVAL_SECONDS`` high on all but one): two feeders racing for the
same event make the second one's batch fail on the ref's primary key, and it retries.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from daihuo.core.db import Database
from daihuo.core.tasks import Periodic
from daihuo.ledger import service as ledger
from daihuo.ledger.errors import LedgerUnavailable
from daihuo.orders import service
from daihuo.orders.schemas import OutboxRecord
from daihuo.settlement import service as settlement

log = logging.getLogger("daihuo.orders.ledger_feed")

ORDER = "order"
SETTLEMENT = "settlement"
GAP_PATIENCE = 300.0  # seconds


def _order_body(rec: OutboxRecord) -> dict[str, Any]:
    p = rec.payload
    meta = p.get("meta") or {}
    body: dict[str, Any] = {
        "event": rec.type,
        "event_id": rec.event_id,
        "supplier": meta.get("supplier"),
        "product": p.get("product"),
        "sku": meta.get("sku"),
        "amount": p["amount"],
        "session": p.get("session"),
    }
    if "qty" in p:
        body["qty"] = p["qty"]
    if "refund" in meta:
        body["refund"] = meta["refund"]
    return body


def _shares(split: Any) -> dict[str, int]:
    return {"supplier": split.supplier, "merchant": split.merchant, "platform": split.platform}


class LedgerFeeder(Periodic):
    def __init__(self, db: Database, *, interval: float, batch: int = 500) -> None:
        super().__init__("ledger-feeder", self.feed, interval=interval)
        self.db = db
        self.batch = batch
        self.cursor: int | None = None
        self.gaps: dict[int, float] = {}  # seq -> when first missed (monotonic)
        self._lock = asyncio.Lock()

    async def feed(self) -> int:
        """Append everything the outbox holds that the log does not; returns how many."""
        async with self._lock:  # a round of the loop and a caller's round never overlap
            return await self._feed()

    async def _feed(self) -> int:
        try:
            sequencer = ledger.running(self.db)
        except LedgerUnavailable:
            return 0  # no log in this process (it is started with the app)
        total = 0
        while True:
            saved = self.cursor, dict(self.gaps)
            try:
                entries, refs, more = await self._next_batch()
                if entries:
                    await sequencer.append_entries(entries, refs)
            except BaseException:
                self.cursor, self.gaps = saved  # read these rows again next round
                raise
            total += len(entries)
            if not more:
                if total:
                    log.info("appended order entries to the log", extra={"count": total})
                return total

    async def _next_batch(self) -> tuple[list[bytes], list[ledger.Ref | None], bool]:
        async with self.db.session(all_tenants=True) as session:
            if self.cursor is None:
                self.cursor = await ledger.last_source_seq(session, ORDER)
            rows = await service.outbox_after(session, self.cursor, self.batch)
            late = await service.outbox_at(session, sorted(self.gaps)) if self.gaps else []
            self._track_gaps(rows, late)
            records = sorted([*late, *rows], key=lambda r: r.seq)
            entries, refs = await self._entries(session, records)
        if rows:
            self.cursor = rows[-1].seq
        return entries, refs, len(rows) == self.batch

    def _track_gaps(self, rows: Sequence[OutboxRecord], late: Sequence[OutboxRecord]) -> None:
        now = time.monotonic()
        for rec in late:
            self.gaps.pop(rec.seq, None)
        expected = (self.cursor or 0) + 1
        for rec in rows:
            for missing in range(expected, rec.seq):
                self.gaps.setdefault(missing, now)
            expected = rec.seq + 1
        for seq, since in list(self.gaps.items()):
            if now - since > GAP_PATIENCE:
                del self.gaps[seq]

    async def _entries(
        self, session: Any, records: Sequence[OutboxRecord]
    ) -> tuple[list[bytes], list[ledger.Ref | None]]:
        wanted: list[tuple[OutboxRecord, str, str]] = []
        for rec in records:
            wanted.append((rec, ORDER, f"{ORDER}:{rec.order_id}:{rec.event_id}"))
            if rec.type in ("order_paid", "order_refunded"):
                wanted.append((rec, SETTLEMENT, f"{SETTLEMENT}:{rec.order_id}:{rec.event_id}"))
        done = await ledger.recorded(session, [ref for _, _, ref in wanted])
        entries: list[bytes] = []
        refs: list[ledger.Ref | None] = []
        for rec, kind, ref in wanted:
            if ref in done:
                continue
            body = _order_body(rec) if kind == ORDER else await self._settlement(session, rec)
            if body is None:
                continue
            merchant = str((rec.payload.get("meta") or {}).get("merchant"))
            ts = datetime.fromisoformat(rec.payload["ts"])
            entries.append(ledger.build_entry(kind, merchant, rec.order_id, body, ts))
            refs.append(ledger.Ref(ref, kind, rec.order_id, rec.seq if kind == ORDER else None))
        return entries, refs

    async def _settlement(self, session: Any, rec: OutboxRecord) -> dict[str, Any] | None:
        if rec.type == "order_paid":
            order = await settlement.get_order(session, rec.order_id)
            if order is None:
                log.error("paid order %s has no settlement", rec.order_id)
                return None
            return {
                "event": "paid",
                "event_id": rec.event_id,
                "amount": order.amount_paid,
                "supplier": order.supplier_id,
                "commission_bps": order.commission_rate,
                "platform_fee_bps": order.platform_fee_rate,
                "shares": _shares(order.shares),
            }
        refund_id = str((rec.payload.get("meta") or {}).get("refund"))
        split = await settlement.refund_clawback(session, rec.order_id, refund_id)
        if split is None:
            log.error("refund %s of order %s has no settlement", refund_id, rec.order_id)
            return None
        return {
            "event": "refund",
            "event_id": rec.event_id,
            "refund": refund_id,
            "amount": rec.payload["amount"],
            "clawback": _shares(split),
        }
