"""Demo data for ``make demo``: a platform, two suppliers with a Chinese catalogue, three
merchants with showcases, consumers, a scheduled live session and a few paid orders.

Everything goes through the same services the API uses (so settlement postings and the
order outbox are real; the server's ledger feeder logs the orders when it starts). The
orders are marked paid without the payment provider: the demo has no buyer at a pay
page. Product images are drawn here (a PNG per product), nothing is downloaded.

Idempotent: running the demo again reuses the accounts and leaves a catalogue that is
already there alone.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import struct
import sys
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.analytics import engine
from daihuo.catalog import service as catalog
from daihuo.catalog import trace
from daihuo.catalog.schemas import (
    BatchCreate,
    FaqEntry,
    ProductCreate,
    ProductFacts,
    ShowcaseCreate,
    SizeRow,
    SkuCreate,
    StepCreate,
)
from daihuo.config import Settings
from daihuo.core.db import Database, commit
from daihuo.core.ids import new_id
from daihuo.core.pagination import PageParams
from daihuo.core.storage import make_storage
from daihuo.events.store import session_events
from daihuo.ledger.service import Ledger
from daihuo.live import service as live
from daihuo.live.domain import system_event
from daihuo.live.errors import SessionStateConflict
from daihuo.live.schemas import LiveSessionCreate, LiveSessionStart
from daihuo.orders import service as orders
from daihuo.orders.ledger_feed import LedgerFeeder
from daihuo.orders.schemas import DeliveryAddress, OrderCreate
from daihuo.settlement.service import Policy
from daihuo.simulator.corpus import catalogue
from daihuo.simulator.replay import (
    Timed,
    products_in_order,
    rebase,
    replay,
    simulated_session,
)
from daihuo.tenancy import service
from daihuo.tenancy.domain import Principal, TenantKind, Via
from daihuo.tenancy.errors import EmailTaken
from daihuo.tenancy.schemas import SignupRequest

log = logging.getLogger("daihuo.demo")
DEMO_PASSWORD = "daihuo-demo-2026"  # noqa: S105 - a published demo credential on a local database

# (e-mail, display name, tenant kind, tenant name, catalogue categories)
ACCOUNTS: list[tuple[str, str, TenantKind | None, str, frozenset[str]]] = [
    ("operator@daihuo.local", "平台运营", TenantKind.platform, "带货平台", frozenset()),
    ("supplier@daihuo.local", "源头工厂", TenantKind.supplier, "杭州源头服饰厂",
     frozenset({"apparel", "baby"})),
    ("supplier2@daihuo.local", "好物优选", TenantKind.supplier, "义乌好物供应链",
     frozenset({"beauty", "food", "home", "digital"})),
    ("merchant@daihuo.local", "小美直播间", TenantKind.merchant, "小美的店",
     frozenset({"apparel", "beauty"})),
    ("merchant2@daihuo.local", "阿杰好物", TenantKind.merchant, "阿杰数码家居",
     frozenset({"digital", "home"})),
    ("merchant3@daihuo.local", "老王农家", TenantKind.merchant, "老王农家小铺",
     frozenset({"food", "baby"})),
    *[(f"buyer{i}@daihuo.local", name, None, "", frozenset())
      for i, name in enumerate(["小李", "阿芳", "王姐", "大刘", "小陈"], start=1)],
]  # fmt: skip

CATEGORY_ZH = {
    "apparel": "服饰/女装",
    "beauty": "美妆/护肤",
    "food": "食品/零食",
    "home": "家居/日用",
    "digital": "数码/配件",
    "baby": "母婴/用品",
}
COLOURS = {
    "apparel": (222, 120, 140),
    "beauty": (240, 160, 180),
    "food": (240, 180, 90),
    "home": (120, 170, 200),
    "digital": (90, 110, 160),
    "baby": (150, 200, 150),
}
STOCK = 300


@dataclass
class DemoInfo:
    lines: list[str] = field(default_factory=list)
    live_session: str | None = None
    provenance: str | None = None  # the public page path of a batch
    products: int = 0
    orders: int = 0


@dataclass
class _Actor:
    email: str
    kind: TenantKind | None
    categories: frozenset[str]
    principal: Principal


async def seed(settings: Settings) -> DemoInfo:
    db = Database(settings.database_url)
    info = DemoInfo()
    try:
        actors = []
        for email, display, kind, tenant_name, categories in ACCOUNTS:
            async with db.session(all_tenants=True) as session:
                user_id, tenant = await _ensure(
                    session, settings, email, display, kind, tenant_name
                )
                await commit(session)
            async with db.session(all_tenants=True) as session:
                user = await service.get_user(session, user_id)
                ctx = await service.principal_for_user(
                    session, user, via=Via.bearer, tenant_id=tenant
                )
            actors.append(_Actor(email, kind, categories, ctx))
            role = kind.value if kind else "consumer"
            where = f"  tenant {tenant}" if tenant else ""
            info.lines.append(f"{role:<9} {email} / {DEMO_PASSWORD}{where}")
        # The log runs while seeding, so trace steps and the orders land in it now.
        async with Ledger.from_settings(db, settings):
            await _commerce(db, settings, actors, info)
            await LedgerFeeder(db, interval=3600).feed()
    finally:
        await db.dispose()
    return info


async def _ensure(
    session: AsyncSession,
    settings: Settings,
    email: str,
    display: str,
    kind: TenantKind | None,
    name: str,
) -> tuple[str, str | None]:
    from daihuo.app import auth_config

    data = SignupRequest(email=email, password=DEMO_PASSWORD, display_name=display)
    try:
        user, _ = await service.signup(session, auth_config(settings), data)
    except EmailTaken:
        user_id = await service.user_id_of_email(session, email)
        memberships = await service.memberships_of_email(session, email)
        return user_id, (memberships[0] if memberships else None)
    if kind is None:
        return user.id, None
    tenant = await service.create_tenant(session, kind=kind, name=name, owner=user)
    return user.id, tenant.id


async def _in(db: Database, ctx: Principal | None, fn: Any) -> Any:
    tenant = ctx.tenant_id if ctx is not None else None
    async with db.session(tenant_id=tenant, all_tenants=ctx is None) as session:
        result = await fn(session)
        await commit(session)
        return result


async def _commerce(db: Database, settings: Settings, actors: list[_Actor], info: DemoInfo) -> None:
    platform = next(a for a in actors if a.kind is TenantKind.platform).principal
    suppliers = [a for a in actors if a.kind is TenantKind.supplier]
    merchants = [a for a in actors if a.kind is TenantKind.merchant]
    buyers = [a.principal for a in actors if a.kind is None]
    first = suppliers[0].principal
    page = PageParams(limit=1, cursor=None)
    existing, _ = await _in(db, first, lambda s: catalog.list_products(s, first, page, None))
    if existing:
        info.lines.append("catalogue  already seeded (delete var/ to start over)")
        product = existing[0].id
        batches, _ = await _in(db, first, lambda s: trace.list_batches(s, first, product, page))
        info.provenance = batches[0].page_url if batches else None
        info.live_session = await _next_session(db, merchants[0].principal)
        return
    storage = make_storage(settings.storage_url or str(settings.data_dir / "files"))
    listed: dict[str, list[tuple[str, int]]] = {}  # category -> (product id, price)
    skus: dict[str, list[str]] = {}  # product id -> SKU ids
    for n, product in enumerate(catalogue()):
        owner = next(a.principal for a in suppliers if product.category in a.categories)
        data = _product(n, product.name, product.category, product.price)
        made = await _in(db, owner, lambda s, d=data, o=owner: catalog.create_product(s, o, d))
        png = _png(COLOURS[product.category], n)
        await _in(
            db,
            owner,
            lambda s, o=owner, p=made.id, b=png: catalog.add_image(s, o, storage, p, b),
        )
        await _in(db, owner, lambda s, o=owner, p=made.id: catalog.submit_product(s, o, p))
        await _in(db, None, lambda s, p=made.id: catalog.approve_product(s, platform, p))
        listed.setdefault(product.category, []).append((made.id, product.price))
        skus[made.id] = [sku.id for sku in made.skus]
        info.products += 1
    items: dict[str, list[str]] = {}
    for merchant in merchants:
        m = merchant.principal
        for category in sorted(merchant.categories):
            for product_id, price in listed.get(category, []):
                pick = ShowcaseCreate(product_id=product_id, price=price)
                item = await _in(db, m, lambda s, d=pick, c=m: catalog.add_to_showcase(s, c, d))
                items.setdefault(merchant.email, []).append(item.id)
    host = merchants[0].principal
    tonight = (datetime.now(UTC) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    lineup = LiveSessionCreate(
        title="小美直播间 · 秋冬穿搭专场",
        planned_start=tonight,
        products=items[merchants[0].email][:8],
    )
    session = await _in(db, host, lambda s: live.schedule(s, host, lineup))
    info.live_session = session.id
    await _orders(db, buyers, session.products, skus, info)
    apparel = listed["apparel"][0][0]
    info.provenance = await _trace(db, suppliers[0].principal, apparel)


async def _trace(db: Database, supplier: Principal, product_id: str) -> str:
    """A production batch of the product with its life so far, each step in the log."""
    batch = await _in(
        db,
        supplier,
        lambda s: trace.create_batch(
            s, supplier, product_id, BatchCreate(code="HZ-2026-11-A", quantity=1200)
        ),
    )
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    steps = [
        ("sourced", 0, "新疆阿克苏 长绒棉基地"),
        ("produced", 6, "浙江杭州 源头服饰厂 二号车间"),
        ("inspected", 8, "浙江杭州 质检中心"),
        ("packed", 9, "浙江杭州 源头服饰厂 成品仓"),
    ]
    for step, day, place in steps:
        data = StepCreate(step=step, at=start + timedelta(days=day), place=place)
        await _in(
            db,
            supplier,
            lambda s, d=data: trace.record_step(s, supplier, product_id, batch.id, d),
        )
    return trace.page_url(batch.public_id)


async def _next_session(db: Database, host: Principal) -> str:
    """A scheduled session of the demo merchant: the one waiting, or a new one like it."""
    many = PageParams(limit=200, cursor=None)
    sessions, _ = await _in(db, host, lambda s: live.list_sessions(s, host, many))
    waiting = [s for s in sessions if s.state == "scheduled"]
    if waiting:
        return str(waiting[-1].id)
    items, _ = await _in(db, host, lambda s: catalog.list_showcase(s, host, many))
    again = LiveSessionCreate(
        title="小美直播间 · 返场专场",
        planned_start=datetime.now(UTC) + timedelta(minutes=5),
        products=[i.id for i in items[:8]],
    )
    made = await _in(db, host, lambda s: live.schedule(s, host, again))
    return str(made.id)


# Where the seeded orders ship: the supplier's "to ship" list needs addresses.
DEMO_PLACES = (
    ("浙江省 杭州市 西湖区", "文三路 90 号 3 幢 501 室"),
    ("上海市 上海市 浦东新区", "张杨路 500 号 12 楼"),
    ("广东省 深圳市 南山区", "科技园南区 1 栋 808"),
    ("四川省 成都市 武侯区", "人民南路四段 27 号"),
)


async def _orders(
    db: Database,
    buyers: list[Principal],
    lineup: list[Any],
    skus: dict[str, list[str]],
    info: DemoInfo,
) -> None:
    """A few bought and paid items of the merchant's showcase, settled as the server would."""
    policy = Policy()
    for n, buyer in enumerate(buyers):
        product = lineup[n % len(lineup)]
        choices = skus[product.product_id]
        region, detail = DEMO_PLACES[n % len(DEMO_PLACES)]
        data = OrderCreate(
            item_id=product.item_id,
            sku_id=choices[n % len(choices)],
            quantity=1 + n % 2,
            address=DeliveryAddress(
                recipient=f"买家{n}", phone=f"138 0000 {n:04d}", region=region, detail=detail
            ),
        )
        order = await _in(
            db, buyer, lambda s, d=data, b=buyer: orders.place_order(s, b, d, max_quantity=99)
        )
        await _in(
            db,
            None,
            lambda s, o=order.id: orders.mark_paid(s, o, payment_id="demo-seed", policy=policy),
        )
        info.orders += 1


