"""Per-request context variables (request id) shared by logs and error bodies."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("daihuo_request_id", default=None)
