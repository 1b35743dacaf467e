"""Use cases of the analytics module that its API and the console pages share.

The authenticity of finished sessions is read from the session reports published in the
transparency log (:mod:`daihuo.analytics.publish`), never scanned again here: what the
platform shows is what anyone can check against the log.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.analytics.publish import KIND
from daihuo.analytics.schemas import SessionScore
from daihuo.ledger import service as ledger

# A session is an authenticity alert when its score is below this. The score is the
# product of (1 - share) over the four kinds of fake activity (docs/authenticity.md). On
# the evaluation's genuine rooms, traps included, the detectors flag at most 1 % of the
# users and now and then one order, so a genuine session scores near 1; under 0.95,
# flagged activity explains over 5 % of the session's viewers, comments, likes or GMV
# (the demo's default mix of fakes scores about 0.8-0.9) — worth an operator's look.
ALERT_BELOW: Final = 0.95


async def session_scores(session: AsyncSession, limit: int) -> list[SessionScore]:
    """The ``limit`` latest published session reports of every merchant, least authentic
    first (reports without a score last)."""
    out = []
    for link in await ledger.latest_records(session, KIND, limit):
        entry, body = link.entry, link.entry["body"]
        raw, verified = body.get("raw") or {}, body.get("verified") or {}
        out.append(
            SessionScore(
                session=entry["id"],
                merchant=entry["tenant"],
                ended_at=entry["ts"],
                authenticity_score=body.get("authenticity_score"),
                breakdown=body.get("breakdown") or {},
                gmv={"raw": raw.get("gmv"), "verified": verified.get("gmv")},
                viewer_uv={"raw": raw.get("viewer_uv"), "verified": verified.get("viewer_uv")},
                proof=link.proof,
            )
        )
    out.sort(key=lambda s: (s.authenticity_score is None, s.authenticity_score or 0.0))
    return out


async def authenticity_alerts(
    session: AsyncSession, limit: int, *, below: float = ALERT_BELOW
) -> list[SessionScore]:
    """Of the ``limit`` latest published reports, the sessions scoring under ``below``,
    least authentic first."""
    return [
        s
        for s in await session_scores(session, limit)
        if s.authenticity_score is not None and s.authenticity_score < below
    ]
