"""Settlement use cases: what the orders module calls, and what tenants read.

The orders module calls, inside its own transaction (these functions only ``flush()``;
the caller commits, so the posting commits or rolls back with the order's change):

* :func:`post_order_paid` — once the payment is confirmed;
* :func:`mark_delivered` — when the order reaches ``delivered`` (starts the holding period);
* :func:`post_order_refunded` — for every successful refund, full or partial, with a
  ``refund_id`` unique per refund;
* :func:`release_due` — from a periodic task: releases held money whose holding period
  has ended.

Every one of them is idempotent: the same event (same order, same refund id) posts once,
also under concurrent calls; repeating it with different values is a
:class:`~daihuo.settlement.errors.SettlementConflict`. They do not care how the caller's
session is scoped (see ``models`` for why the journal is platform-level).

The arithmetic and its rounding rule live in :mod:`daihuo.settlement.domain`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.config import Settings
from daihuo.core.clock import utcnow
from daihuo.settlement import domain, errors
from daihuo.settlement.domain import (
    ACCOUNT_ORDER,
    AVAILABLE,
    DEFAULT_HOLDING_PERIOD,
    HELD,
    PLATFORM,
    AccountType,
    EventKind,
    OrderSettlement,
    OwnerKind,
    Statement,
)
from daihuo.settlement.repository import SettlementRepository
from daihuo.tenancy.domain import Principal, TenantKind

MAX_PERIOD = timedelta(days=400)
DEFAULT_PLATFORM_FEE_RATE = 500  # basis points of the amount paid (5 %)


@dataclass(frozen=True)
class Policy:
    """The platform's terms: its fee (basis points of each payment) and how long money
    is held after delivery before it is released (so refunds can claw it back)."""

    platform_fee_rate: int = DEFAULT_PLATFORM_FEE_RATE
    holding_period: timedelta = DEFAULT_HOLDING_PERIOD

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            platform_fee_rate=settings.platform_fee_bps,
            holding_period=timedelta(days=settings.settlement_holding_days),
        )


MAX_STATEMENT_LINES = 100_000
RELEASE_BATCH = 1_000


@contextmanager
def _rules() -> Iterator[None]:
    """Domain refusals become problems; an unbalanced posting stays a bug (500)."""
    try:
        yield
    except domain.UnbalancedPosting:
        raise
    except domain.RefundExceedsPaid as exc:
        raise errors.RefundExceedsPaid(str(exc)) from exc
    except domain.SettlementRuleError as exc:
        raise errors.InvalidSettlementEvent(str(exc)) from exc


async def post_order_paid(
    session: AsyncSession,
    *,
    order_id: str,
    supplier_tenant_id: str,
    merchant_tenant_id: str,
    amount_paid: int,
    commission_rate: int,
    platform_fee_rate: int,
    paid_at: datetime,
    discount: int = 0,
) -> OrderSettlement:
    """Post a paid order: split ``amount_paid`` (fen) into the parties' held accounts.

    ``commission_rate`` (the merchant's, 0–9000) and ``platform_fee_rate`` are basis points
    of the gross, ``amount_paid + discount`` (2000 = 20 %); ``discount`` is the merchant's
    coupon, taken out of its commission. Returns the order's settlement (its shares).
    """
    with _rules():
        order, posting = domain.pay(
            order_id=order_id,
            supplier_id=supplier_tenant_id,
            merchant_id=merchant_tenant_id,
            amount_paid=amount_paid,
            commission_rate=commission_rate,
            platform_fee_rate=platform_fee_rate,
            paid_at=paid_at,
            discount=discount,
        )
    repo = SettlementRepository(session)
    if not await repo.claim_order(order):
        existing = await repo.order(order_id)
        assert existing is not None  # claimed by someone else, who committed
        if not existing.same_payment(order):
            raise errors.SettlementConflict(
                f"Order {order_id} was already settled as paid with other values."
            )
        return existing
    await repo.add_posting(posting, utcnow())
    await session.flush()
    return order


async def _locked(repo: SettlementRepository, order_id: str) -> OrderSettlement:
    with _rules():
        domain.check_id(order_id, "order_id")
    order = await repo.lock_order(order_id)
    if order is None:
        raise errors.OrderNotSettled(f"Order {order_id} has no settled payment.")
    return order


async def post_order_refunded(
    session: AsyncSession,
    *,
    order_id: str,
    refund_id: str,
    amount_refunded: int,
    refunded_at: datetime,
) -> OrderSettlement:
    """Post a (partial) refund: claw the amount back from the shares, pro rata."""
    repo = SettlementRepository(session)
    with _rules():
        domain.check_id(refund_id, "refund_id")
        domain.check_amount(amount_refunded, "amount_refunded")
        at = domain.check_time(refunded_at, "refunded_at")
    order = await _locked(repo, order_id)
    done = await repo.posting(domain.reference_for(order_id, EventKind.refund, refund_id))
    if done is not None:
        if (done.amount, done.at) != (amount_refunded, at):
            raise errors.SettlementConflict(
                f"Refund {refund_id} of order {order_id} was already posted with other values."
            )
        return order
    with _rules():
        after, posting = domain.refund(order, refund_id=refund_id, amount=amount_refunded, at=at)
    await repo.add_posting(posting, utcnow())
    await repo.save_order(after)
    await session.flush()
    return after


async def mark_delivered(
    session: AsyncSession,
    *,
    order_id: str,
    delivered_at: datetime,
    holding_period: timedelta = DEFAULT_HOLDING_PERIOD,
) -> OrderSettlement:
    """Record delivery; the order's money is released ``holding_period`` later.

    Marking an order delivered again keeps the first delivery.
    """
    repo = SettlementRepository(session)
    order = await _locked(repo, order_id)
    with _rules():
        after = domain.deliver(order, at=delivered_at, holding_period=holding_period)
    if after != order:
        await repo.save_order(after)
        await session.flush()
    return after


async def release_due(
    session: AsyncSession, now: datetime, *, limit: int = RELEASE_BATCH
) -> list[str]:
    """Move held money to available for up to ``limit`` orders whose holding period has
    ended by ``now``; the ids of the orders released. Running it again releases nothing
    twice; run it until it returns fewer than ``limit``."""
    with _rules():
        now = domain.check_time(now, "now")
    repo = SettlementRepository(session)
    released = []
    for order_id in await repo.due_order_ids(now, limit):
        order = await repo.lock_order(order_id, unreleased_only=True)
        if order is None or not order.is_due(now):
            continue  # released meanwhile by another sweeper
        after, posting = domain.release(order, at=now)
        if posting is not None:
            await repo.add_posting(posting, utcnow())
        await repo.save_order(after)
        released.append(order_id)
    await session.flush()
    return released


async def refund_clawback(
    session: AsyncSession, order_id: str, refund_id: str
) -> domain.Split | None:
    """What one posted refund took back from each share (None if it was not posted)."""
    repo = SettlementRepository(session)
    order = await repo.order(order_id)
    posting = await repo.posting(domain.reference_for(order_id, EventKind.refund, refund_id))
    if order is None or posting is None:
        return None
    before = await repo.refunded_before(order_id, posting.seq)
    after = domain.apportion(before + posting.amount, order.shares)
    return after - domain.apportion(before, order.shares)


async def get_order(session: AsyncSession, order_id: str) -> OrderSettlement | None:
    """The settlement of one order, if it was paid."""
    return await SettlementRepository(session).order(order_id)


# --- what owners read -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose books: a tenant (its supplier and merchant accounts) or the platform's own."""

    id: str
    platform: bool = False

    @classmethod
    def tenant(cls, tenant_id: str) -> Owner:
        return cls(tenant_id)

    @classmethod
    def the_platform(cls) -> Owner:
        return cls(PLATFORM, platform=True)


def owner_of(principal: Principal) -> Owner:
    """Whose books the caller reads: its tenant's, or the platform's for platform staff."""
    if principal.tenant_kind is TenantKind.platform:
        return Owner.the_platform()
    assert principal.tenant_id is not None  # require() refuses callers without a tenant
    return Owner.tenant(principal.tenant_id)


@dataclass(frozen=True, slots=True)
class Balances:
    owner_id: str
    accounts: dict[AccountType, int] = field(default_factory=dict)

    @property
    def held(self) -> int:
        return sum(v for k, v in self.accounts.items() if k in HELD.values())

    @property
    def available(self) -> int:
        return sum(v for k, v in self.accounts.items() if k in AVAILABLE.values())


async def balances(session: AsyncSession, owner: Owner) -> Balances:
    """The owner's account balances (fen)."""
    rows = await SettlementRepository(session).owner_accounts(owner.id, platform=owner.platform)
    accounts = sorted(rows, key=lambda a: ACCOUNT_ORDER[AccountType(a.account_type)])
    return Balances(owner.id, {AccountType(a.account_type): a.balance for a in accounts})


async def statement(
    session: AsyncSession, owner: Owner, start: datetime, end: datetime
) -> Statement:
    """The owner's statement for ``[start, end)``: opening balance, lines, closing balance."""
    with _rules():
        start = domain.check_time(start, "from")
        end = domain.check_time(end, "to")
    if not start < end:
        raise errors.InvalidPeriod("'from' must be before 'to'.")
    if end - start > MAX_PERIOD:
        raise errors.InvalidPeriod(f"A statement covers at most {MAX_PERIOD.days} days.")
    repo = SettlementRepository(session)
    accounts = await repo.owner_accounts(owner.id, platform=owner.platform)
    before = await repo.sums_before(accounts, start, platform=owner.platform)
    lines = await repo.lines(
        accounts, start, end, platform=owner.platform, limit=MAX_STATEMENT_LINES + 1
    )
    if len(lines) > MAX_STATEMENT_LINES:
        raise errors.InvalidPeriod(
            f"More than {MAX_STATEMENT_LINES} lines in this period; ask for a shorter one."
        )
    openings = {AccountType(a.account_type): before.get(a.id, 0) for a in accounts}
    return domain.build_statement(owner.id, start, end, openings, lines)


# --- the journal's own check ------------------------------------------------------------


@dataclass
class JournalReport:
    postings: int = 0
    entries: int = 0
    total: int = 0
    orders: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify_journal(session: AsyncSession) -> JournalReport:
    """Prove the books: every posting sums to zero, so does the journal, every stored
    balance is the sum of its entries, and every order's entries are what its
    settlement state says each party keeps (recomputed from the amount and rates)."""
    repo = SettlementRepository(session)
    report = JournalReport()
    report.total, report.postings, report.entries = await repo.journal_total()
    if report.total != 0:
        report.problems.append(f"the journal sums to {report.total}, not 0")
    for reference, total in await repo.unbalanced_postings():
        report.problems.append(f"posting {reference} sums to {total}, not 0")
    for owner, kind, type_, stored, total in await repo.account_mismatches():
        report.problems.append(
            f"account {kind}/{owner}/{type_} stores {stored} but its entries sum to {total}"
        )
    orders = await repo.all_orders()
    report.orders = len(orders)
    sums = await repo.order_party_sums()
    expected: dict[tuple[str, str, str, str], int] = {}
    for order in orders:
        try:
            shares = domain.split_payment(
                order.amount_paid, order.commission_rate, order.platform_fee_rate, order.discount
            )
        except domain.SettlementRuleError as exc:
            report.problems.append(f"order {order.order_id}: {exc}")
            continue
        if shares != order.shares:
            report.problems.append(f"order {order.order_id}: stored shares are not the split")
        if not 0 <= order.refunded <= order.amount_paid:
            report.problems.append(f"order {order.order_id}: refunded {order.refunded} fen")
            continue
        for kind, part in order.remaining.parts():
            key = order.account(kind, held=not order.released)
            expected[(order.order_id, kind.value, key.owner_id, key.type.value)] = part
    for where in sorted(expected.keys() | sums.keys()):
        want, got = expected.get(where, 0), sums.get(where, 0)
        if want != got:
            order_id, kind, owner, type_ = where
            report.problems.append(
                f"order {order_id}: {kind}/{owner}/{type_} holds {got} fen, should hold {want}"
            )
    return report


__all__ = [
    "Balances",
    "JournalReport",
    "OrderSettlement",
    "Owner",
    "OwnerKind",
    "get_order",
    "mark_delivered",
    "post_order_paid",
    "post_order_refunded",
    "release_due",
    "statement",
    "verify_journal",
]
