"""Settlement arithmetic: the split, pro-rata clawback, holding period and the journal's
zero sums — worked examples by hand, a brute-force oracle for the apportionment, and a
state machine over random order histories."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
)

from daihuo.settlement.domain import (
    PLATFORM,
    ZERO,
    AccountKey,
    AccountType,
    DiscountExceedsCommission,
    Entry,
    EventKind,
    InvalidAmount,
    InvalidIdentifier,
    InvalidRate,
    InvalidTime,
    JournalLine,
    NotDue,
    OrderSettlement,
    OwnerKind,
    Posting,
    RefundExceedsPaid,
    Split,
    UnbalancedPosting,
    apportion,
    build_statement,
    commission_of,
    deliver,
    pay,
    platform_account,
    refund,
    release,
    split_payment,
    statement_csv,
)

PROPERTIES = settings(database=None, deadline=None, max_examples=300)
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

amounts = st.one_of(st.integers(1, 50), st.integers(1, 10**7), st.just(10**15))
commissions = st.integers(0, 9_000)


@st.composite
def rates(draw: st.DrawFn) -> tuple[int, int]:
    c = draw(commissions)
    f = draw(st.one_of(st.integers(0, 10_000 - c), st.just(10_000 - c), st.just(0)))
    return c, f


@st.composite
def splits(draw: st.DrawFn) -> Split:
    amount = draw(amounts)
    c, f = draw(rates())
    return split_payment(amount, c, f)


def paid(amount: int = 10_000, c: int = 2_000, f: int = 500, **kw: object) -> OrderSettlement:
    args: dict[str, object] = {
        "order_id": "ord_1",
        "supplier_id": "ten_s",
        "merchant_id": "ten_m",
        "amount_paid": amount,
        "commission_rate": c,
        "platform_fee_rate": f,
        "paid_at": T0,
    }
    args.update(kw)
    order, _ = pay(**args)  # type: ignore[arg-type]
    return order


def amounts_by_account(posting: Posting) -> dict[tuple[str, str], int]:
    return {(e.account.owner_id, e.account.type.value): e.amount for e in posting.entries}


# --- the split ------------------------------------------------------------------------


def test_worked_example_of_the_module_docstring() -> None:
    # 9 999 × 20 % = 1 999.8 → 1 999; 9 999 × 5.5 % = 549.945 → 549; the rest, 7 451.
    assert split_payment(9_999, 2_000, 550) == Split(supplier=7_451, merchant=1_999, platform=549)


def test_a_payment_credits_each_partys_held_account_and_debits_clearing() -> None:
    order, posting = pay(
        order_id="ord_1",
        supplier_id="ten_s",
        merchant_id="ten_m",
        amount_paid=10_000,
        commission_rate=2_000,
        platform_fee_rate=500,
        paid_at=T0,
    )
    assert order.shares == Split(7_500, 2_000, 500)
    assert posting.reference == "order:ord_1:paid"
    assert amounts_by_account(posting) == {
        (PLATFORM, "payments_clearing"): -10_000,
        ("ten_s", "payable_held"): 7_500,
        ("ten_m", "commission_held"): 2_000,
        (PLATFORM, "revenue_held"): 500,
    }


def test_zero_shares_make_no_entries() -> None:
    _, posting = pay(
        order_id="o",
        supplier_id="s",
        merchant_id="m",
        amount_paid=1,
        commission_rate=9_000,
        platform_fee_rate=1_000,
        paid_at=T0,
    )
    # floor(0.9) = floor(0.1) = 0: the single fen is the supplier's.
    assert amounts_by_account(posting) == {
        (PLATFORM, "payments_clearing"): -1,
        ("s", "payable_held"): 1,
    }


@PROPERTIES
@given(amount=amounts, r=rates())
def test_the_split_creates_and_loses_no_fen_and_no_share_is_negative(
    amount: int, r: tuple[int, int]
) -> None:
    c, f = r
    s = split_payment(amount, c, f)
    assert s.total == amount
    assert min(s.supplier, s.merchant, s.platform) >= 0
    # The merchant and the platform get at most their exact rate; the supplier at least its own.
    assert s.merchant * 10_000 <= amount * c < (s.merchant + 1) * 10_000
    assert s.platform * 10_000 <= amount * f < (s.platform + 1) * 10_000
    assert s.supplier * 10_000 >= amount * (10_000 - c - f)


@PROPERTIES
@given(gross=amounts, r=rates(), data=st.data())
def test_a_coupon_comes_out_of_the_merchants_commission_alone(
    gross: int, r: tuple[int, int], data: st.DataObject
) -> None:
    c, f = r
    commission = commission_of(gross, c)
    discount = data.draw(st.integers(0, max(min(commission, gross - 1), 0)))
    without = split_payment(gross, c, f)
    s = split_payment(gross - discount, c, f, discount)
    assert s.total == gross - discount
    assert (s.supplier, s.platform) == (without.supplier, without.platform)
    assert s.merchant == without.merchant - discount >= 0
    # One fen more than the commission is refused (when the order could carry it).
    if commission + 1 < gross:
        with pytest.raises(DiscountExceedsCommission):
            split_payment(gross - commission - 1, c, f, commission + 1)


def test_worked_example_of_a_coupon() -> None:
    # docs: 3,000 fen gross, 20 % commission (600), 3 % fee (90), a 500 fen coupon.
    assert split_payment(2_500, 2_000, 300, 500) == Split(supplier=2_310, merchant=100, platform=90)
    with pytest.raises(DiscountExceedsCommission):
        split_payment(2_300, 2_000, 300, 700)
    with pytest.raises(InvalidAmount):
        split_payment(2_500, 2_000, 300, -1)


@pytest.mark.parametrize(
    ("amount", "c", "f", "error"),
    [
        (0, 0, 0, InvalidAmount),
        (-5, 0, 0, InvalidAmount),
        (10**15 + 1, 0, 0, InvalidAmount),
        (True, 0, 0, InvalidAmount),
        (10.0, 0, 0, InvalidAmount),
        (100, 9_001, 0, InvalidRate),
        (100, -1, 0, InvalidRate),
        (100, 0, 10_001, InvalidRate),
        (100, 6_000, 4_001, InvalidRate),
        (100, 0.5, 0, InvalidRate),
    ],
)
def test_bad_amounts_and_rates_are_refused(
    amount: object, c: object, f: object, error: type
) -> None:
    with pytest.raises(error):
        split_payment(amount, c, f)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kw",
    [
        {"order_id": ""},
        {"order_id": "x" * 41},
        {"order_id": "-starts-with-dash"},
        {"order_id": "has space"},
        {"supplier_id": PLATFORM},
        {"merchant_id": "=HYPERLINK()"},
    ],
)
def test_bad_identifiers_are_refused(kw: dict[str, object]) -> None:
    with pytest.raises(InvalidIdentifier):
        paid(**kw)


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidTime):
        paid(paid_at=datetime(2026, 3, 1, 8, 0))


# --- the apportionment of refunds -------------------------------------------------------


def dhondt_one_fen_at_a_time(refunded: int, shares: Split) -> Split:
    """The definition, literally: hand out fen one by one to the largest next quotient
    (exact fractions; ties to the supplier, then the merchant, then the platform)."""
    weights = [shares.supplier, shares.merchant, shares.platform]
    given_ = [0, 0, 0]
    for _ in range(refunded):
        best = max(range(3), key=lambda i: (Fraction(weights[i], given_[i] + 1), -i))
        given_[best] += 1
    return Split(*given_)


@PROPERTIES
@given(
    shares=st.tuples(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60)).filter(
        lambda t: sum(t) > 0
    ),
    data=st.data(),
)
def test_the_closed_form_is_dhondt_one_fen_at_a_time(
    shares: tuple[int, int, int], data: st.DataObject
) -> None:
    s = Split(*shares)
    refunded = data.draw(st.integers(0, s.total))
    assert apportion(refunded, s) == dhondt_one_fen_at_a_time(refunded, s)


@PROPERTIES
@given(shares=splits(), data=st.data())
def test_clawback_is_monotone_bounded_exact_at_the_ends_and_near_proportional(
    shares: Split, data: st.DataObject
) -> None:
    total = shares.total
    r = data.draw(st.integers(0, total))
    a = apportion(r, shares)
    b = apportion(min(total, r + data.draw(st.integers(0, total))), shares)
    assert a.total == r
    assert apportion(0, shares) == ZERO
    assert apportion(total, shares) == shares
    for (_, got), (_, later), (_, share) in zip(a.parts(), b.parts(), shares.parts(), strict=True):
        assert 0 <= got <= later <= share
        # At least the floor of the exact quota, less than 2 fen above it.
        assert got * total >= share * r - (total - 1)
        assert got * total < share * r + 2 * total


def test_three_one_fen_refunds_of_a_three_fen_order_take_one_fen_from_each() -> None:
    # Rounding each refund down on its own would take all three fen from the supplier.
    order = paid(amount=3, c=3_334, f=3_334)
    assert order.shares == Split(1, 1, 1)
    taken = []
    for i in range(3):
        before = order.clawed_back
        order, _ = refund(order, refund_id=f"r{i}", amount=1, at=T0)
        taken.append(order.clawed_back - before)
    assert taken == [Split(1, 0, 0), Split(0, 1, 0), Split(0, 0, 1)]


def test_a_partial_refund_before_release_claws_back_from_held() -> None:
    order = paid()  # 10 000 fen: 7 500 / 2 000 / 500
    order, posting = refund(order, refund_id="r1", amount=2_500, at=T0 + timedelta(hours=1))
    # 25 % of each share exactly: 1 875 / 500 / 125.
    assert posting.reference == "order:ord_1:refund:r1"
    assert amounts_by_account(posting) == {
        (PLATFORM, "refunds_clearing"): 2_500,
        ("ten_s", "payable_held"): -1_875,
        ("ten_m", "commission_held"): -500,
        (PLATFORM, "revenue_held"): -125,
    }
    assert order.remaining == Split(5_625, 1_500, 375)


def test_refunding_more_than_paid_is_refused_and_nothing_changes() -> None:
    order = paid(amount=100)
    order, _ = refund(order, refund_id="r1", amount=60, at=T0)
    with pytest.raises(RefundExceedsPaid):
        refund(order, refund_id="r2", amount=41, at=T0)
    assert order.refunded == 60
    order, _ = refund(order, refund_id="r2", amount=40, at=T0)
    assert order.remaining == ZERO


def test_a_refund_dated_before_the_payment_is_refused() -> None:
    with pytest.raises(InvalidTime):
        refund(paid(), refund_id="r", amount=1, at=T0 - timedelta(seconds=1))


# --- holding period -------------------------------------------------------------------


def test_release_falls_due_seven_days_after_delivery_by_default() -> None:
    order = deliver(paid(), at=T0 + timedelta(days=2))
    assert order.release_due_at == T0 + timedelta(days=9)
    with pytest.raises(NotDue):
        release(order, at=T0 + timedelta(days=9) - timedelta(microseconds=1))
    released, posting = release(order, at=T0 + timedelta(days=9))
    assert posting is not None and posting.kind is EventKind.release
    assert amounts_by_account(posting) == {
        ("ten_s", "payable_held"): -7_500,
        ("ten_s", "payable_available"): 7_500,
        ("ten_m", "commission_held"): -2_000,
        ("ten_m", "commission_available"): 2_000,
        (PLATFORM, "revenue_held"): -500,
        (PLATFORM, "revenue_available"): 500,
    }
    with pytest.raises(NotDue):
        release(released, at=T0 + timedelta(days=30))


def test_the_holding_period_is_configurable_and_a_second_delivery_does_not_restart_it() -> None:
    order = deliver(paid(), at=T0, holding_period=timedelta(days=1))
    assert order.release_due_at == T0 + timedelta(days=1)
    assert deliver(order, at=T0 + timedelta(days=5)) == order
    with pytest.raises(NotDue):
        release(paid(), at=T0 + timedelta(days=365))  # never delivered


def test_a_refund_after_release_claws_back_from_available() -> None:
    order = deliver(paid(), at=T0, holding_period=timedelta(0))
    order, _ = release(order, at=T0)
    order, posting = refund(order, refund_id="r1", amount=10_000, at=T0 + timedelta(days=1))
    assert amounts_by_account(posting) == {
        (PLATFORM, "refunds_clearing"): 10_000,
        ("ten_s", "payable_available"): -7_500,
        ("ten_m", "commission_available"): -2_000,
        (PLATFORM, "revenue_available"): -500,
    }


def test_releasing_a_fully_refunded_order_posts_nothing() -> None:
    order = deliver(paid(), at=T0)
    order, _ = refund(order, refund_id="r1", amount=10_000, at=T0)
    released, posting = release(order, at=T0 + timedelta(days=7))
    assert posting is None and released.released


# --- postings -------------------------------------------------------------------------


def test_a_posting_that_does_not_sum_to_zero_cannot_be_built() -> None:
    s = AccountKey(OwnerKind.supplier, "ten_s", AccountType.payable_held)
    clearing = platform_account(AccountType.payments_clearing)
    with pytest.raises(UnbalancedPosting):
        Posting(EventKind.paid, "o", T0, 1, (Entry(clearing, -100), Entry(s, 99)))
    with pytest.raises(UnbalancedPosting):
        Posting(EventKind.paid, "o", T0, 1, ())
    with pytest.raises(UnbalancedPosting):
        Entry(s, 0)


def test_account_keys_match_their_owner_kind() -> None:
    with pytest.raises(ValueError, match="no commission_held"):
        AccountKey(OwnerKind.supplier, "ten_s", AccountType.commission_held)
    with pytest.raises(InvalidIdentifier):
        AccountKey(OwnerKind.supplier, PLATFORM, AccountType.payable_held)
    with pytest.raises(InvalidIdentifier):
        AccountKey(OwnerKind.platform, "ten_p", AccountType.revenue_held)


# --- random order histories -------------------------------------------------------------

TENANTS = ["ten_a", "ten_b", "ten_c"]


class OrderHistories(RuleBasedStateMachine):
    """Random payments, partial refunds, deliveries and releases at random times, across a
    few suppliers and merchants, checked after every step against a plain model."""

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.state: dict[str, OrderSettlement] = {}
        self.journal: list[Posting] = []
        self.balances: dict[AccountKey, int] = defaultdict(int)
        self.paid_total = 0
        self.refunded_total = 0
        self.seq = 0

    def post(self, posting: Posting | None) -> None:
        if posting is None:
            return
        assert sum(e.amount for e in posting.entries) == 0
        self.journal.append(posting)
        for e in posting.entries:
            self.balances[e.account] += e.amount

    @rule(
        target=orders,
        amount=amounts,
        r=rates(),
        supplier=st.sampled_from(TENANTS),
        merchant=st.sampled_from(TENANTS),
        data=st.data(),
    )
    def pay(
        self, amount: int, r: tuple[int, int], supplier: str, merchant: str, data: st.DataObject
    ) -> str:
        self.seq += 1
        order_id = f"ord_{self.seq}"
        # Some orders carry the merchant's coupon: up to its whole commission on the
        # gross, leaving at least 1 fen to pay.
        gross = amount
        most = min(commission_of(gross, r[0]), gross - 1)
        discount = data.draw(st.sampled_from([0, 0, most]) | st.integers(0, max(most, 0)))
        discount = min(discount, max(most, 0))
        amount = gross - discount
        order, posting = pay(
            order_id=order_id,
            supplier_id=supplier,
            merchant_id=merchant,
            amount_paid=amount,
            commission_rate=r[0],
            platform_fee_rate=r[1],
            paid_at=self.now,
            discount=discount,
        )
        without = split_payment(gross, r[0], r[1])
        assert (order.shares.supplier, order.shares.platform) == (
            without.supplier,
            without.platform,
        )
        self.state[order_id] = order
        self.paid_total += amount
        self.post(posting)
        return order_id

    @rule(order_id=orders, data=st.data())
    def refund_part(self, order_id: str, data: st.DataObject) -> None:
        order = self.state[order_id]
        left = order.amount_paid - order.refunded
        assume(left > 0)
        amount = data.draw(st.one_of(st.integers(1, left), st.just(left), st.just(1)))
        self.seq += 1
        event("refund after release" if order.released else "refund before release")
        before = order.remaining
        after, posting = refund(order, refund_id=f"ref_{self.seq}", amount=amount, at=self.now)
        taken = before - after.remaining
        assert taken.total == amount
        assert min(taken.supplier, taken.merchant, taken.platform) >= 0
        self.state[order_id] = after
        self.refunded_total += amount
        self.post(posting)

    @rule(order_id=consumes(orders))
    def refund_everything_left(self, order_id: str) -> None:
        order = self.state[order_id]
        left = order.amount_paid - order.refunded
        if left:
            self.seq += 1
            order, posting = refund(order, refund_id=f"ref_{self.seq}", amount=left, at=self.now)
            self.state[order_id] = order
            self.refunded_total += left
            self.post(posting)
        assert order.remaining == ZERO

    @rule(order_id=orders, holding=st.sampled_from([0, 1, 7]))
    def deliver(self, order_id: str, holding: int) -> None:
        self.state[order_id] = deliver(
            self.state[order_id], at=self.now, holding_period=timedelta(days=holding)
        )

    @rule(hours=st.integers(0, 24 * 10))
    def time_passes_and_due_orders_are_released(self, hours: int) -> None:
        self.now += timedelta(hours=hours)
        for order_id, order in list(self.state.items()):
            if order.is_due(self.now):
                self.state[order_id], posting = release(order, at=self.now)
                self.post(posting)

    @invariant()
    def the_journal_sums_to_zero(self) -> None:
        assert sum(e.amount for p in self.journal for e in p.entries) == 0
        assert sum(self.balances.values()) == 0

    @invariant()
    def no_fen_is_created_or_lost(self) -> None:
        # The parties hold exactly what was paid minus what was refunded...
        parties = sum(
            v for k, v in self.balances.items() if k.owner_kind is not OwnerKind.platform
        ) + sum(
            self.balances[platform_account(t)]
            for t in (AccountType.revenue_held, AccountType.revenue_available)
        )
        assert parties == self.paid_total - self.refunded_total
        # ... and the clearing accounts record the gross flows.
        assert self.balances[platform_account(AccountType.payments_clearing)] == -self.paid_total
        assert self.balances[platform_account(AccountType.refunds_clearing)] == self.refunded_total

    @invariant()
    def each_accounts_balance_is_what_its_orders_leave_it(self) -> None:
        expected: dict[AccountKey, int] = defaultdict(int)
        for order in self.state.values():
            assert order.remaining.total == order.amount_paid - order.refunded
            for kind, part in order.remaining.parts():
                assert part >= 0
                expected[order.account(kind, held=not order.released)] += part
        for key, value in self.balances.items():
            if key.type not in (AccountType.payments_clearing, AccountType.refunds_clearing):
                assert value == expected.get(key, 0), key
                assert value >= 0  # no payouts here, so nothing can go below zero

    @invariant()
    def fully_refunded_orders_leave_nothing_behind(self) -> None:
        if all(o.refunded == o.amount_paid for o in self.state.values()):
            for key, value in self.balances.items():
                if key.type not in (AccountType.payments_clearing, AccountType.refunds_clearing):
                    assert value == 0, key


OrderHistories.TestCase.settings = settings(
    database=None, deadline=None, max_examples=200, stateful_step_count=40
)
test_random_order_histories = OrderHistories.TestCase


@PROPERTIES
@given(shares=splits(), cuts=st.lists(st.integers(0, 10**15), max_size=6))
def test_the_clawback_depends_only_on_the_total_refunded(shares: Split, cuts: list[int]) -> None:
    total = shares.total
    points = sorted({c % (total + 1) for c in cuts} | {0, total})
    order = OrderSettlement("o", "s", "m", total, 0, 0, shares, T0)
    for i, (a, b) in enumerate(itertools.pairwise(points)):
        if b > a:
            order, _ = refund(order, refund_id=f"r{i}", amount=b - a, at=T0)
    assert order.clawed_back == shares


# --- statements ---------------------------------------------------------------------------


def test_a_statement_runs_balances_from_the_opening_and_renders_csv() -> None:
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    lines = [
        JournalLine(AccountType.payable_held, T0, 2, EventKind.paid, "o2", None, 300),
        JournalLine(AccountType.payable_held, T0, 1, EventKind.paid, "o1", None, 700),
        JournalLine(
            AccountType.payable_held,
            T0 + timedelta(days=1),
            3,
            EventKind.refund,
            "o1",
            "r1",
            -100,
        ),
    ]
    s = build_statement("ten_s", start, end, {AccountType.payable_available: 50}, lines)
    assert (s.opening, s.closing) == (50, 950)
    assert statement_csv(s).splitlines() == [
        "account,line,at,event,order_id,refund_id,amount_fen,balance_fen",
        "payable_held,opening,2026-03-01T00:00:00Z,,,,,0",
        "payable_held,entry,2026-03-01T08:00:00Z,paid,o1,,700,700",
        "payable_held,entry,2026-03-01T08:00:00Z,paid,o2,,300,1000",
        "payable_held,entry,2026-03-02T08:00:00Z,refund,o1,r1,-100,900",
        "payable_held,closing,2026-04-01T00:00:00Z,,,,,900",
        "payable_available,opening,2026-03-01T00:00:00Z,,,,,50",
        "payable_available,closing,2026-04-01T00:00:00Z,,,,,50",
    ]
