"""Order use cases. Services ``flush()``; the edge commits.

Every transition is checked by ``domain.transition`` (state and actor), applied with a
conditional UPDATE on the expected state (so concurrent transitions cannot both
happen), recorded in ``order_history`` with who and when, and — for the events of
shared/spec/events.md — written to ``order_outbox`` in the same transaction and handed
to the in-process hub after commit.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import service as catalog
from daihuo.catalog.errors import InsufficientStock
from daihuo.core.clock import utcnow
from daihuo.core.db import after_commit
from daihuo.core.errors import AppError
from daihuo.core.ids import new_id
from daihuo.core.pagination import PageParams
from daihuo.ledger import service as ledger
from daihuo.ledger.schemas import RecordLinks
from daihuo.live import coupons
from daihuo.orders import errors
from daihuo.orders.domain import (
    RULES,
    Actor,
    OrderAction,
    OrderState,
    check_refund_amount,
    order_amount,
    order_event,
    shop_session,
    stock_move,
    transition,
)
from daihuo.orders.events import HUB, OrderEventHub
from daihuo.orders.models import Order, OrderHistory, OrderOutbox
from daihuo.orders.repository import SYSTEM, OrdersRepository, Party
from daihuo.orders.schemas import (
    DeliveryAddress,
    HistoryRead,
    OrderCreate,
    OrderFacts,
    OrderRead,
    OutboxRecord,
    PayableOrder,
    RefundPlan,
    RefundRequest,
    Shipment,
)
from daihuo.settlement import domain as settlement_rules
from daihuo.settlement import service as settlement
from daihuo.tenancy.domain import Permission, Principal, TenantKind

# --- who is asking -----------------------------------------------------------------------


def party_of(ctx: Principal) -> Party:
    """The orders a caller sees: its purchases, and its tenant's if it may read orders."""
    reads = Permission.orders_read in ctx.permissions
    kind = ctx.tenant_kind if reads else None
    return Party(
        user_id=ctx.user_id,
        merchant_id=ctx.tenant_id if kind is TenantKind.merchant else None,
        supplier_id=ctx.tenant_id if kind is TenantKind.supplier else None,
    )


def _roles(ctx: Principal, order: Order) -> list[Actor]:
    roles = []
    if ctx.user_id is not None and ctx.user_id == order.buyer_id:
        roles.append(Actor.buyer)
    if Permission.orders_write in ctx.permissions and ctx.tenant_id is not None:
        if ctx.tenant_kind is TenantKind.merchant and ctx.tenant_id == order.merchant_id:
            roles.append(Actor.merchant)
        if ctx.tenant_kind is TenantKind.supplier and ctx.tenant_id == order.supplier_id:
            roles.append(Actor.supplier)
    return roles


def _actor(ctx: Principal, order: Order, action: OrderAction) -> Actor:
    """The caller's part in ``order`` that may take ``action`` (or any, to be refused)."""
    roles = _roles(ctx, order)
    allowed = [r for r in roles if r in RULES[action].actors]
    if allowed:
        return allowed[0]
    if roles:
        return roles[0]
    # Sees the order (a tenant member who may only read) but has no part to act in.
    raise errors.NotYourRole("You may read this order but not change it.")


def _actor_id(ctx: Principal) -> str | None:
    if ctx.user_id is not None:
        return ctx.user_id
    return f"apikey:{ctx.api_key_id}" if ctx.api_key_id else None


def address_hash(address: DeliveryAddress) -> str:
    """The place an order ships to, as the events show it: a hash of the region and the
    street address, normalised (full-width forms, case and spaces), without the
    recipient or the phone — parcels for one address under several names are the
    pattern a brushing ring leaves (docs/authenticity.md)."""
    place = unicodedata.normalize("NFKC", f"{address.region}|{address.detail}").casefold()
    return hashlib.sha256("".join(place.split()).encode()).hexdigest()[:32]


def _delivery(address: DeliveryAddress | None) -> dict[str, Any]:
    if address is None:
        return {}
    return {
        "delivery_json": json.dumps(address.model_dump(), ensure_ascii=False),
        "address_hash": address_hash(address),
    }


def read(order: Order, window: timedelta) -> OrderRead:
    """The API view of an order; ``window`` is the reservation window in force."""
    view = OrderRead.model_validate(order, from_attributes=True)
    if order.state == OrderState.created.value:
        view.expires_at = order.created_at + window
    return view


