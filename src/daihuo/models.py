"""Every module's tables on one metadata, for Alembic and for tests."""

from __future__ import annotations

from daihuo.core import idempotency as _idempotency  # noqa: F401
from daihuo.core.db import Base
from daihuo.tenancy import models as _tenancy  # noqa: F401

metadata = Base.metadata
