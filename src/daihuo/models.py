"""Every module's tables on one metadata, for Alembic and for tests."""

from __future__ import annotations

from daihuo.catalog import models as _catalog  # noqa: F401
from daihuo.core import idempotency as _idempotency  # noqa: F401
from daihuo.core.db import Base
from daihuo.ledger import models as _ledger  # noqa: F401
from daihuo.live import models as _live  # noqa: F401
from daihuo.orders import models as _orders  # noqa: F401
from daihuo.payments import models as _payments  # noqa: F401
from daihuo.settlement import models as _settlement  # noqa: F401
from daihuo.tenancy import models as _tenancy  # noqa: F401

metadata = Base.metadata
