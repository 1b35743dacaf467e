"""Pydantic shapes of the analytics module's service results (read by its API and pages)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SessionScore(BaseModel):
    """A finished session's authenticity as its published report states it."""

    session: str
    merchant: str
    ended_at: str
    authenticity_score: float | None
    breakdown: dict[str, Any]
    gmv: dict[str, int | None] = Field(description="raw and verified GMV in fen")
    viewer_uv: dict[str, int | None] = Field(description="raw and verified viewers")
    proof: str = Field(description="The report's inclusion proof in the transparency log.")
