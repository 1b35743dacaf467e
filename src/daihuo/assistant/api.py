"""The assistant's HTTP API under ``/api/v1``: triage, answer drafts, insights, selection."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["assistant"])