# --- recording ---------------------------------------------------------------------------


def _history(
    repo: OrdersRepository,
    order: Order,
    action: OrderAction,
    before: OrderState | None,
    *,
    actor: Actor,
    actor_id: str | None,
    actor_tenant_id: str | None = None,
    amount: int | None = None,
    note: str | None = None,
    at: datetime,
) -> None:
    repo.add(
        OrderHistory(
            order_id=order.id,
            action=action.value,
            from_state=before.value if before else None,
            to_state=order.state,
            actor=actor.value,
            actor_id=actor_id,
            actor_tenant_id=actor_tenant_id,
            amount=amount,
            note=note,
            at=at,
        )
    )


async def _emit(
    session: AsyncSession,
    repo: OrdersRepository,
    order: Order,
    type_: str,
    *,
    at: datetime,
    amount: int,
    qty: int | None,
    refund_id: str | None = None,
    hub: OrderEventHub = HUB,
) -> None:
    event = _event_of(order, type_, at=at, amount=amount, qty=qty, refund_id=refund_id)
    await repo.add_outbox([(event["id"], type_, order.id, event, at)])

    async def publish() -> None:
        hub.publish([event])

    after_commit(session, publish)


def _event_of(
    order: Order,
    type_: str,
    *,
    at: datetime,
    amount: int,
    qty: int | None,
    refund_id: str | None = None,
) -> dict[str, Any]:
    """The spec event (``order_created``, ``order_paid``, ``order_refunded``) of an order."""
    meta: dict[str, Any] = {
        "merchant": order.merchant_id,
        "supplier": order.supplier_id,
        "sku": order.sku_id,
        "commission_bps": order.commission_bps,
    }
    if order.coupon_id is not None:
        meta["coupon"] = order.coupon_id
        meta["discount"] = order.discount
    if refund_id is not None:
        meta["refund"] = refund_id
    if order.address_hash is not None:
        meta["addr"] = order.address_hash
    return order_event(
        type_,
        event_id=new_id("evt"),
        at=at,
        session=order.session,
        user=order.buyer_id,
        order=order.id,
        product=order.product_id,
        qty=qty,
        amount=amount,
        meta=meta,
    )


async def _apply(
    repo: OrdersRepository, order: Order, before: OrderState, after: OrderState, **values: Any
) -> None:
    if not await repo.move(order, before, state=after.value, **values):
        raise errors.OrderChanged("The order changed while this request ran; reload it.")


async def _move_stock(session: AsyncSession, order: Order, move: tuple[str, str] | None) -> None:
    if move == ("reserved", "sold"):
        await catalog.confirm_stock(session, order.sku_id, order.quantity)
    elif move == ("reserved", "available") and order.flash_sale_id is not None:
        await catalog.return_flash_units(
            session, order.flash_sale_id, order.buyer_id, order.sku_id, order.quantity
        )
    elif move == ("reserved", "available"):
        await catalog.release_stock(session, order.sku_id, order.quantity)
    elif move == ("sold", "available"):
        await catalog.restore_stock(session, order.sku_id, order.quantity)


# --- placing and reading -------------------------------------------------------------------


async def _record_creation(
    session: AsyncSession,
    repo: OrdersRepository,
    order: Order,
    buyer_id: str,
    *,
    now: datetime,
    hub: OrderEventHub,
    note: str | None = None,
) -> None:
    """A new order's row, its first history entry and its ``order_created`` event."""
    repo.add(order)
    await repo.flush()
    _history(
        repo, order, OrderAction.create, None, actor=Actor.buyer, actor_id=buyer_id, at=now,
        note=note,
    )  # fmt: skip
    await _emit(
        session, repo, order, "order_created", at=now, amount=order.amount, qty=order.quantity,
        hub=hub,
    )  # fmt: skip
    await repo.flush()


