"""The assistant's HTTP API under ``/api/v1``: triage, answer drafts, insights, selection."""

from __future__ import annotations

from fastapi import APIRouter

from daihuo.assistant import selection_api
from daihuo.assistant.drafts_api import router as drafts_router
from daihuo.assistant.insights_api import router as insights_router

router = APIRouter(prefix="/api/v1", tags=["assistant"])

# Answer drafts (issue 10, item 2): their routes live in drafts_api.
router.include_router(drafts_router)
router.include_router(insights_router)  # review insights: GET /sessions/{id}/insights
router.include_router(selection_api.router)  # selection (选品)