def _product(n: int, name: str, category: str, price: int) -> ProductCreate:
    if category == "apparel":
        skus = [
            SkuCreate(code=size, spec={"尺码": size}, price=price, stock=STOCK)
            for size in ("S", "M", "L")
        ]
    else:
        skus = [SkuCreate(code="STD", spec={"规格": "标准装"}, price=price, stock=STOCK)]
    return ProductCreate(
        title=name,
        category=CATEGORY_ZH[category],
        description=f"{name}。源头直供，支持七天无理由退货。",
        attributes={"发货地": "浙江杭州" if category == "apparel" else "浙江义乌"},
        facts=_facts(category),
        price_min=max(1, price * 8 // 10),
        price_max=price * 15 // 10,
        commission_bps=1000 + (n % 5) * 500,
        skus=skus,
    )


def _facts(category: str) -> ProductFacts:
    """What the demo's supplier tells hosts for answer drafts (the rest they do not know)."""
    faq = [FaqEntry(q="支持七天无理由退货吗", a="支持，签收后七天内未使用可无理由退货")]
    if category != "apparel":
        return ProductFacts(shipping_promise="付款后 72 小时内从浙江义乌发货，包邮", faq=faq)
    return ProductFacts(
        material="95% 棉 5% 氨纶",
        shipping_promise="付款后 48 小时内从浙江杭州发货，包邮（偏远地区除外）",
        usage="30 度以下水洗，不可漂白",
        size_chart=[
            SizeRow(size="S", height_cm=(150, 158), weight_kg=(40, 48)),
            SizeRow(size="M", height_cm=(158, 166), weight_kg=(48, 56)),
            SizeRow(size="L", height_cm=(166, 175), weight_kg=(56, 65)),
        ],
        faq=faq,
    )


def _png(rgb: tuple[int, int, int], n: int, size: int = 96) -> bytes:
    """A small product tile: the category's colour with a lighter band (no download)."""
    r, g, b = rgb
    light = (min(255, r + 40), min(255, g + 40), min(255, b + 40))
    band = (n * 7) % (size - 24) + 12
    rows = bytearray()
    for y in range(size):
        colour = light if band <= y < band + 12 else rgb
        rows += b"\x00" + bytes(colour) * size

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )


