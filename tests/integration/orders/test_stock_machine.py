"""A hypothesis state machine over real databases: whatever random sequence of
create / pay / cancel / expire / ship / refund / restock runs, every SKU keeps
available + reserved + sold equal to the stock it was given, and available never
goes negative — and the database agrees with a plain model of what should be."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from daihuo.catalog import service as catalog
from daihuo.catalog.errors import InsufficientStock
from daihuo.catalog.schemas import ProductCreate, ShowcaseCreate, SkuCreate
from daihuo.core.clock import utcnow
from daihuo.core.db import Database, commit
from daihuo.orders import errors as order_errors
from daihuo.orders import service as orders
from daihuo.orders.schemas import DeliveryAddress, OrderCreate, RefundRequest, Shipment
from daihuo.settlement import service as settlement
from daihuo.settlement.service import Policy
from daihuo.tenancy import service as tenancy
from daihuo.tenancy.domain import Principal, TenantKind, Via
from daihuo.tenancy.service import AuthConfig

from tests.conftest import DatabaseFactory
from tests.integration.orders.shop import ADDRESS

WINDOW = timedelta(minutes=15)


@dataclass
class World:
    db: Database
    loop: asyncio.AbstractEventLoop
    supplier: Principal
    merchant: Principal
    platform: Principal
    buyers: list[Principal]


async def _principal(db: Database, label: str, kind: TenantKind | None) -> Principal:
    cfg = AuthConfig(
        hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
        token_ttl=timedelta(hours=1),
        session_ttl=timedelta(hours=1),
        max_failures=5,
        max_failures_per_ip=5,
        failure_window=timedelta(minutes=1),
    )
    async with db.session(all_tenants=True) as session:
        user = await tenancy.create_user(
            session, cfg, email=f"{label}@example.test", password="long enough", display_name=label
        )
        if kind is not None:
            await tenancy.create_tenant(session, kind=kind, name=label, owner=user)
        await commit(session)
    async with db.session(all_tenants=True) as session:
        return await tenancy.principal_for_user(session, user, via=Via.bearer, tenant_id=None)


async def _world(url: str, loop: asyncio.AbstractEventLoop) -> World:
    db = Database(url)
    return World(
        db=db,
        loop=loop,
        supplier=await _principal(db, "supplier", TenantKind.supplier),
        merchant=await _principal(db, "merchant", TenantKind.merchant),
        platform=await _principal(db, "platform", TenantKind.platform),
        buyers=[await _principal(db, f"buyer{i}", None) for i in range(3)],
    )


WORLD: dict[str, World] = {}


class StockMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.w = WORLD["current"]
        self.total = 0
        self.expected = {"available": 0, "reserved": 0, "sold": 0}
        self.state: dict[str, tuple[str, int]] = {}  # order id -> (state, qty)

    def run(self, coro: Any) -> Any:
        return self.w.loop.run_until_complete(coro)

    async def _in(self, principal: Principal | None, fn: Any) -> Any:
        tenant = principal.tenant_id if principal is not None else None
        async with self.w.db.session(tenant_id=tenant, all_tenants=principal is None) as session:
            result = await fn(session)
            await commit(session)
            return result

    @initialize(stock=st.integers(min_value=0, max_value=12))
    def make_product(self, stock: int) -> None:
        w = self.w
        data = ProductCreate(
            title="库存测试",
            category="测试",
            price_min=100,
            price_max=1000,
            commission_bps=1000,
            skus=[SkuCreate(code="A", price=500, stock=stock)],
        )
        product = self.run(
            self._in(w.supplier, lambda s: catalog.create_product(s, w.supplier, data))
        )
        self.run(self._in(w.supplier, lambda s: catalog.submit_product(s, w.supplier, product.id)))
        self.run(self._in(None, lambda s: catalog.approve_product(s, w.platform, product.id)))
        item = self.run(
            self._in(
                w.merchant,
                lambda s: catalog.add_to_showcase(
                    s, w.merchant, ShowcaseCreate(product_id=product.id, price=300)
                ),
            )
        )
        self.sku_id, self.item_id = product.skus[0].id, item.id
        self.total = stock
        self.expected["available"] = stock

    def _move(self, qty: int, source: str, target: str) -> None:
        self.expected[source] -= qty
        self.expected[target] += qty

    @rule(target=orders, qty=st.integers(min_value=1, max_value=5), who=st.integers(0, 2))
    def create(self, qty: int, who: int) -> Any:
        buyer = self.w.buyers[who]
        data = OrderCreate(
            item_id=self.item_id,
            sku_id=self.sku_id,
            quantity=qty,
            address=DeliveryAddress(**ADDRESS),
        )
        try:
            order = self.run(
                self._in(buyer, lambda s: orders.place_order(s, buyer, data, max_quantity=999))
            )
        except order_errors.OutOfStock:
            assert self.expected["available"] < qty
            return multiple()
        assert self.expected["available"] >= qty
        self._move(qty, "available", "reserved")
        self.state[order.id] = ("created", qty)
        return (order.id, who)

    @rule(order=orders)
    def pay(self, order: tuple[str, int]) -> None:
        oid, _ = order
        paid = self.run(
            self._in(None, lambda s: orders.mark_paid(s, oid, payment_id="pay_x", policy=Policy()))
        )
        state, qty = self.state[oid]
        assert paid == (state == "created")
        if paid:
            self._move(qty, "reserved", "sold")
            self.state[oid] = ("paid", qty)

    @rule(order=orders)
    def cancel(self, order: tuple[str, int]) -> None:
        oid, who = order
        buyer = self.w.buyers[who]
        state, qty = self.state[oid]
        try:
            self.run(self._in(buyer, lambda s: orders.cancel_order(s, buyer, oid)))
        except order_errors.InvalidOrderTransition:
            assert state != "created"
            return
        assert state == "created"
        self._move(qty, "reserved", "available")
        self.state[oid] = ("cancelled", qty)

    @rule()
    def expire(self) -> None:
        later = utcnow() + WINDOW + timedelta(seconds=1)
        self.run(self._in(None, lambda s: orders.expire_orders(s, window=WINDOW, now=later)))
        for oid, (state, qty) in list(self.state.items()):
            if state == "created":
                self._move(qty, "reserved", "available")
                self.state[oid] = ("cancelled", qty)

    @rule(order=orders)
    def ship(self, order: tuple[str, int]) -> None:
        oid, _ = order
        state, qty = self.state[oid]
        w = self.w
        shipment = Shipment(carrier="顺丰", tracking_no="SF1")
        try:
            self.run(
                self._in(w.supplier, lambda s: orders.ship_order(s, w.supplier, oid, shipment))
            )
        except order_errors.InvalidOrderTransition:
            assert state != "paid"
            return
        assert state == "paid"
        self.state[oid] = ("shipped", qty)

    @rule(order=consumes(orders), part=st.integers(min_value=0, max_value=100))
    def refund(self, order: tuple[str, int], part: int) -> None:
        oid, who = order
        buyer, w = self.w.buyers[who], self.w
        state, qty = self.state[oid]
        amount = 300 * qty if part == 0 else max(1, 300 * qty * part // 101)
        try:
            self.run(
                self._in(
                    buyer,
                    lambda s: orders.request_refund(s, buyer, oid, RefundRequest(amount=amount)),
                )
            )
        except order_errors.InvalidOrderTransition:
            assert state not in ("paid", "shipped")
            return
        assert state in ("paid", "shipped")
        plan = self.run(
            self._in(w.merchant, lambda s: orders.approve_refund(s, w.merchant, oid, None))
        )
        assert plan.amount == amount
        self.run(
            self._in(None, lambda s: orders.refund_succeeded(s, oid, amount=amount, refund_id="r"))
        )
        if state == "paid" and amount == 300 * qty:
            self._move(qty, "sold", "available")
        self.state[oid] = ("refunded", qty)

    @rule(delta=st.integers(min_value=-6, max_value=6))
    def restock(self, delta: int) -> None:
        w = self.w
        product_id = self.run(self._in(w.supplier, lambda s: _product_of(s, self.sku_id)))
        try:
            self.run(
                self._in(
                    w.supplier,
                    lambda s: catalog.adjust_stock(s, w.supplier, product_id, self.sku_id, delta),
                )
            )
        except InsufficientStock:
            assert self.expected["available"] + delta < 0
            return
        assert self.expected["available"] + delta >= 0
        self.expected["available"] += delta
        self.total += delta

    @invariant()
    def stock_is_conserved(self) -> None:
        if not self.total and not any(self.expected.values()):
            return
        levels = self.run(self._in(None, lambda s: catalog.stock_levels(s, self.sku_id)))
        actual = {"available": levels.available, "reserved": levels.reserved, "sold": levels.sold}
        assert actual == self.expected
        assert levels.available >= 0 and levels.reserved >= 0 and levels.sold >= 0
        assert levels.available + levels.reserved + levels.sold == self.total
        open_units = sum(q for s, q in self.state.values() if s == "created")
        assert levels.reserved == open_units

    @invariant()
    def the_books_balance(self) -> None:
        """Every payment and refund the machine made was posted, and the journal proves."""
        report = self.run(self._in(None, settlement.verify_journal))
        assert report.ok, report.problems
        assert report.total == 0


async def _product_of(session: Any, sku_id: str) -> str:
    from sqlalchemy import text

    found = await session.execute(text("SELECT product_id FROM skus WHERE id = :s"), {"s": sku_id})
    return str(found.scalar_one())


@pytest.mark.timeout(900)
def test_stock_is_conserved_over_random_order_histories(databases: DatabaseFactory) -> None:
    loop = asyncio.new_event_loop()
    try:
        url = loop.run_until_complete(databases.new())
        world = loop.run_until_complete(_world(url, loop))
        WORLD["current"] = world
        try:
            StockMachine.TestCase.settings = settings(
                max_examples=25,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            )
            StockMachine.TestCase().runTest()
        finally:
            loop.run_until_complete(world.db.dispose())
            WORLD.clear()
    finally:
        loop.close()
