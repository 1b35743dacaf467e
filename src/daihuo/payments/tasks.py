"""The payments background task of each app process: it delivers the sandbox's due
callbacks (with their retries), re-sends refunds a crash left unsent, and forgets
webhook ids older than the freshness window. Everything it works from is in the
database, so it resumes after a restart."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from datetime import timedelta
from typing import Any

from daihuo.config import Settings
from daihuo.core.clock import utcnow
from daihuo.core.db import Database
from daihuo.payments import service
from daihuo.payments.provider import PaymentProvider
from daihuo.payments.sandbox import SandboxProvider, asgi_deliverer
from daihuo.settlement.service import Policy

log = logging.getLogger("daihuo.payments")


def webhook_secret(settings: Settings) -> bytes:
    """The configured secret, else one derived from the server secret (stable per install)."""
    if settings.payments_webhook_secret is not None:
        return settings.payments_webhook_secret.get_secret_value().encode()
    return hmac.new(settings.resolved_secret_key(), b"sandbox-webhook", hashlib.sha256).digest()


class Payments:
    """The provider in use and the worker that runs beside it."""

    def __init__(self, db: Database, provider: PaymentProvider, *, settings: Settings) -> None:
        self.db = db
        self.provider = provider
        self.settings = settings
        self.policy = Policy.from_settings(settings)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.owned_db: Database | None = None  # the sandbox's own connections, if any

    @classmethod
    def from_settings(cls, db: Database, settings: Settings, app: Any) -> Payments:
        # The sandbox stands for another company's system: it gets its own connections.
        # Sharing the app's pool deadlocked under load — each "pay" request holds an app
        # connection while the provider needs one, and at pool size requests they all wait.
        provider_db = Database(db.url)
        provider = SandboxProvider(
            provider_db,
            secret=webhook_secret(settings),
            deliver=asgi_deliverer(app),
            public_base=settings.public_url or "",
            tolerance=settings.payments_webhook_tolerance_seconds,
            retry_seconds=settings.sandbox_callback_retry_seconds,
            max_attempts=settings.sandbox_callback_max_attempts,
            delay_seconds=settings.sandbox_callback_delay_seconds,
            fail_payments=settings.sandbox_fail_payments,
        )
        payments = cls(db, provider, settings=settings)
        payments.owned_db = provider_db
        return payments

    @property
    def sandbox(self) -> SandboxProvider | None:
        return self.provider if isinstance(self.provider, SandboxProvider) else None

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="daihuo-payments")

    async def stop(self) -> None:
        self._stopping.set()
        if self.sandbox is not None:
            self.sandbox.wake()
        if self._task is not None:
            # Let the round in progress finish (a cancelled database call would leave its
            # driver thread behind); cancel only if it does not finish in time.
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self.owned_db is not None:
            await self.owned_db.dispose()

    async def run_once(self) -> None:
        if self.sandbox is not None:
            while await self.sandbox.deliver_due() > 0:
                pass
        await service.resend_unsent_refunds(self.db, self.provider, older_than=30)

    async def _run(self) -> None:
        tolerance = self.settings.payments_webhook_tolerance_seconds
        poll = self.settings.sandbox_poll_seconds
        last_prune = asyncio.get_running_loop().time()  # not at every start-up
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                await self.run_once()
                if loop.time() - last_prune > tolerance:
                    before = utcnow() - timedelta(seconds=2 * tolerance)
                    await service.prune_receipts(self.db, before=before)
                    last_prune = loop.time()
            except Exception:  # keep going: everything is retried from the database
                log.exception("payments worker round failed")
            if self.sandbox is not None:
                await self.sandbox.wait(poll)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=poll)