def _new_order(
    buyer_id: str,
    data: OrderCreate,
    offer: catalog.Offer,
    *,
    order_id: str,
    now: datetime,
    discount: int,
) -> Order:
    gross = order_amount(offer.unit_price, data.quantity)
    return Order(
        id=order_id,
        state=OrderState.created.value,
        buyer_id=buyer_id,
        merchant_id=offer.merchant_id,
        supplier_id=offer.supplier_id,
        item_id=offer.item_id,
        product_id=offer.product_id,
        sku_id=offer.sku_id,
        title=offer.title,
        quantity=data.quantity,
        unit_price=offer.unit_price,
        amount=gross - discount,
        discount=discount,
        coupon_id=data.coupon_id,
        commission_bps=offer.commission_bps,
        refunded_amount=0,
        quota_taken=offer.max_per_user is not None,
        session=data.session or shop_session(offer.merchant_id),
        created_at=now,
        updated_at=now,
        **_delivery(data.address),
    )


async def place_order(
    session: AsyncSession,
    ctx: Principal,
    data: OrderCreate,
    *,
    max_quantity: int,
    hub: OrderEventHub = HUB,
) -> Order:
    """Buy from a merchant's showcase: the price is the shop's, the stock is reserved.

    The reservation is one conditional UPDATE of the SKU row, run last so that on
    PostgreSQL the row lock is held only until the commit right after it.
    """
    assert ctx.user_id is not None
    if data.quantity > max_quantity:
        raise errors.QuantityTooLarge(f"At most {max_quantity} units per order.")
    offer = await catalog.offer_for(session, data.item_id, data.sku_id)
    repo = OrdersRepository(session, party_of(ctx))
    if offer.max_per_user is not None and not await repo.take_quota(
        ctx.user_id, offer.product_id, data.quantity, offer.max_per_user
    ):
        used = await repo.quota_used(ctx.user_id, offer.product_id)
        raise errors.PurchaseLimitReached(
            f"At most {offer.max_per_user} per person; you already hold {used}.",
            limit=offer.max_per_user,
        )
    now = utcnow()
    order_id = new_id("ord")
    gross = order_amount(offer.unit_price, data.quantity)
    discount = 0
    if data.coupon_id is not None:
        discount = await coupons.spend(
            session,
            coupon_id=data.coupon_id,
            buyer_id=ctx.user_id,
            merchant_id=offer.merchant_id,
            gross=gross,
            commission=settlement_rules.commission_of(gross, offer.commission_bps),
            order_id=order_id,
            now=now,
        )
    order = _new_order(ctx.user_id, data, offer, order_id=order_id, now=now, discount=discount)
    await _record_creation(session, repo, order, ctx.user_id, now=now, hub=hub)
    try:
        await catalog.reserve_stock(session, order.sku_id, order.quantity)
    except InsufficientStock as exc:
        raise errors.OutOfStock(
            "Out of stock: fewer units are left than you asked for.", sku_id=order.sku_id
        ) from exc
    return order


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One buyer's ``POST /orders``, queued for the group-commit writer."""

    ctx: Principal
    data: OrderCreate
    max_quantity: int


class OrderPlacement:
    """Orders as a group of the group-commit writer (core/batch.py): the writer hands
    every queued order of a batch to :func:`place_orders` at once."""

    def __init__(self, hub: OrderEventHub = HUB) -> None:
        self.hub = hub

    async def run_one(self, session: AsyncSession, request: OrderRequest) -> Order:
        return await place_order(
            session, request.ctx, request.data, max_quantity=request.max_quantity, hub=self.hub
        )

    async def run_many(
        self, session: AsyncSession, requests: list[OrderRequest]
    ) -> list[Order | Exception]:
        return await place_orders(session, requests, hub=self.hub)


PLACEMENT = OrderPlacement()


