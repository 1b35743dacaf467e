"""Settlement arithmetic: a double-entry journal, the split of a paid order, refunds and
the holding period. Pure: no I/O; money is integer fen, rates are integer basis points
(1 bp = 0.01 %, ``RATE_SCALE`` = 10 000 bp = 100 %).

Journal
    An :class:`Entry` is a signed amount of fen on one account; a :class:`Posting` is the
    entries of one business event, and its constructor refuses entries that do not sum to
    exactly zero — so the whole journal always sums to zero. A positive amount *credits* an
    account: its owner is owed that much more. The parties' accounts (platform revenue,
    supplier payable, merchant commission) therefore carry positive balances, and the
    platform's payments clearing account carries the matching negative one: the money the
    payment provider collected for the platform, which it owes on to the parties.

Accounts — ``(owner kind, owner id, account type)``
    ===========  =========  ===========================================================
    owner kind   owner id   account types
    ===========  =========  ===========================================================
    platform     PLATFORM   payments_clearing, refunds_clearing, revenue_held,
                            revenue_available
    supplier     tenant id  payable_held, payable_available
    merchant     tenant id  commission_held, commission_available
    ===========  =========  ===========================================================

The split (:func:`split_payment`)
    For an amount paid ``A``, a merchant commission rate ``c`` and a platform fee rate
    ``f`` (both in bp of ``A``, ``c ≤ 90 %``, ``c + f ≤ 100 %``)::

        merchant commission = floor(A × c / 10 000)
        platform fee        = floor(A × f / 10 000)
        supplier share      = A − commission − platform fee

    The supplier's share is the remainder, so the three add up to ``A`` by construction:
    no fen is created or lost. Each floor is at most the exact product, so the supplier
    gets at least ``A × (1 − c − f)`` ≥ 0 and never a negative share. Rounding only ever
    moves a fraction of a fen towards the supplier (at most 1 fen from each floor): the
    merchant never earns more than its rate and the platform never gains from rounding.
    Example: ``A`` = 9 999 fen, ``c`` = 2 000 bp (20 %), ``f`` = 550 bp (5.5 %): commission
    = floor(1 999.8) = 1 999, fee = floor(549.945) = 549, supplier = 9 999 − 1 999 − 549 =
    7 451.

Coupons (the ``discount`` of :func:`split_payment`)
    A live-room coupon is the merchant's: it is paid for out of the merchant's commission,
    never out of the supplier's price or the platform's fee. An order of gross ``G`` (the
    shop's price × quantity) with a coupon of ``D`` fen is paid ``A = G − D``; the split is
    taken on ``G`` as above and ``D`` comes off the commission::

        merchant commission = floor(G × c / 10 000) − D
        platform fee        = floor(G × f / 10 000)
        supplier share      = G − floor(G × c / 10 000) − platform fee

    so the three still add up to ``A``, and the supplier and the platform get exactly what
    they would have without the coupon. A coupon larger than the commission on that order
    is refused (the order path refuses it before the buyer pays), so no share is ever
    negative and the refund arithmetic below holds unchanged: a refund of ``R`` of the
    ``A`` paid gives back the fraction ``R / A`` of each party's share — of the goods'
    value, which is what the buyer returns.

Refunds (:func:`apportion`)
    Refunds claw the money back from the three shares in proportion. Rounding each refund
    on its own would go wrong: with shares (1, 1, 1) of 3 fen, three refunds of 1 fen
    each round the commission and the fee down to 0 every time and take all 3 fen from
    the supplier, whose share was 1. So the clawback is computed on the *cumulative*
    amount refunded ``R``: the clawback so far is the D'Hondt (Jefferson) apportionment
    of ``R`` fen among the three shares — give out ``R`` fen one at a time, each to the
    share with the largest ``share / (already given + 1)``, ties to the supplier, then the
    merchant, then the platform (computed in closed form, not one fen at a time). A
    refund claws back the apportionment after it minus the apportionment before it.
    Because that method is house-monotone and never gives a share less than the floor of
    its exact quota:

    * every refund claws back exactly its amount, and no party's part of it is negative;
    * no party ever gives back more than it received (at ``R = A`` the quotas are the
      shares themselves, so the apportionment is exactly the shares): after a full refund
      every party's account is back where it was before the order;
    * the result depends only on the total refunded, not on how it was split up;
    * each party's cumulative clawback is within 2 fen of the exact proportion.

    The platform's two clearing accounts keep the gross flows: ``payments_clearing`` the
    money collected, ``refunds_clearing`` the money paid back. After a full refund they
    cancel each other; each stays visible in the platform's statement.

Holding period (:func:`deliver`, :func:`release`)
    Shares are credited to each party's *held* account when the order is paid. When the
    order is delivered, its release falls due ``holding_period`` later (default 7 days);
    the release posting then moves what is left of each share from *held* to
    *available*. A refund before the release claws back from *held*; a refund after it
    claws back from *available*. An available balance may go negative once the parties
    are paid out (payouts are outside this module): it is then a receivable that later
    settlements net against. Refunds are never refused for lack of balance — the consumer
    is owed the money whatever the state of the parties' accounts.

Postings are dated by their event (``paid_at``, ``refunded_at``; a release by the time
it runs); statements select by that date.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

RATE_SCALE = 10_000
MAX_COMMISSION_RATE = 9_000
DEFAULT_HOLDING_PERIOD = timedelta(days=7)
MAX_AMOUNT = 10**15  # 10 trillion yuan: far beyond any order, well inside a BIGINT
PLATFORM = "platform"  # owner id of the platform's own accounts; tenant ids look like ten_…
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,39}$")


class SettlementRuleError(ValueError):
    """An event the settlement rules refuse; the message says which value and why."""


class InvalidAmount(SettlementRuleError):
    pass


class InvalidRate(SettlementRuleError):
    pass


class InvalidIdentifier(SettlementRuleError):
    pass


class InvalidTime(SettlementRuleError):
    pass


class RefundExceedsPaid(SettlementRuleError):
    pass


class DiscountExceedsCommission(SettlementRuleError):
    pass


class NotDue(SettlementRuleError):
    pass


class UnbalancedPosting(SettlementRuleError):
    """A bug, never user input: entries that do not sum to zero."""


class OwnerKind(StrEnum):
    platform = "platform"
    supplier = "supplier"
    merchant = "merchant"


class AccountType(StrEnum):
    payments_clearing = "payments_clearing"
    refunds_clearing = "refunds_clearing"
    revenue_held = "revenue_held"
    revenue_available = "revenue_available"
    payable_held = "payable_held"
    payable_available = "payable_available"
    commission_held = "commission_held"
    commission_available = "commission_available"


ACCOUNT_TYPES: Mapping[OwnerKind, tuple[AccountType, ...]] = {
    OwnerKind.platform: (
        AccountType.payments_clearing,
        AccountType.refunds_clearing,
        AccountType.revenue_held,
        AccountType.revenue_available,
    ),
    OwnerKind.supplier: (AccountType.payable_held, AccountType.payable_available),
    OwnerKind.merchant: (AccountType.commission_held, AccountType.commission_available),
}
HELD: Mapping[OwnerKind, AccountType] = {
    OwnerKind.platform: AccountType.revenue_held,
    OwnerKind.supplier: AccountType.payable_held,
    OwnerKind.merchant: AccountType.commission_held,
}
AVAILABLE: Mapping[OwnerKind, AccountType] = {
    OwnerKind.platform: AccountType.revenue_available,
    OwnerKind.supplier: AccountType.payable_available,
    OwnerKind.merchant: AccountType.commission_available,
}
ACCOUNT_ORDER: Mapping[AccountType, int] = {t: i for i, t in enumerate(AccountType)}


def check_id(value: object, name: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise InvalidIdentifier(
            f"{name} must be 1 to 40 characters of A-Z, a-z, 0-9, '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def check_amount(value: object, name: str) -> int:
    if type(value) is not int or not 0 < value <= MAX_AMOUNT:
        raise InvalidAmount(f"{name} must be a whole number of fen from 1 to {MAX_AMOUNT}")
    return value


def check_time(value: object, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidTime(f"{name} must be a timezone-aware datetime")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class AccountKey:
    owner_kind: OwnerKind
    owner_id: str
    type: AccountType

    def __post_init__(self) -> None:
        if self.type not in ACCOUNT_TYPES[self.owner_kind]:
            raise SettlementRuleError(f"a {self.owner_kind} has no {self.type} account")
        if (self.owner_id == PLATFORM) != (self.owner_kind is OwnerKind.platform):
            raise InvalidIdentifier(f"{PLATFORM!r} is the owner id of platform accounts only")
        check_id(self.owner_id, "owner id")

    @property
    def is_held(self) -> bool:
        return self.type in HELD.values()

    def sort_key(self) -> tuple[str, str, int]:
        return (self.owner_kind.value, self.owner_id, ACCOUNT_ORDER[self.type])


def platform_account(type_: AccountType) -> AccountKey:
    return AccountKey(OwnerKind.platform, PLATFORM, type_)


@dataclass(frozen=True, slots=True)
class Entry:
    account: AccountKey
    amount: int

    def __post_init__(self) -> None:
        if type(self.amount) is not int or self.amount == 0:
            raise UnbalancedPosting("an entry's amount is a non-zero whole number of fen")


class EventKind(StrEnum):
    paid = "paid"
    refund = "refund"
    release = "release"


def reference_for(order_id: str, kind: EventKind, refund_id: str | None = None) -> str:
    """The posting's unique reference: the same order event never posts twice."""
    if kind is EventKind.refund:
        return f"order:{order_id}:refund:{refund_id}"
    return f"order:{order_id}:{kind.value}"


