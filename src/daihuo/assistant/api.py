"""The assistant's HTTP API under ``/api/v1``: triage, answer drafts, insights, selection."""

from __future__ import annotations

from fastapi import APIRouter

from daihuo.assistant.insights_api import router as insights_router

router = APIRouter(prefix="/api/v1", tags=["assistant"])
router.include_router(insights_router)  # review insights: GET /sessions/{id}/insights
