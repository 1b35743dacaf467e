"""The FastAPI application factory: routers, middleware, and the backends' lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from daihuo import __version__
from daihuo.analytics.api import router as analytics_router
from daihuo.analytics.live import LiveFeed, make_totals
from daihuo.analytics.publish import ReportPublisher
from daihuo.assistant.api import router as assistant_router
from daihuo.assistant.room import TriageFeed
from daihuo.assistant.room import make_store as make_triage_store
from daihuo.assistant.room import warm_up as warm_up_triage
from daihuo.catalog.api import router as catalog_router
from daihuo.catalog.schemas import FlashSaleRead
from daihuo.catalog.trace_api import router as trace_router
from daihuo.config import Settings, get_settings
from daihuo.core.batch import GroupCommit
from daihuo.core.bus import make_bus
from daihuo.core.db import Database
from daihuo.core.errors import PROBLEM_JSON, install_error_handlers, problem_type
from daihuo.core.idempotency import IdempotencyMiddleware
from daihuo.core.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from daihuo.core.redis import make_redis
from daihuo.core.storage import make_storage
from daihuo.demo import run_live_session
from daihuo.events.sink import EventSink
from daihuo.ledger.api import router as ledger_router
from daihuo.ledger.service import Ledger
from daihuo.live.api import router as live_router
from daihuo.live.domain import visitor_key
from daihuo.live.flash import FlashSales, make_flash_gate
from daihuo.live.flash_api import announce as announce_flash
from daihuo.live.flash_api import router as flash_router
from daihuo.live.room import RoomConfig, RoomHub
from daihuo.live.tasks import DrawCloser
from daihuo.live.ws import router as live_ws_router
from daihuo.orders.api import router as orders_router
from daihuo.orders.events import HUB as ORDER_HUB
from daihuo.orders.ledger_feed import LedgerFeeder
from daihuo.orders.tasks import ReservationSweeper
from daihuo.pages import STATIC_DIR as PAGES_STATIC
from daihuo.pages.console import router as console_pages
from daihuo.pages.live_room import router as live_room_pages
from daihuo.pages.live_sessions import router as live_session_pages
from daihuo.pages.orders import router as order_pages
from daihuo.pages.platform import router as platform_pages
from daihuo.pages.pool import router as pool_pages
from daihuo.pages.products import router as product_pages
from daihuo.pages.provenance import router as provenance_pages
from daihuo.pages.settlement import router as settlement_pages
from daihuo.pages.showcase import router as showcase_pages
from daihuo.pages.traceability import router as traceability_pages
from daihuo.payments.api import router as payments_router
from daihuo.payments.api import sandbox_router
from daihuo.payments.tasks import Payments
from daihuo.settlement.api import router as settlement_router
from daihuo.settlement.tasks import SettlementReleaser
from daihuo.tenancy.api import router as tenancy_router
from daihuo.tenancy.cache import PrincipalCache
from daihuo.tenancy.service import AuthConfig

API_DOCS = "/api/docs"
OPENAPI = "/api/openapi.json"


def auth_config(settings: Settings) -> AuthConfig:
    return AuthConfig(
        hasher=PasswordHasher(
            time_cost=settings.password_time_cost,
            memory_cost=settings.password_memory_kib,
            parallelism=settings.password_parallelism,
        ),
        token_ttl=timedelta(seconds=settings.token_ttl_seconds),
        session_ttl=timedelta(seconds=settings.session_ttl_seconds),
        max_failures=settings.login_max_failures,
        max_failures_per_ip=settings.login_max_failures_per_ip,
        failure_window=timedelta(seconds=settings.login_window_seconds),
    )


def room_config(settings: Settings) -> RoomConfig:
    return RoomConfig(
        frame_ms=settings.live_frame_ms,
        likes_ms=settings.live_likes_ms,
        online_ms=settings.live_online_ms,
        snapshot_comments=settings.live_snapshot_comments,
        comment_max_chars=settings.live_comment_max_chars,
        comment_burst=settings.live_comment_burst,
        comment_per_second=settings.live_comment_per_second,
        max_messages_per_second=settings.live_max_messages_per_second,
        idle_seconds=settings.live_idle_seconds,
        send_queue=settings.live_send_queue,
        slow_close_drops=settings.live_slow_close_drops,
        hold_limit=settings.live_replay_messages,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(settings.database_url)
        app.state.redis = make_redis(settings.redis_url) if settings.redis_url else None
        app.state.writer = GroupCommit(app.state.db)
        await app.state.writer.start()
        app.state.ledger = Ledger.from_settings(app.state.db, settings)
        await app.state.ledger.start()
        app.state.sweeper = ReservationSweeper(
            app.state.db,
            window=timedelta(seconds=settings.order_reservation_seconds),
            interval=settings.order_sweep_interval_seconds,
        )
        await app.state.sweeper.start()
        app.state.releaser = SettlementReleaser(
            app.state.db, interval=settings.settlement_release_interval_seconds
        )
        await app.state.releaser.start()
        # Events for analytics: the order hub now, the live rooms next (docs/analytics.md).
        app.state.event_sink = EventSink(
            settings.warehouse_url, interval=settings.warehouse_batch_seconds
        )
        unsubscribe = ORDER_HUB.subscribe(app.state.event_sink.record)
        # The live figures: every accepted event, in Redis when several processes serve.
        app.state.live_feed = LiveFeed(
            make_totals(app.state.redis, prefix=settings.redis_prefix),
            interval=settings.live_feed_apply_seconds,
        )
        unfeed = app.state.event_sink.subscribe(app.state.live_feed.add)
        await app.state.live_feed.start()
        # The assistant's comment triage (question queue, purchase intents, complaints).
        app.state.comment_triage = TriageFeed(
            make_triage_store(app.state.redis, prefix=settings.redis_prefix)
        )
        untriage = app.state.event_sink.subscribe(app.state.comment_triage.add)
        await app.state.comment_triage.start()
        if settings.assistant_warm_up:
            warm_up_triage()
        app.state.rooms = RoomHub(
            make_bus(
                app.state.redis,
                prefix=settings.redis_prefix,
                replay=settings.live_replay_messages,
                keep=max(settings.live_snapshot_comments, 1),
                presence_lease_ms=settings.live_presence_lease_ms,
            ),
            app.state.event_sink,
            visitor_key=visitor_key(settings.resolved_secret_key()),
            config=room_config(settings),
            db=app.state.db,
        )
        rooms = app.state.rooms

        async def flash_ended(sale: FlashSaleRead) -> None:
            await announce_flash(rooms, sale)

        app.state.flash = FlashSales(
            app.state.db,
            app.state.writer,
            make_flash_gate(app.state.redis, prefix=settings.redis_prefix),
            interval=settings.flash_sale_interval_seconds,
            stale_seconds=settings.flash_sale_grant_stale_seconds,
            on_end=flash_ended,
        )
        await app.state.flash.start()
        app.state.draw_closer = DrawCloser(
            app.state.db, app.state.rooms, interval=settings.live_draw_interval_seconds
        )
        await app.state.draw_closer.start()
        app.state.ledger_feeder = LedgerFeeder(
            app.state.db, interval=settings.ledger_feed_interval_seconds
        )
        await app.state.ledger_feeder.start()
        app.state.report_publisher = ReportPublisher(
            app.state.db, app.state.event_sink, interval=settings.ledger_feed_interval_seconds
        )
        await app.state.report_publisher.start()
        demo = (
            asyncio.create_task(run_live_session(app.state, settings), name="daihuo-demo-live")
            if settings.demo_live_session
            else None
        )
        app.state.payments = (
            Payments.from_settings(app.state.db, settings, app)
            if settings.payments_sandbox
            else None
        )
        if app.state.payments is not None:
            await app.state.payments.start()
        try:
            yield
        finally:
            if app.state.payments is not None:
                await app.state.payments.stop()
            if demo is not None:
                demo.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await demo
            await app.state.report_publisher.stop()
            await app.state.ledger_feeder.stop()
            await app.state.flash.stop()
            await app.state.draw_closer.stop()
            await app.state.rooms.close()
            unsubscribe()
            unfeed()
            untriage()
            await app.state.live_feed.stop()
            await app.state.comment_triage.stop()
            await asyncio.to_thread(app.state.event_sink.close)
            await app.state.releaser.stop()
            await app.state.sweeper.stop()
            await app.state.ledger.stop()
            await app.state.writer.stop()
            if app.state.redis is not None:
                await app.state.redis.aclose()
            await app.state.db.dispose()

    app = FastAPI(
        title="Daihuo API",
        version=__version__,
        summary="S2B live commerce: tenants, supply pool, orders, live rooms, verified numbers.",
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.auth_config = auth_config(settings)
    app.state.principal_cache = PrincipalCache(settings.auth_cache_seconds)
    app.state.storage = make_storage(settings.storage_url or str(settings.data_dir / "files"))
    install_error_handlers(app)

    # Outermost first: request id → body limit → idempotency → app.
    app.add_middleware(
        IdempotencyMiddleware,
        prefix="/api/v1/",
        exclude=("/api/v1/auth/token", "/api/v1/auth/login", "/api/v1/auth/logout"),
        refuse=("/api/v1/api-keys",),
        ttl_seconds=settings.idempotency_ttl_seconds,
    )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        upload_max_bytes=settings.max_upload_bytes,
    )
    app.add_middleware(RequestIdMiddleware)

    app.include_router(tenancy_router)
    app.include_router(ledger_router)
    app.include_router(catalog_router)
    app.include_router(orders_router)
    app.include_router(payments_router)
    app.include_router(settlement_router)
    app.include_router(live_router)
    app.include_router(live_ws_router)
    app.include_router(flash_router)
    app.include_router(analytics_router)
    app.include_router(assistant_router)
    app.include_router(trace_router)
    app.include_router(provenance_pages)
    app.include_router(live_session_pages)
    app.include_router(console_pages)
    app.include_router(live_room_pages)
    app.include_router(pool_pages)
    app.include_router(order_pages)
    app.include_router(showcase_pages)
    app.include_router(platform_pages)
    app.include_router(product_pages)
    app.include_router(settlement_pages)
    app.include_router(traceability_pages)
    app.mount("/static/pages", StaticFiles(directory=PAGES_STATIC), name="pages-static")
    if settings.payments_sandbox:
        app.include_router(sandbox_router)
    _add_health(app)
    _add_docs(app)
    return app


def _add_health(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "not ready"}})
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the database and, when configured, Redis answer."""
        checks: dict[str, str] = {}
        try:
            await request.app.state.db.ping()
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        if request.app.state.redis is not None:
            try:
                await request.app.state.redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = f"error: {type(exc).__name__}"
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        body: dict[str, Any] = {
            "type": problem_type("not-ready"),
            "title": "Not ready",
            "status": 503,
            "detail": "A backend is not answering.",
            "checks": checks,
        }
        return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)


def _add_docs(app: FastAPI) -> None:
    # Swagger UI's files come from a PyPI package: nothing is fetched from a CDN.
    import fastapi_offline

    static = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/api/docs-static", StaticFiles(directory=static), name="docs-static")

    @app.get("/", include_in_schema=False)
    async def index() -> RedirectResponse:
        return RedirectResponse("/console/dashboard")

    @app.get(API_DOCS, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI,
            title="Daihuo API",
            swagger_js_url="/api/docs-static/swagger-ui-bundle.js",
            swagger_css_url="/api/docs-static/swagger-ui.css",
            swagger_favicon_url="/api/docs-static/favicon.png",
        )
