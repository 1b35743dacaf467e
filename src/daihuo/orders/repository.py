"""Every query of the orders module, with the order's visibility applied in one place.

``Party`` is who is asking: a buyer (user id), a merchant or supplier tenant (when
the caller may read orders), or the system (the sweeper, payment callbacks), which
sees every order. Every SELECT and conditional UPDATE of an order goes through
:meth:`OrdersRepository._visible`; a party that is nobody sees nothing (fails closed).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from daihuo.core.pagination import PageParams, paginate
from daihuo.orders.domain import OrderState
from daihuo.orders.models import Order, OrderHistory, OrderOutbox, PurchaseCount


@dataclass(frozen=True)
class Party:
    user_id: str | None = None
    merchant_id: str | None = None
    supplier_id: str | None = None
    system: bool = False


SYSTEM = Party(system=True)


class OrdersRepository:
    def __init__(self, session: AsyncSession, party: Party) -> None:
        self.session = session
        self.party = party

    def _visible(self) -> ColumnElement[bool]:
        p = self.party
        if p.system:
            return Order.id.is_not(None)
        conditions: list[ColumnElement[bool]] = []
        if p.user_id is not None:
            conditions.append(Order.buyer_id == p.user_id)
        if p.merchant_id is not None:
            conditions.append(Order.merchant_id == p.merchant_id)
        if p.supplier_id is not None:
            conditions.append(Order.supplier_id == p.supplier_id)
        return or_(*conditions) if conditions else false()

    # --- orders ------------------------------------------------------------------------
    async def order(self, order_id: str) -> Order | None:
        stmt = select(Order).where(Order.id == order_id, self._visible())
        return (await self.session.execute(stmt)).scalar()

    async def orders_page(
        self, params: PageParams, *, state: OrderState | None, buyer_only: bool
    ) -> tuple[Sequence[Order], str | None]:
        stmt = select(Order).where(self._visible())
        if buyer_only:
            stmt = stmt.where(Order.buyer_id == self.party.user_id)
        if state is not None:
            stmt = stmt.where(Order.state == state.value)
        return await paginate(self.session, stmt, Order.id, params)

    async def move(self, order: Order, expected: OrderState, **values: Any) -> bool:
        """``UPDATE orders SET … WHERE id = :id AND state = :expected``; True if it matched.

        The database decides between concurrent transitions (a payment and the sweeper,
        two refund approvals): exactly one matches, the other changes nothing.
        """
        stmt = (
            update(Order)
            .where(Order.id == order.id, Order.state == expected.value, self._visible())
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        for key, value in values.items():
            set_committed_value(order, key, value)
        return True

    async def expired(self, cutoff: datetime, limit: int) -> list[Order]:
        stmt = (
            select(Order)
            .where(
                Order.state == OrderState.created.value,
                Order.created_at < cutoff,
                self._visible(),
            )
            .order_by(Order.created_at)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    # --- history and outbox ------------------------------------------------------------
    async def history(self, order_id: str) -> list[OrderHistory]:
        stmt = (
            select(OrderHistory)
            .join(Order, Order.id == OrderHistory.order_id)
            .where(OrderHistory.order_id == order_id, self._visible())
            .order_by(OrderHistory.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def history_after(self, after_id: int, limit: int) -> list[OrderHistory]:
        stmt = (
            select(OrderHistory)
            .join(Order, Order.id == OrderHistory.order_id)
            .where(OrderHistory.id > after_id, self._visible())
            .order_by(OrderHistory.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def add_outbox(
        self, rows: Sequence[tuple[str, str, str, dict[str, Any], datetime]]
    ) -> None:
        await self.session.execute(
            insert(OrderOutbox),
            [
                {
                    "event_id": event_id,
                    "type": type_,
                    "order_id": order_id,
                    "payload": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                    "created_at": at,
                }
                for event_id, type_, order_id, payload, at in rows
            ],
        )

    async def outbox_after(self, after_seq: int, limit: int) -> list[OrderOutbox]:
        """The outbox in commit-independent ``seq`` order (system readers only)."""
        if not self.party.system:
            return []
        stmt = (
            select(OrderOutbox).where(OrderOutbox.seq > after_seq).order_by(OrderOutbox.seq)
        ).limit(limit)
        return list((await self.session.execute(stmt)).scalars())

    async def outbox_at(self, seqs: Sequence[int]) -> list[OrderOutbox]:
        """Outbox rows by ``seq`` (a feeder re-checking the gaps it saw)."""
        if not self.party.system or not seqs:
            return []
        stmt = select(OrderOutbox).where(OrderOutbox.seq.in_(seqs)).order_by(OrderOutbox.seq)
        return list((await self.session.execute(stmt)).scalars())

    # --- purchase limits ---------------------------------------------------------------
    async def take_quota(self, buyer_id: str, product_id: str, qty: int, limit: int) -> bool:
        """Count ``qty`` more units against the buyer's limit, atomically; False if over."""
        dialect = self.session.get_bind().dialect.name
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(PurchaseCount)
        await self.session.execute(
            ins.values(
                buyer_id=buyer_id, product_id=product_id, quantity=0
            ).on_conflict_do_nothing()
        )
        stmt = (
            update(PurchaseCount)
            .where(
                PurchaseCount.buyer_id == buyer_id,
                PurchaseCount.product_id == product_id,
                PurchaseCount.quantity + qty <= limit,
            )
            .values(quantity=PurchaseCount.quantity + qty)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def return_quota(self, buyer_id: str, product_id: str, qty: int) -> None:
        stmt = (
            update(PurchaseCount)
            .where(
                PurchaseCount.buyer_id == buyer_id,
                PurchaseCount.product_id == product_id,
                PurchaseCount.quantity >= qty,
            )
            .values(quantity=PurchaseCount.quantity - qty)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def quota_used(self, buyer_id: str, product_id: str) -> int:
        stmt = select(func.coalesce(func.sum(PurchaseCount.quantity), 0)).where(
            PurchaseCount.buyer_id == buyer_id, PurchaseCount.product_id == product_id
        )
        return int((await self.session.execute(stmt)).scalar_one())

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()
