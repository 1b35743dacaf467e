"""Every query of the settlement module.

Writes go through here from sessions of any scope (see ``models``): statements on the
tenant-scoped ``settlement_accounts`` that the journal needs across owners say so with
``UNSCOPED``. Reads for a tenant go through :meth:`SettlementRepository.owner_accounts`
and the statement queries, which take the owner explicitly *and* join the scoped
accounts table, so a tenant's session can only ever see its own rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.db import UNSCOPED
from daihuo.core.ids import new_id
from daihuo.settlement.domain import (
    AccountKey,
    AccountType,
    EventKind,
    JournalLine,
    OrderSettlement,
    OwnerKind,
    Posting,
    Split,
)
from daihuo.settlement.models import (
    SettlementAccount,
    SettlementEntry,
    SettlementOrder,
    SettlementPosting,
)


@dataclass(frozen=True, slots=True)
class StoredPosting:
    seq: int
    reference: str
    kind: EventKind
    order_id: str
    refund_id: str | None
    amount: int
    at: datetime


def to_domain(row: SettlementOrder) -> OrderSettlement:
    return OrderSettlement(
        order_id=row.order_id,
        supplier_id=row.supplier_tenant_id,
        merchant_id=row.merchant_tenant_id,
        amount_paid=row.amount_paid,
        commission_rate=row.commission_rate,
        platform_fee_rate=row.platform_fee_rate,
        shares=Split(row.supplier_share, row.merchant_commission, row.platform_fee),
        paid_at=row.paid_at,
        refunded=row.refunded,
        discount=row.discount,
        delivered_at=row.delivered_at,
        release_due_at=row.release_due_at,
        released_at=row.released_at,
    )


def _order_values(order: OrderSettlement) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "supplier_tenant_id": order.supplier_id,
        "merchant_tenant_id": order.merchant_id,
        "amount_paid": order.amount_paid,
        "commission_rate": order.commission_rate,
        "platform_fee_rate": order.platform_fee_rate,
        "supplier_share": order.shares.supplier,
        "merchant_commission": order.shares.merchant,
        "platform_fee": order.shares.platform,
        "discount": order.discount,
        "refunded": order.refunded,
        "paid_at": order.paid_at,
        "delivered_at": order.delivered_at,
        "release_due_at": order.release_due_at,
        "released_at": order.released_at,
    }


class SettlementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, table: Any) -> Any:
        """``INSERT`` with ``ON CONFLICT`` support on both engines."""
        dialect = self.session.get_bind().dialect.name
        return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)

    # --- per-order state ----------------------------------------------------------------

    async def claim_order(self, order: OrderSettlement) -> bool:
        """Insert the order's settlement row unless it exists; whether this call made it.

        ``ON CONFLICT DO NOTHING`` waits for a concurrent insert of the same order to
        commit (PostgreSQL) or for the write lock (SQLite), so two concurrent ``paid``
        events cannot both claim it.
        """
        stmt = (
            self._insert(SettlementOrder)
            .values(**_order_values(order), version=1)
            .on_conflict_do_nothing(index_elements=["order_id"])
            .returning(SettlementOrder.order_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def lock_order(
        self, order_id: str, *, unreleased_only: bool = False
    ) -> OrderSettlement | None:
        """Take the order's row lock (bump its version), then read it; None if absent.

        The write comes first so that on SQLite the transaction holds the write lock
        before it reads, and on PostgreSQL concurrent changes to one order queue here.
        """
        stmt = (
            update(SettlementOrder)
            .where(SettlementOrder.order_id == order_id)
            .values(version=SettlementOrder.version + 1)
            .execution_options(synchronize_session=False)
        )
        if unreleased_only:
            stmt = stmt.where(SettlementOrder.released_at.is_(None))
        result = await self.session.execute(stmt)
        if getattr(result, "rowcount", 0) != 1:
            return None
        return await self.order(order_id)

    async def order(self, order_id: str) -> OrderSettlement | None:
        row = await self.session.get(SettlementOrder, order_id, populate_existing=True)
        return to_domain(row) if row is not None else None

    async def save_order(self, order: OrderSettlement) -> None:
        values = _order_values(order)
        del values["order_id"]
        await self.session.execute(
            update(SettlementOrder)
            .where(SettlementOrder.order_id == order.order_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def due_order_ids(self, now: datetime, limit: int) -> list[str]:
        stmt = (
            select(SettlementOrder.order_id)
            .where(SettlementOrder.release_due_at <= now, SettlementOrder.released_at.is_(None))
            .order_by(SettlementOrder.release_due_at, SettlementOrder.order_id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def all_orders(self) -> list[OrderSettlement]:
        rows = (await self.session.execute(select(SettlementOrder))).scalars()
        return [to_domain(r) for r in rows]

    # --- the journal ----------------------------------------------------------------------

    async def posting(self, reference: str) -> StoredPosting | None:
        stmt = select(SettlementPosting).where(SettlementPosting.reference == reference)
        row = (await self.session.execute(stmt)).scalar()
        if row is None:
            return None
        return StoredPosting(
            row.seq,
            row.reference,
            EventKind(row.kind),
            row.order_id,
            row.refund_id,
            row.amount,
            row.at,
        )

    async def refunded_before(self, order_id: str, seq: int) -> int:
        """Fen refunded on ``order_id`` by postings before posting ``seq``."""
        p = SettlementPosting
        stmt = select(func.coalesce(func.sum(p.amount), 0)).where(
            p.order_id == order_id, p.kind == EventKind.refund.value, p.seq < seq
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def account_ids(self, keys: Iterable[AccountKey], now: datetime) -> dict[AccountKey, str]:
        """The ids of these accounts, opening the missing ones (concurrency-safe)."""
        wanted = set(keys)
        found = await self._find_accounts(wanted)
        missing = wanted - found.keys()
        if missing:
            stmt = (
                self._insert(SettlementAccount)
                .values(
                    [
                        {
                            "id": new_id("acc"),
                            "tenant_id": k.owner_id,
                            "owner_kind": k.owner_kind.value,
                            "account_type": k.type.value,
                            "balance": 0,
                            "created_at": now,
                        }
                        for k in sorted(missing, key=AccountKey.sort_key)
                    ]
                )
                .on_conflict_do_nothing(index_elements=["tenant_id", "owner_kind", "account_type"])
            )
            await self.session.execute(stmt)
            found |= await self._find_accounts(missing)
        return found

    async def _find_accounts(self, keys: set[AccountKey]) -> dict[AccountKey, str]:
        if not keys:
            return {}
        triples = [(k.owner_id, k.owner_kind.value, k.type.value) for k in keys]
        stmt = (
            select(
                SettlementAccount.id,
                SettlementAccount.tenant_id,
                SettlementAccount.owner_kind,
                SettlementAccount.account_type,
            )
            .where(
                tuple_(
                    SettlementAccount.tenant_id,
                    SettlementAccount.owner_kind,
                    SettlementAccount.account_type,
                ).in_(triples)
            )
            .execution_options(**UNSCOPED)
        )
        rows = (await self.session.execute(stmt)).all()
        return {
            AccountKey(OwnerKind(kind), owner, AccountType(type_)): id_
            for id_, owner, kind, type_ in rows
        }

    async def add_posting(self, posting: Posting, recorded_at: datetime) -> int:
        """Write a posting, its entries and the accounts' new balances; its journal seq."""
        ids = await self.account_ids((e.account for e in posting.entries), recorded_at)
        row = SettlementPosting(
            reference=posting.reference,
            kind=posting.kind.value,
            order_id=posting.order_id,
            refund_id=posting.refund_id,
            amount=posting.amount,
            at=posting.at,
            recorded_at=recorded_at,
        )
        self.session.add(row)
        await self.session.flush()
        entries = sorted(posting.entries, key=lambda e: ids[e.account])
        await self.session.execute(
            insert(SettlementEntry),
            [
                {
                    "posting_seq": row.seq,
                    "account_id": ids[e.account],
                    "amount": e.amount,
                    "at": posting.at,
                }
                for e in entries
            ],
        )
        # One account at a time in id order: concurrent postings lock rows in the same order.
        for e in entries:
            await self.session.execute(
                update(SettlementAccount)
                .where(SettlementAccount.id == ids[e.account])
                .values(balance=SettlementAccount.balance + e.amount)
                .execution_options(synchronize_session=False, **UNSCOPED)
            )
        return row.seq

    # --- reads for one owner ----------------------------------------------------------------

    async def owner_accounts(self, owner_id: str, *, platform: bool) -> Sequence[SettlementAccount]:
        """The owner's accounts. A tenant's are read through the session's scope; the
        platform's own accounts (owner ``"platform"``) belong to no tenant, so platform
        operators read them deliberately unscoped."""
        stmt = select(SettlementAccount).where(SettlementAccount.tenant_id == owner_id)
        if platform:
            stmt = stmt.where(SettlementAccount.owner_kind == OwnerKind.platform.value)
            stmt = stmt.execution_options(**UNSCOPED)
        else:
            stmt = stmt.where(SettlementAccount.owner_kind != OwnerKind.platform.value)
        return list((await self.session.execute(stmt)).scalars())

    async def sums_before(
        self, accounts: Sequence[SettlementAccount], before: datetime, *, platform: bool
    ) -> dict[str, int]:
        ids = [a.id for a in accounts]
        if not ids:
            return {}
        stmt = (
            select(SettlementEntry.account_id, func.sum(SettlementEntry.amount))
            .join(SettlementAccount, SettlementAccount.id == SettlementEntry.account_id)
            .where(SettlementEntry.account_id.in_(ids), SettlementEntry.at < before)
            .group_by(SettlementEntry.account_id)
        )
        if platform:
            stmt = stmt.execution_options(**UNSCOPED)
        return {a: int(s) for a, s in (await self.session.execute(stmt)).all()}

    async def lines(
        self,
        accounts: Sequence[SettlementAccount],
        start: datetime,
        end: datetime,
        *,
        platform: bool,
        limit: int,
    ) -> list[JournalLine]:
        types = {a.id: AccountType(a.account_type) for a in accounts}
        if not types:
            return []
        stmt = (
            select(
                SettlementEntry.account_id,
                SettlementEntry.amount,
                SettlementPosting.seq,
                SettlementPosting.at,
                SettlementPosting.kind,
                SettlementPosting.order_id,
                SettlementPosting.refund_id,
            )
            .join(SettlementPosting, SettlementPosting.seq == SettlementEntry.posting_seq)
            .join(SettlementAccount, SettlementAccount.id == SettlementEntry.account_id)
            .where(
                SettlementEntry.account_id.in_(list(types)),
                SettlementEntry.at >= start,
                SettlementEntry.at < end,
            )
            .order_by(SettlementEntry.at, SettlementEntry.posting_seq, SettlementEntry.account_id)
            .limit(limit)
        )
        if platform:
            stmt = stmt.execution_options(**UNSCOPED)
        rows = (await self.session.execute(stmt)).all()
        return [
            JournalLine(
                account=types[account_id],
                at=at,
                seq=seq,
                kind=EventKind(kind),
                order_id=order_id,
                refund_id=refund_id,
                amount=amount,
            )
            for account_id, amount, seq, at, kind, order_id, refund_id in rows
        ]

    # --- the whole journal (platform-level checks) ------------------------------------------

    async def unbalanced_postings(self) -> list[tuple[str, int]]:
        stmt = (
            select(SettlementPosting.reference, func.coalesce(func.sum(SettlementEntry.amount), 0))
            .outerjoin(SettlementEntry, SettlementEntry.posting_seq == SettlementPosting.seq)
            .group_by(SettlementPosting.seq, SettlementPosting.reference)
            .having(
                (func.coalesce(func.sum(SettlementEntry.amount), 0) != 0)
                | (func.count(SettlementEntry.id) == 0)
            )
        )
        return [(r, int(s)) for r, s in (await self.session.execute(stmt)).all()]

    async def account_mismatches(self) -> list[tuple[str, str, str, int, int]]:
        """(owner, kind, type, stored balance, sum of entries) where the two differ."""
        sums = (
            select(
                SettlementEntry.account_id.label("account_id"),
                func.sum(SettlementEntry.amount).label("total"),
            )
            .group_by(SettlementEntry.account_id)
            .subquery()
        )
        total = func.coalesce(sums.c.total, 0)
        stmt = (
            select(
                SettlementAccount.tenant_id,
                SettlementAccount.owner_kind,
                SettlementAccount.account_type,
                SettlementAccount.balance,
                total,
            )
            .outerjoin(sums, sums.c.account_id == SettlementAccount.id)
            .where(SettlementAccount.balance != total)
            .execution_options(**UNSCOPED)
        )
        return [
            (o, k, t, int(b), int(s)) for o, k, t, b, s in (await self.session.execute(stmt)).all()
        ]

    async def journal_total(self) -> tuple[int, int, int]:
        """(sum of all entries, number of postings, number of entries)."""
        entries = select(func.coalesce(func.sum(SettlementEntry.amount), 0), func.count())
        total, n_entries = (await self.session.execute(entries)).one()
        n_postings = (
            await self.session.execute(select(func.count()).select_from(SettlementPosting))
        ).scalar_one()
        return int(total), int(n_postings), int(n_entries)

    async def order_party_sums(self) -> dict[tuple[str, str, str, str], int]:
        """Sum of entries per (order, owner kind, owner, account type), party accounts only."""
        stmt = (
            select(
                SettlementPosting.order_id,
                SettlementAccount.owner_kind,
                SettlementAccount.tenant_id,
                SettlementAccount.account_type,
                func.sum(SettlementEntry.amount),
            )
            .join(SettlementPosting, SettlementPosting.seq == SettlementEntry.posting_seq)
            .join(SettlementAccount, SettlementAccount.id == SettlementEntry.account_id)
            .where(
                SettlementAccount.account_type.notin_(
                    [AccountType.payments_clearing.value, AccountType.refunds_clearing.value]
                )
            )
            .group_by(
                SettlementPosting.order_id,
                SettlementAccount.owner_kind,
                SettlementAccount.tenant_id,
                SettlementAccount.account_type,
            )
            .execution_options(**UNSCOPED)
        )
        return {(o, k, t, a): int(s) for o, k, t, a, s in (await self.session.execute(stmt)).all()}