async def place_orders(
    session: AsyncSession, requests: Sequence[OrderRequest], *, hub: OrderEventHub = HUB
) -> list[Order | Exception]:
    """Many buyers' orders in one go, each answered with its order or its error.

    The same rules as :func:`place_order`, in fewer statements: each distinct showcase
    item is read once; each SKU's stock is reserved by one conditional UPDATE for the
    sum of its orders (or, when that many units are not left, order by order in
    arrival order, so exactly the units there are get sold); the orders, their history
    and their events are inserted as multi-row INSERTs. Orders that need more than that
    — a coupon to spend, a per-person limit, an item that cannot be bought, a quantity
    over the limit — go through :func:`place_order` one by one, each in its own
    SAVEPOINT, so that a refused one leaves nothing behind.
    """
    outcomes: list[Order | Exception | None] = [None] * len(requests)
    offers: dict[tuple[str, str], catalog.Offer | None] = {}
    by_sku: dict[str, list[tuple[int, catalog.Offer]]] = {}
    alone: list[int] = []
    for i, request in enumerate(requests):
        data = request.data
        if data.quantity > request.max_quantity or data.coupon_id is not None:
            alone.append(i)
            continue
        key = (data.item_id, data.sku_id)
        if key not in offers:
            try:
                offers[key] = await catalog.offer_for(session, *key)
            except AppError:  # read-only so far: the order's own path will say why
                offers[key] = None
        offer = offers[key]
        if offer is None or offer.max_per_user is not None:
            alone.append(i)
        else:
            by_sku.setdefault(offer.sku_id, []).append((i, offer))
    placed: list[Order] = []
    now = utcnow()
    for sku_id, wanted in by_sku.items():
        total = sum(requests[i].data.quantity for i, _ in wanted)
        if await catalog.try_reserve_stock(session, sku_id, total):
            got = wanted
        else:
            got = []
            for i, offer in wanted:
                if await catalog.try_reserve_stock(session, sku_id, requests[i].data.quantity):
                    got.append((i, offer))
                else:
                    outcomes[i] = errors.OutOfStock(
                        "Out of stock: fewer units are left than you asked for.", sku_id=sku_id
                    )
        for i, offer in got:
            request = requests[i]
            assert request.ctx.user_id is not None
            order = _new_order(
                request.ctx.user_id, request.data, offer, order_id=new_id("ord"), now=now,
                discount=0,
            )  # fmt: skip
            outcomes[i] = order
            placed.append(order)
    if placed:
        await _record_creations(session, placed, now=now, hub=hub)
    for i in alone:
        outcomes[i] = await _alone(session, requests[i], hub)
    assert all(o is not None for o in outcomes)
    return [o for o in outcomes if o is not None]


async def _record_creations(
    session: AsyncSession, orders: list[Order], *, now: datetime, hub: OrderEventHub
) -> None:
    """:func:`_record_creation` for many orders: three multi-row INSERTs."""
    repo = OrdersRepository(session, SYSTEM)
    session.add_all(orders)
    await repo.flush()
    events = []
    for order in orders:
        _history(repo, order, OrderAction.create, None, actor=Actor.buyer,
                 actor_id=order.buyer_id, at=now)  # fmt: skip
        events.append(
            _event_of(order, "order_created", at=now, amount=order.amount, qty=order.quantity)
        )
    await repo.add_outbox([(e["id"], "order_created", e["order"], e, now) for e in events])
    await repo.flush()

    async def publish() -> None:
        hub.publish(events)

    after_commit(session, publish)


async def _alone(
    session: AsyncSession, request: OrderRequest, hub: OrderEventHub
) -> Order | Exception:
    """One order through :func:`place_order` in its own SAVEPOINT: refused, it leaves no
    rows and no after-commit hooks."""
    hooks = session.info.setdefault("after_commit", [])
    mark = len(hooks)
    try:
        async with session.begin_nested():
            return await place_order(
                session, request.ctx, request.data, max_quantity=request.max_quantity, hub=hub
            )
    except AppError as exc:
        del hooks[mark:]
        return exc


async def place_flash_order(
    session: AsyncSession,
    ctx: Principal,
    sale_id: str,
    quantity: int,
    *,
    session_tag: str | None = None,
    address: DeliveryAddress | None = None,
    hub: OrderEventHub = HUB,
) -> Order:
    """A flash-sale win: an order at the sale price holding ``quantity`` of the sale's
    units, to be paid within the reservation window like any other order."""
    assert ctx.user_id is not None
    sale = await catalog.get_flash_sale(session, sale_id)
    await catalog.take_flash_units(session, sale, ctx.user_id, quantity)
    now = utcnow()
    order = Order(
        id=new_id("ord"),
        state=OrderState.created.value,
        buyer_id=ctx.user_id,
        merchant_id=sale.tenant_id,
        supplier_id=sale.supplier_id,
        item_id=sale.item_id,
        product_id=sale.product_id,
        sku_id=sale.sku_id,
        title=sale.title,
        quantity=quantity,
        unit_price=sale.price,
        amount=order_amount(sale.price, quantity),
        discount=0,
        commission_bps=sale.commission_bps,
        refunded_amount=0,
        quota_taken=False,
        session=session_tag or sale.session_id or shop_session(sale.tenant_id),
        flash_sale_id=sale.id,
        created_at=now,
        updated_at=now,
        **_delivery(address),
    )
    repo = OrdersRepository(session, party_of(ctx))
    await _record_creation(
        session, repo, order, ctx.user_id, now=now, hub=hub, note=f"flash sale {sale.id}"
    )
    return order


