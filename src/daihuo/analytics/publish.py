"""Each finished session's report goes into the transparency log (shared/spec/ledger.md,
kind ``session_report``), so a brand or an auditor can check the figures a merchant shows
against what the platform computed when the session ended.

The entry: ``tenant`` = the merchant, ``id`` = the session, ``ts`` = when it ended, and
``body`` = ``{"raw": <the metric dictionary of the session's events (the store's SQL)>,
"verified": <the same without the events of flagged users and orders>,
"authenticity_score": <0..1>, "breakdown": <per kind of fake activity>}`` — the
authenticity scan (docs/authenticity.md) of the stored events. A later correction would
be a new entry naming this one in ``body.corrects`` (entries never change).

A background job of the app (:class:`ReportPublisher`) looks for ended sessions whose
report is not in the log yet and appends them, each with the ref
``session_report:<session>`` stored in the leaf's transaction — so a report is published
once, and a crash before it was published only delays it to the next round.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from daihuo.analytics import engine
from daihuo.core.db import Database
from daihuo.core.tasks import Periodic
from daihuo.events.sink import EventSink
from daihuo.events.store import session_events
from daihuo.ledger import service as ledger
from daihuo.ledger.errors import LedgerUnavailable
from daihuo.live import service as live

log = logging.getLogger("daihuo.analytics.publish")
KIND = "session_report"


def ref_of(session_id: str) -> str:
    return f"{KIND}:{session_id}"


class ReportPublisher(Periodic):
    def __init__(self, db: Database, sink: EventSink, *, interval: float) -> None:
        super().__init__("report-publisher", self.publish, interval=interval)
        self.db = db
        self.sink = sink
        self._lock = asyncio.Lock()

    async def publish(self) -> int:
        """Append the report of every ended session not in the log yet; returns how many."""
        try:
            sequencer = ledger.running(self.db)
        except LedgerUnavailable:
            return 0
        async with self._lock:
            total, after = 0, ""
            while True:
                async with self.db.session(all_tenants=True) as session:
                    ended = await live.ended_sessions(session, after_id=after)
                    done = await ledger.recorded(session, [ref_of(s.id) for s in ended])
                todo = [s for s in ended if ref_of(s.id) not in done]
                if todo:
                    entries = [await self._entry(s) for s in todo]
                    refs: list[ledger.Ref | None] = [
                        ledger.Ref(ref_of(s.id), KIND, s.id) for s in todo
                    ]
                    await sequencer.append_entries(entries, refs)
                    total += len(todo)
                if len(ended) < 200:
                    if total:
                        log.info("published session reports", extra={"count": total})
                    return total
                after = ended[-1].id

    async def _entry(self, s: live.EndedSession) -> bytes:
        body = await asyncio.to_thread(self._body, s.id)
        return ledger.build_entry(KIND, s.merchant_id, s.id, body, ts=s.ended_at)

    def _body(self, session_id: str) -> dict[str, Any]:
        warehouse = self.sink.flushed()
        raw = engine.session_report(warehouse, session_id)
        if raw is None:
            return {"raw": None, "verified": None, "authenticity_score": None, "breakdown": {}}
        from daihuo.authenticity.scan import scan_session  # numpy/scipy: load when needed

        scanned = scan_session(session_id, list(session_events(warehouse, session_id)))
        return {
            "raw": raw,
            "verified": scanned["verified"],
            "authenticity_score": scanned["authenticity_score"],
            "breakdown": scanned["breakdown"],
        }
