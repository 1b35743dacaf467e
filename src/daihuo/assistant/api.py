"""The assistant's HTTP API under ``/api/v1``: triage, answer drafts, insights, selection."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["assistant"])

# Selection (选品): its routes live in their own module.
from daihuo.assistant import selection_api  # noqa: E402

router.include_router(selection_api.router)