@dataclass(frozen=True, slots=True)
class Posting:
    """The entries of one event. Refuses entries that do not sum to zero."""

    kind: EventKind
    order_id: str
    at: datetime
    amount: int  # the event's amount: paid, refunded, or released in total
    entries: tuple[Entry, ...]
    refund_id: str | None = None
    reference: str = field(init=False)

    def __post_init__(self) -> None:
        if not self.entries:
            raise UnbalancedPosting("a posting has at least one entry")
        total = sum(e.amount for e in self.entries)
        if total != 0:
            raise UnbalancedPosting(f"posting for {self.order_id} sums to {total}, not 0")
        accounts = [e.account for e in self.entries]
        if len(set(accounts)) != len(accounts):
            raise UnbalancedPosting("a posting names each account at most once")
        check_time(self.at, "at")
        object.__setattr__(
            self, "reference", reference_for(self.order_id, self.kind, self.refund_id)
        )


@dataclass(frozen=True, slots=True)
class Split:
    """An amount in three parts, in the fixed order supplier, merchant, platform."""

    supplier: int
    merchant: int
    platform: int

    @property
    def total(self) -> int:
        return self.supplier + self.merchant + self.platform

    def parts(self) -> tuple[tuple[OwnerKind, int], ...]:
        return (
            (OwnerKind.supplier, self.supplier),
            (OwnerKind.merchant, self.merchant),
            (OwnerKind.platform, self.platform),
        )

    def __sub__(self, other: Split) -> Split:
        return Split(
            self.supplier - other.supplier,
            self.merchant - other.merchant,
            self.platform - other.platform,
        )