async def _visible_order(repo: OrdersRepository, order_id: str) -> Order:
    order = await repo.order(order_id)
    if order is None:
        raise errors.OrderNotFound()
    return order


async def get_order(session: AsyncSession, ctx: Principal, order_id: str) -> Order:
    """An order the caller bought, sold or supplies."""
    return await _visible_order(OrdersRepository(session, party_of(ctx)), order_id)


async def list_my_orders(
    session: AsyncSession, ctx: Principal, params: PageParams, state: OrderState | None
) -> tuple[Sequence[Order], str | None]:
    """The caller's own purchases."""
    repo = OrdersRepository(session, Party(user_id=ctx.user_id))
    return await repo.orders_page(params, state=state, buyer_only=True)


async def list_tenant_orders(
    session: AsyncSession, ctx: Principal, params: PageParams, state: OrderState | None
) -> tuple[Sequence[Order], str | None]:
    """Orders of the caller's merchant or supplier tenant."""
    catalog.require_kind(ctx, TenantKind.merchant, TenantKind.supplier)
    party = party_of(ctx)
    repo = OrdersRepository(
        session, Party(merchant_id=party.merchant_id, supplier_id=party.supplier_id)
    )
    return await repo.orders_page(params, state=state, buyer_only=False)


async def order_history(session: AsyncSession, ctx: Principal, order_id: str) -> list[HistoryRead]:
    """Every transition of a visible order, oldest first."""
    repo = OrdersRepository(session, party_of(ctx))
    await _visible_order(repo, order_id)
    return [HistoryRead.model_validate(h) for h in await repo.history(order_id)]


async def ledger_links(session: AsyncSession, ctx: Principal, order_id: str) -> RecordLinks:
    """The log's entries about a visible order, each with its inclusion-proof link."""
    await _visible_order(OrdersRepository(session, party_of(ctx)), order_id)
    return await ledger.record_links(session, ("order", "settlement"), order_id)


# --- transitions by the parties ---------------------------------------------------------------


async def _act(
    session: AsyncSession,
    ctx: Principal,
    order_id: str,
    action: OrderAction,
    *,
    note: str | None = None,
    amount: int | None = None,
    check: Callable[[Order], None] | None = None,
    **values: Any,
) -> tuple[OrdersRepository, Order, OrderState, Actor]:
    repo = OrdersRepository(session, party_of(ctx))
    order = await _visible_order(repo, order_id)
    actor = _actor(ctx, order, action)
    before = OrderState(order.state)
    refund_from = OrderState(order.refund_from) if order.refund_from else None
    after = transition(before, action, actor, refund_from=refund_from)
    if check is not None:  # the action's own precondition, once the transition is allowed
        check(order)
    now = utcnow()
    await _apply(repo, order, before, after, updated_at=now, **values)
    _history(
        repo,
        order,
        action,
        before,
        actor=actor,
        actor_id=_actor_id(ctx),
        actor_tenant_id=ctx.tenant_id if actor is not Actor.buyer else None,
        amount=amount,
        note=note,
        at=now,
    )
    return repo, order, before, actor


async def cancel_order(session: AsyncSession, ctx: Principal, order_id: str) -> Order:
    """Cancel an unpaid order (buyer or merchant); its stock is released at once."""
    repo, order, _, _ = await _act(
        session, ctx, order_id, OrderAction.cancel, cancelled_at=utcnow()
    )
    await _release(session, repo, order, OrderAction.cancel)
    await repo.flush()
    return order


async def _release(
    session: AsyncSession, repo: OrdersRepository, order: Order, action: OrderAction
) -> None:
    await _move_stock(session, order, stock_move(action))
    if order.quota_taken:
        await repo.return_quota(order.buyer_id, order.product_id, order.quantity)
    if order.coupon_id is not None:
        await coupons.give_back(session, order.id)


def _has_address(order: Order) -> None:
    if order.delivery_json is None:
        raise errors.AddressMissing(
            "The buyer has not given a delivery address yet; it cannot be shipped."
        )