# --- the demo's live session -----------------------------------------------------------


async def _drive(settings: Settings, sid: str, seed: int) -> None:
    """``daihuo simulate --live`` against this server, in a process of its own (the
    viewers' clients must not take the server's CPU on its event loop)."""
    command = [
        sys.executable, "-m", "daihuo", "simulate", "--live",
        "--url", settings.demo_live_url, "--session", sid,
        "--viewers", str(settings.demo_live_viewers), "--seed", str(seed),
        "--speed", str(settings.demo_live_speed), "--minutes", str(settings.demo_live_minutes),
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await proc.communicate()
    text = output.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        log.error("the demo's simulated audience stopped (exit %s): %s", proc.returncode, text)
    else:
        log.info("the demo's simulated audience is done:\n%s", text)


async def run_live_session(state: Any, settings: Settings) -> dict[str, Any] | None:
    """Take the demo's scheduled session live, give it a simulated audience (replayed at
    ``demo_live_speed`` times real time into the server's event sink), end it, and return
    its report. Started by the app when ``DAIHUO_DEMO_LIVE_SESSION`` names a session."""
    sid = settings.demo_live_session
    db: Database = state.db
    await asyncio.sleep(2)  # let the server finish starting
    async with db.session(all_tenants=True) as session:
        email = "merchant@daihuo.local"
        user = await service.get_user(session, await service.user_id_of_email(session, email))
        tenant = (await service.memberships_of_email(session, email))[0]
        host = await service.principal_for_user(session, user, via=Via.bearer, tenant_id=tenant)
    try:
        started = await _in(db, host, lambda s: live.start(s, host, sid, LiveSessionStart()))
    except SessionStateConflict:
        log.warning("demo session %s is not scheduled any more; nothing to run", sid)
        return None
    at = started.started_at or datetime.now(UTC)
    state.event_sink.record([system_event(new_id("evt"), sid, "live_start", at)])
    seed_ = secrets.randbelow(1_000_000)
    with tempfile.TemporaryDirectory(prefix="daihuo-demo-") as tmp:
        events = await asyncio.to_thread(
            simulated_session,
            viewers=settings.demo_live_viewers,
            seed=seed_,
            workdir=Path(tmp),
            minutes=settings.demo_live_minutes,
        )
    timed = [
        t
        for t in rebase(events, session=sid, start=at, speed=settings.demo_live_speed)
        if t.event["type"] not in ("live_start", "live_end")  # the server records its own
    ]
    _as_session_products(timed, [p.product_id for p in started.products])
    # The host explains the first products of the list in turn (讲解): the review's markers.
    lineup = [p.item_id for p in started.products[:3]]
    span = timed[-1].offset if timed else 0.0
    pins = asyncio.create_task(_pin_in_turn(state, db, host, sid, lineup, span))
    if settings.demo_live_url:
        # The audience comes through the server's own room and API (simulate --live in a
        # process of its own). Feed impressions happen outside the room, on the platform's
        # recommender: those alone are recorded here, as that recommender would.
        outside = [t for t in timed if t.event["type"] == "impression"]
        log.info(
            "demo session %s is live: %d simulated viewers through %s, watch %s/live/%s",
            sid,
            settings.demo_live_viewers,
            settings.demo_live_url,
            settings.demo_live_url,
            sid,
        )
        await asyncio.gather(
            replay(outside, state.event_sink.record),
            _drive(settings, sid, seed_),
        )
    else:
        log.info(
            "demo session %s is live: %d simulated events over %.0f s",
            sid,
            len(timed),
            timed[-1].offset if timed else 0,
        )
        await replay(timed, state.event_sink.record)
    await pins
    ended = await _in(db, host, lambda s: live.end(s, host, sid))
    state.event_sink.record(
        [system_event(new_id("evt"), sid, "live_end", ended.ended_at or datetime.now(UTC))]
    )
    await state.rooms.session_ended(sid)
    figures: dict[str, Any] | None = await asyncio.to_thread(
        lambda: engine.session_report(state.event_sink.flushed(), sid)
    )
    if figures is not None:
        stored = await asyncio.to_thread(
            lambda: list(session_events(state.event_sink.flushed(), sid))
        )
        from daihuo.authenticity.scan import scan_session  # numpy/scipy: load when needed

        scanned = await asyncio.to_thread(scan_session, sid, stored)
        verified = scanned["verified"] or {}
        lines = [f"{'':<14}{'raw':>12}{'verified':>12}"]
        for k in ("viewer_uv", "pcu", "comment_count", "like_count", "order_count", "gmv"):
            lines.append(f"{k:<14}{figures.get(k)!s:>12}{verified.get(k)!s:>12}")
        lines.append(f"authenticity score {scanned['authenticity_score']}")
        log.info("demo session %s ended\n%s", sid, "\n".join(lines))
    return figures


def _as_session_products(timed: list[Timed], product_ids: list[str]) -> None:
    """Name the simulator's products (``p1007`` …) after the session's own, as
    ``simulate --live`` does, so the big screen and the review show the session's titles
    instead of ids nobody knows."""
    named = products_in_order((t.event for t in timed), product_ids)
    for t in timed:
        product = t.event.get("product")
        if product is not None:
            t.event["product"] = named.get(str(product), product)


async def _pin_in_turn(
    state: Any, db: Database, host: Principal, sid: str, items: list[str], span: float
) -> None:
    """Pin each of ``items`` for an equal share of ``span`` seconds, telling the room."""
    for item in items:
        try:
            pinned = await _in(db, host, lambda s, i=item: live.pin(s, host, sid, i))
            shown = pinned.pinned.model_dump(mode="json") if pinned.pinned is not None else None
            await state.rooms.pinned(sid, shown)
        except Exception:  # the show goes on without its markers
            log.exception("demo session %s: pinning %s failed", sid, item)
            return
        await asyncio.sleep(span / max(len(items), 1))