ZERO = Split(0, 0, 0)


def check_rates(commission_rate: object, platform_fee_rate: object) -> tuple[int, int]:
    if type(commission_rate) is not int or not 0 <= commission_rate <= MAX_COMMISSION_RATE:
        raise InvalidRate(
            f"commission_rate must be whole basis points from 0 to {MAX_COMMISSION_RATE} (0–90%)"
        )
    if type(platform_fee_rate) is not int or not 0 <= platform_fee_rate <= RATE_SCALE:
        raise InvalidRate("platform_fee_rate must be whole basis points from 0 to 10000")
    if commission_rate + platform_fee_rate > RATE_SCALE:
        raise InvalidRate("commission_rate + platform_fee_rate must not exceed 10000 bp (100%)")
    return commission_rate, platform_fee_rate


def split_payment(
    amount: int, commission_rate: int, platform_fee_rate: int, discount: int = 0
) -> Split:
    """Supplier share, merchant commission and platform fee of ``amount`` paid, after the
    merchant's coupon of ``discount`` fen (see module doc)."""
    check_amount(amount, "amount")
    check_rates(commission_rate, platform_fee_rate)
    check_discount(discount)
    gross = amount + discount
    commission = commission_of(gross, commission_rate)
    fee = gross * platform_fee_rate // RATE_SCALE
    if discount > commission:
        raise DiscountExceedsCommission(
            f"a coupon of {discount} fen is more than the merchant's commission of "
            f"{commission} fen on this order"
        )
    return Split(gross - commission - fee, commission - discount, fee)