ADDRESS_OPEN = frozenset({OrderState.created, OrderState.paid})  # not yet handed to a carrier


async def set_address(
    session: AsyncSession, ctx: Principal, order_id: str, address: DeliveryAddress
) -> Order:
    """The buyer gives (or corrects) the delivery address until the order ships."""
    repo = OrdersRepository(session, party_of(ctx))
    order = await _visible_order(repo, order_id)
    if ctx.user_id is None or ctx.user_id != order.buyer_id:
        raise errors.NotYourRole("Only the buyer gives the delivery address.")
    state = OrderState(order.state)
    if state not in ADDRESS_OPEN:
        raise errors.AddressLocked(f"The order is {state.value}; its address can no longer change.")
    if not await repo.move(order, state, updated_at=utcnow(), **_delivery(address)):
        raise errors.OrderChanged("The order changed while this request ran; reload it.")
    return order


async def ship_order(session: AsyncSession, ctx: Principal, order_id: str, data: Shipment) -> Order:
    """The supplier hands a paid order to a carrier."""
    now = utcnow()
    _, order, _, _ = await _act(
        session,
        ctx,
        order_id,
        OrderAction.ship,
        check=_has_address,
        note=f"{data.carrier} {data.tracking_no}",
        carrier=data.carrier,
        tracking_no=data.tracking_no,
        shipped_at=now,
    )
    return order


async def deliver_order(
    session: AsyncSession, ctx: Principal, order_id: str, *, policy: settlement.Policy
) -> Order:
    """The supplier records the delivery: settlement's holding period starts here."""
    now = utcnow()
    _, order, _, _ = await _act(session, ctx, order_id, OrderAction.deliver, delivered_at=now)
    await settlement.mark_delivered(
        session, order_id=order.id, delivered_at=now, holding_period=policy.holding_period
    )
    return order


async def complete_order(session: AsyncSession, ctx: Principal, order_id: str) -> Order:
    """The buyer confirms receipt."""
    _, order, _, _ = await _act(session, ctx, order_id, OrderAction.complete, completed_at=utcnow())
    return order


async def request_refund(
    session: AsyncSession, ctx: Principal, order_id: str, data: RefundRequest
) -> Order:
    """Ask for the whole or part of a paid order's money back."""
    repo = OrdersRepository(session, party_of(ctx))
    order = await _visible_order(repo, order_id)
    amount = data.amount if data.amount is not None else order.amount - order.refunded_amount
    state = OrderState(order.state)
    transition(state, OrderAction.request_refund, _actor(ctx, order, OrderAction.request_refund))
    check_refund_amount(amount, paid=order.amount, refunded=order.refunded_amount)
    _, order, _, _ = await _act(
        session,
        ctx,
        order_id,
        OrderAction.request_refund,
        amount=amount,
        note=data.reason or None,
        refund_amount=amount,
        refund_reason=data.reason or None,
        refund_from=state.value,
    )
    return order


async def reject_refund(session: AsyncSession, ctx: Principal, order_id: str, reason: str) -> Order:
    """The seller turns a refund request down; the order goes back where it was."""
    _, order, _, _ = await _act(
        session,
        ctx,
        order_id,
        OrderAction.reject_refund,
        note=reason,
        refund_amount=None,
        refund_from=None,
    )
    return order


# --- what the payments module drives ------------------------------------------------------------


async def payable(
    session: AsyncSession, ctx: Principal, order_id: str, *, window: timedelta
) -> PayableOrder:
    """The order the caller wants to pay, if it is the buyer and the order can be paid."""
    order = await _visible_order(OrdersRepository(session, party_of(ctx)), order_id)
    if ctx.user_id != order.buyer_id:
        raise errors.NotYourRole("Only the buyer pays an order.")
    state = OrderState(order.state)
    if state is not OrderState.created:
        raise errors.InvalidOrderTransition(
            f"Cannot pay an order that is {state.value}.", state=state.value
        )
    if order.created_at + window < utcnow():
        raise errors.OrderExpired("The order was not paid in time; its stock was released.")
    return PayableOrder(
        order_id=order.id, buyer_id=order.buyer_id, amount=order.amount, title=order.title
    )


