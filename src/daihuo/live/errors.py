"""Live-session problems."""

from __future__ import annotations

from daihuo.core.errors import Conflict, NotFound, ValidationFailed


class LiveSessionNotFound(NotFound):
    slug, title = "live-session-not-found", "No such live session"


class UnknownShowcaseItems(ValidationFailed):
    slug, title = "unknown-showcase-items", "Not in your showcase"


class SessionNotEditable(Conflict):
    slug, title = "session-not-editable", "The session can no longer be changed"