def commission_of(gross: int, commission_rate: int) -> int:
    """The merchant's commission on ``gross`` fen before any coupon: the most a coupon of
    the merchant can take off that order."""
    return gross * commission_rate // RATE_SCALE


def check_discount(value: object) -> int:
    if type(value) is not int or not 0 <= value <= MAX_AMOUNT:
        raise InvalidAmount(f"discount must be a whole number of fen from 0 to {MAX_AMOUNT}")
    return value


def apportion(refunded: int, shares: Split) -> Split:
    """The cumulative clawback after ``refunded`` of ``shares.total`` fen has been refunded.

    D'Hondt: the ``refunded`` largest of the quotients ``share / j`` (j = 1, 2, …), ties
    in the order supplier, merchant, platform. Every quotient ≥ total/refunded is among
    them, which is the floor of each exact quota; the at most two fen left go one at a
    time to the largest next quotient.
    """
    total = shares.total
    if not 0 <= refunded <= total:
        raise RefundExceedsPaid(f"{refunded} fen refunded of {total} fen paid")
    weights = (shares.supplier, shares.merchant, shares.platform)
    if refunded == 0:
        return ZERO
    given = [w * refunded // total for w in weights]
    for _ in range(refunded - sum(given)):
        best = 0
        for i in range(1, 3):
            # weights[i] / (given[i] + 1) > weights[best] / (given[best] + 1), exactly
            if weights[i] * (given[best] + 1) > weights[best] * (given[i] + 1):
                best = i
        given[best] += 1
    return Split(given[0], given[1], given[2])


@dataclass(frozen=True, slots=True)
class OrderSettlement:
    """What the settlement of one order stands at."""

    order_id: str
    supplier_id: str
    merchant_id: str
    amount_paid: int
    commission_rate: int
    platform_fee_rate: int
    shares: Split
    paid_at: datetime
    refunded: int = 0
    discount: int = 0  # the merchant's coupon: fen off the gross, out of its commission
    delivered_at: datetime | None = None
    release_due_at: datetime | None = None
    released_at: datetime | None = None

    @property
    def clawed_back(self) -> Split:
        return apportion(self.refunded, self.shares)

    @property
    def remaining(self) -> Split:
        """What each party still keeps from this order."""
        return self.shares - self.clawed_back

    @property
    def released(self) -> bool:
        return self.released_at is not None

    def owner_id(self, kind: OwnerKind) -> str:
        if kind is OwnerKind.supplier:
            return self.supplier_id
        if kind is OwnerKind.merchant:
            return self.merchant_id
        return PLATFORM

    def account(self, kind: OwnerKind, *, held: bool) -> AccountKey:
        return AccountKey(kind, self.owner_id(kind), (HELD if held else AVAILABLE)[kind])

    def is_due(self, now: datetime) -> bool:
        return not self.released and self.release_due_at is not None and self.release_due_at <= now

    def same_payment(self, other: OrderSettlement) -> bool:
        """Whether ``other`` describes the same payment (a repeated ``order paid`` event)."""
        return (
            self.supplier_id,
            self.merchant_id,
            self.amount_paid,
            self.commission_rate,
            self.platform_fee_rate,
            self.discount,
            self.paid_at,
        ) == (
            other.supplier_id,
            other.merchant_id,
            other.amount_paid,
            other.commission_rate,
            other.platform_fee_rate,
            other.discount,
            other.paid_at,
        )


def _entries(pairs: Iterable[tuple[AccountKey, int]]) -> tuple[Entry, ...]:
    return tuple(Entry(account, amount) for account, amount in pairs if amount != 0)


def pay(
    *,
    order_id: str,
    supplier_id: str,
    merchant_id: str,
    amount_paid: int,
    commission_rate: int,
    platform_fee_rate: int,
    paid_at: datetime,
    discount: int = 0,
) -> tuple[OrderSettlement, Posting]:
    """A paid order: the consumer's money is split into the three parties' held accounts
    (the merchant's coupon of ``discount`` fen, if any, out of its commission)."""
    check_id(order_id, "order_id")
    check_id(supplier_id, "supplier tenant id")
    check_id(merchant_id, "merchant tenant id")
    if PLATFORM in (supplier_id, merchant_id):
        raise InvalidIdentifier(f"{PLATFORM!r} is not a tenant id")
    at = check_time(paid_at, "paid_at")
    shares = split_payment(amount_paid, commission_rate, platform_fee_rate, discount)
    order = OrderSettlement(
        order_id=order_id,
        supplier_id=supplier_id,
        merchant_id=merchant_id,
        amount_paid=amount_paid,
        commission_rate=commission_rate,
        platform_fee_rate=platform_fee_rate,
        shares=shares,
        paid_at=at,
        discount=discount,
    )
    entries = _entries(
        [
            (platform_account(AccountType.payments_clearing), -amount_paid),
            *((order.account(kind, held=True), part) for kind, part in shares.parts()),
        ]
    )
    return order, Posting(EventKind.paid, order_id, at, amount_paid, entries)


def refund(
    order: OrderSettlement, *, refund_id: str, amount: int, at: datetime
) -> tuple[OrderSettlement, Posting]:
    """A (partial) refund: claw back ``amount`` from the shares, pro rata (see module doc)."""
    check_id(refund_id, "refund_id")
    check_amount(amount, "amount_refunded")
    when = check_time(at, "refunded_at")
    if when < order.paid_at:
        raise InvalidTime("refunded_at is before the order was paid")
    if order.refunded + amount > order.amount_paid:
        raise RefundExceedsPaid(
            f"refunding {amount} fen would refund {order.refunded + amount} fen of the "
            f"{order.amount_paid} fen paid ({order.amount_paid - order.refunded} fen left)"
        )
    after = replace(order, refunded=order.refunded + amount)
    clawback = after.clawed_back - order.clawed_back
    held = not order.released
    entries = _entries(
        [
            (platform_account(AccountType.refunds_clearing), amount),
            *((order.account(kind, held=held), -part) for kind, part in clawback.parts()),
        ]
    )
    return after, Posting(EventKind.refund, order.order_id, when, amount, entries, refund_id)


def deliver(
    order: OrderSettlement, *, at: datetime, holding_period: timedelta = DEFAULT_HOLDING_PERIOD
) -> OrderSettlement:
    """The order was delivered: its release falls due ``holding_period`` later.

    Delivering twice keeps the first delivery (the holding period does not restart).
    """
    when = check_time(at, "delivered_at")
    if not isinstance(holding_period, timedelta) or holding_period < timedelta(0):
        raise InvalidTime("holding_period must be a non-negative timedelta")
    if order.delivered_at is not None:
        return order
    if when < order.paid_at:
        raise InvalidTime("delivered_at is before the order was paid")
    return replace(order, delivered_at=when, release_due_at=when + holding_period)


def release(order: OrderSettlement, *, at: datetime) -> tuple[OrderSettlement, Posting | None]:
    """Move what is left of each share from held to available. No posting if nothing is left."""
    when = check_time(at, "at")
    if order.released:
        raise NotDue(f"order {order.order_id} was already released")
    if order.release_due_at is None:
        raise NotDue(f"order {order.order_id} has not been delivered")
    if when < order.release_due_at:
        raise NotDue(f"order {order.order_id} is held until {order.release_due_at.isoformat()}")
    after = replace(order, released_at=when)
    left = order.remaining
    pairs: list[tuple[AccountKey, int]] = []
    for kind, part in left.parts():
        pairs += [(order.account(kind, held=True), -part), (order.account(kind, held=False), part)]
    entries = _entries(pairs)
    if not entries:
        return after, None
    return after, Posting(EventKind.release, order.order_id, when, left.total, entries)


# --- statements -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One entry of an account as a statement shows it, before running balances."""

    account: AccountType
    at: datetime
    seq: int  # the posting's journal sequence: the order of lines at the same instant
    kind: EventKind
    order_id: str
    refund_id: str | None
    amount: int


@dataclass(frozen=True, slots=True)
class StatementLine:
    at: datetime
    kind: EventKind
    order_id: str
    refund_id: str | None
    amount: int
    balance: int


@dataclass(frozen=True, slots=True)
class AccountStatement:
    account: AccountType
    opening: int
    lines: tuple[StatementLine, ...]
    closing: int


@dataclass(frozen=True, slots=True)
class Statement:
    """An owner's accounts over the half-open period ``[start, end)``."""

    owner_id: str
    start: datetime
    end: datetime
    accounts: tuple[AccountStatement, ...]

    @property
    def opening(self) -> int:
        return sum(a.opening for a in self.accounts)

    @property
    def closing(self) -> int:
        return sum(a.closing for a in self.accounts)


def build_statement(
    owner_id: str,
    start: datetime,
    end: datetime,
    openings: Mapping[AccountType, int],
    lines: Sequence[JournalLine],
) -> Statement:
    """Running balances per account: closing = opening + the period's lines."""
    if not start < end:
        raise InvalidTime("the period's start must be before its end")
    by_account: dict[AccountType, list[JournalLine]] = {a: [] for a in openings}
    for line in lines:
        if not start <= line.at < end:
            raise InvalidTime("a statement line lies outside the period")
        by_account.setdefault(line.account, []).append(line)
    accounts = []
    for account in sorted(by_account, key=ACCOUNT_ORDER.__getitem__):
        balance = opening = openings.get(account, 0)
        out = []
        for line in sorted(by_account[account], key=lambda x: (x.at, x.seq)):
            balance += line.amount
            out.append(
                StatementLine(
                    line.at, line.kind, line.order_id, line.refund_id, line.amount, balance
                )
            )
        accounts.append(AccountStatement(account, opening, tuple(out), balance))
    return Statement(owner_id, start, end, tuple(accounts))


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with ``Z``; microseconds only when there are any."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


CSV_HEADER = (
    "account",
    "line",
    "at",
    "event",
    "order_id",
    "refund_id",
    "amount_fen",
    "balance_fen",
)


def statement_csv(statement: Statement) -> str:
    """The statement as CSV: per account an opening row, its entries, a closing row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    start, end = format_time(statement.start), format_time(statement.end)
    for acc in statement.accounts:
        writer.writerow((acc.account.value, "opening", start, "", "", "", "", acc.opening))
        for line in acc.lines:
            writer.writerow(
                (
                    acc.account.value,
                    "entry",
                    format_time(line.at),
                    line.kind.value,
                    line.order_id,
                    line.refund_id or "",
                    line.amount,
                    line.balance,
                )
            )
        writer.writerow((acc.account.value, "closing", end, "", "", "", "", acc.closing))
    return buf.getvalue()