async def mark_paid(
    session: AsyncSession,
    order_id: str,
    *,
    payment_id: str,
    policy: settlement.Policy,
    hub: OrderEventHub = HUB,
) -> bool:
    """The provider confirmed payment: created → paid, reserved → sold, ``order_paid``,
    and the amount split in settlement's journal (same transaction).

    False (and nothing changed) when the order is no longer waiting for payment — it
    was paid already, or cancelled or expired first; the caller refunds the money then.
    """
    repo = OrdersRepository(session, SYSTEM)
    order = await _visible_order(repo, order_id)
    before = OrderState(order.state)
    if before is not OrderState.created:
        return False
    after = transition(before, OrderAction.pay, Actor.provider)
    now = utcnow()
    if not await repo.move(order, before, state=after.value, paid_at=now, updated_at=now):
        return False
    await _move_stock(session, order, stock_move(OrderAction.pay))
    _history(
        repo,
        order,
        OrderAction.pay,
        before,
        actor=Actor.provider,
        actor_id=payment_id,
        amount=order.amount,
        at=now,
    )
    await _emit(
        session, repo, order, "order_paid", at=now, amount=order.amount, qty=order.quantity, hub=hub
    )
    await repo.flush()
    await settlement.post_order_paid(
        session,
        order_id=order.id,
        supplier_tenant_id=order.supplier_id,
        merchant_tenant_id=order.merchant_id,
        amount_paid=order.amount,
        commission_rate=order.commission_bps,
        platform_fee_rate=policy.platform_fee_rate,
        paid_at=now,
        discount=order.discount,
    )
    return True


async def approve_refund(
    session: AsyncSession, ctx: Principal, order_id: str, amount: int | None
) -> RefundPlan:
    """The seller approves a refund (or starts one on a paid order): → refunding.

    The conditional UPDATE on ``refund_requested`` lets one approval through; a second,
    concurrent or later, finds the order ``refunding`` or ``refunded`` and is refused.
    """
    repo = OrdersRepository(session, party_of(ctx))
    order = await _visible_order(repo, order_id)
    if OrderState(order.state) in (OrderState.paid, OrderState.shipped, OrderState.delivered):
        await request_refund(session, ctx, order_id, RefundRequest(amount=amount))
    state = OrderState(order.state)
    actor = _actor(ctx, order, OrderAction.approve_refund)
    transition(
        state,
        OrderAction.approve_refund,
        actor,
        refund_from=OrderState(order.refund_from) if order.refund_from else None,
    )
    final = amount if amount is not None else (order.refund_amount or 0)
    check_refund_amount(final, paid=order.amount, refunded=order.refunded_amount)
    await _act(
        session, ctx, order_id, OrderAction.approve_refund, amount=final, refund_amount=final
    )
    await repo.flush()
    return RefundPlan(order_id=order.id, amount=final, reason=order.refund_reason or "")


async def refund_succeeded(
    session: AsyncSession,
    order_id: str,
    *,
    amount: int,
    refund_id: str,
    hub: OrderEventHub = HUB,
) -> bool:
    """The provider confirmed the refund: → refunded, ``order_refunded``, and the amount
    clawed back from the parties' shares in settlement's journal; idempotent."""
    repo = OrdersRepository(session, SYSTEM)
    order = await _visible_order(repo, order_id)
    before = OrderState(order.state)
    if before is not OrderState.refunding:
        return False
    after = transition(before, OrderAction.confirm_refund, Actor.provider)
    refunded = order.refunded_amount + amount
    full = refunded == order.amount
    refund_from = OrderState(order.refund_from) if order.refund_from else None
    now = utcnow()
    if not await repo.move(
        order, before, state=after.value, refunded_amount=refunded, refunded_at=now, updated_at=now
    ):
        return False
    move = stock_move(OrderAction.confirm_refund, refund_from=refund_from, full_refund=full)
    await _move_stock(session, order, move)
    _history(
        repo,
        order,
        OrderAction.confirm_refund,
        before,
        actor=Actor.provider,
        actor_id=refund_id,
        amount=amount,
        at=now,
    )
    await _emit(
        session,
        repo,
        order,
        "order_refunded",
        at=now,
        amount=amount,
        qty=None,
        refund_id=refund_id,
        hub=hub,
    )
    await repo.flush()
    await settlement.post_order_refunded(
        session, order_id=order.id, refund_id=refund_id, amount_refunded=amount, refunded_at=now
    )
    return True


async def refund_failed(
    session: AsyncSession, order_id: str, *, refund_id: str, reason: str
) -> bool:
    """The provider could not refund: back to ``refund_requested`` for the seller to retry."""
    repo = OrdersRepository(session, SYSTEM)
    order = await _visible_order(repo, order_id)
    before = OrderState(order.state)
    if before is not OrderState.refunding:
        return False
    after = transition(before, OrderAction.refund_failed, Actor.provider)
    now = utcnow()
    if not await repo.move(order, before, state=after.value, updated_at=now):
        return False
    _history(
        repo,
        order,
        OrderAction.refund_failed,
        before,
        actor=Actor.provider,
        actor_id=refund_id,
        note=reason[:500],
        at=now,
    )
    await repo.flush()
    return True


# --- the sweeper -----------------------------------------------------------------------------


async def expire_orders(
    session: AsyncSession, *, window: timedelta, now: datetime | None = None, limit: int = 200
) -> int:
    """Cancel unpaid orders older than ``window`` and release their stock.

    Works from the database alone (``created_at + window < now`` and still
    ``created``), so it picks up whatever a stopped process left behind, and several
    processes may sweep at once: the conditional UPDATE lets each order expire once.
    """
    now = now or utcnow()
    repo = OrdersRepository(session, SYSTEM)
    expired = 0
    for order in await repo.expired(now - window, limit):
        before = OrderState(order.state)
        after = transition(before, OrderAction.expire, Actor.system)
        if not await repo.move(order, before, state=after.value, cancelled_at=now, updated_at=now):
            continue
        await _release(session, repo, order, OrderAction.expire)
        _history(
            repo,
            order,
            OrderAction.expire,
            before,
            actor=Actor.system,
            actor_id="sweeper",
            note="not paid in time",
            at=now,
        )
        expired += 1
    await repo.flush()
    return expired


# --- what settlement, analytics and the ledger read ------------------------------------------


def facts(order: Order) -> OrderFacts:
    paid = order.paid_at is not None
    return OrderFacts(
        order_id=order.id,
        state=OrderState(order.state),
        buyer_id=order.buyer_id,
        merchant_id=order.merchant_id,
        supplier_id=order.supplier_id,
        product_id=order.product_id,
        sku_id=order.sku_id,
        quantity=order.quantity,
        unit_price=order.unit_price,
        amount=order.amount,
        commission_bps=order.commission_bps,
        paid_amount=order.amount if paid else 0,
        refunded_amount=order.refunded_amount,
        paid_at=order.paid_at,
        delivered_at=order.delivered_at,
        completed_at=order.completed_at,
        refunded_at=order.refunded_at,
    )


async def order_facts(session: AsyncSession, order_id: str) -> OrderFacts:
    """An order's money facts, for system readers (settlement)."""
    return facts(await _visible_order(OrdersRepository(session, SYSTEM), order_id))


async def outbox_after(
    session: AsyncSession, after_seq: int, limit: int = 500
) -> list[OutboxRecord]:
    """Order events after ``after_seq``, in order: the consumers' feed (keep your own cursor).

    ``seq`` comes from the database at insert; a transaction that inserted a lower
    ``seq`` may commit after a reader passed it, so readers re-read a short overlap
    (or de-duplicate by ``event_id``) rather than trusting the cursor alone.
    """
    rows = await OrdersRepository(session, SYSTEM).outbox_after(after_seq, limit)
    return [_outbox_record(r) for r in rows]


async def outbox_at(session: AsyncSession, seqs: Sequence[int]) -> list[OutboxRecord]:
    """The outbox rows with these ``seq`` that exist (committed) now."""
    return [_outbox_record(r) for r in await OrdersRepository(session, SYSTEM).outbox_at(seqs)]


def _outbox_record(r: OrderOutbox) -> OutboxRecord:
    return OutboxRecord(
        seq=r.seq,
        event_id=r.event_id,
        type=r.type,
        order_id=r.order_id,
        payload=json.loads(r.payload),
        created_at=r.created_at,
    )


async def history_after(
    session: AsyncSession, after_id: int, limit: int = 500
) -> list[tuple[int, str, HistoryRead]]:
    """Every order transition after history id ``after_id``: (id, order id, transition)."""
    rows = await OrdersRepository(session, SYSTEM).history_after(after_id, limit)
    return [(h.id, h.order_id, HistoryRead.model_validate(h)) for h in rows]
