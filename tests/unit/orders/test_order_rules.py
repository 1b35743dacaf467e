"""The order state machine, its stock effects and the order events, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daihuo.events.model import event_from_obj
from daihuo.orders.domain import (
    REFUNDABLE,
    RULES,
    TERMINAL,
    Actor,
    OrderAction,
    OrderState,
    actions_for,
    check_refund_amount,
    event_ts,
    order_event,
    stock_move,
    transition,
)
from daihuo.orders.errors import InvalidOrderTransition, InvalidRefundAmount, NotYourRole

S, A, X = OrderState, OrderAction, Actor

HAPPY = [
    (A.pay, X.provider, S.paid),
    (A.ship, X.supplier, S.shipped),
    (A.deliver, X.supplier, S.delivered),
    (A.complete, X.buyer, S.completed),
]


def test_the_happy_path() -> None:
    state = S.created
    for action, actor, after in HAPPY:
        state = transition(state, action, actor)
        assert state is after


def test_terminal_states_allow_nothing() -> None:
    for state in TERMINAL:
        assert actions_for(state) == []


@pytest.mark.parametrize(
    ("state", "action", "actor"),
    [
        (S.cancelled, A.pay, X.provider),  # paying a cancelled order
        (S.refunded, A.request_refund, X.buyer),  # a second refund
        (S.refunding, A.approve_refund, X.merchant),  # a second approval
        (S.created, A.ship, X.supplier),  # shipping before payment
        (S.paid, A.cancel, X.buyer),  # cancelling a paid order: refund it instead
        (S.completed, A.request_refund, X.buyer),
    ],
)
def test_impossible_steps_are_refused(state: OrderState, action: OrderAction, actor: Actor) -> None:
    with pytest.raises(InvalidOrderTransition):
        transition(state, action, actor)


@pytest.mark.parametrize(
    ("state", "action", "actor"),
    [
        (S.created, A.pay, X.buyer),  # only the provider says it was paid
        (S.paid, A.ship, X.merchant),  # the supplier ships
        (S.refund_requested, A.approve_refund, X.buyer),  # nobody approves their own refund
        (S.created, A.expire, X.buyer),
        (S.delivered, A.complete, X.supplier),
    ],
)
def test_the_wrong_party_is_refused(state: OrderState, action: OrderAction, actor: Actor) -> None:
    with pytest.raises(NotYourRole):
        transition(state, action, actor)


@pytest.mark.parametrize("origin", sorted(REFUNDABLE))
def test_a_rejected_refund_returns_where_it_came_from(origin: OrderState) -> None:
    state = transition(origin, A.request_refund, X.buyer)
    assert state is S.refund_requested
    assert transition(state, A.reject_refund, X.merchant, refund_from=origin) is origin


@given(
    st.lists(
        st.tuples(st.sampled_from(list(A)), st.sampled_from(list(X)), st.booleans()),
        max_size=40,
    )
)
def test_random_walks_conserve_stock_and_end_only_where_allowed(
    steps: list[tuple[OrderAction, Actor, bool]],
) -> None:
    """Whatever is tried, the units of one order are in exactly one stock column."""
    state, refund_from = S.created, None
    column = "reserved"
    for action, actor, full in steps:
        if action is A.create:
            continue
        try:
            after = transition(state, action, actor, refund_from=refund_from)
        except (InvalidOrderTransition, NotYourRole):
            continue
        if action is A.request_refund:
            refund_from = state
        move = stock_move(action, refund_from=refund_from, full_refund=full)
        if move is not None:
            source, target = move
            assert column == source, (state, action, column)
            column = target
        state = after
    assert column in {"available", "reserved", "sold"}
    assert (column == "reserved") == (state is S.created)
    if state is S.cancelled:
        assert column == "available"


def test_refund_amounts() -> None:
    check_refund_amount(1, paid=100, refunded=0)
    check_refund_amount(100, paid=100, refunded=0)
    check_refund_amount(40, paid=100, refunded=60)
    for amount, refunded in [(0, 0), (-5, 0), (101, 0), (41, 60)]:
        with pytest.raises(InvalidRefundAmount):
            check_refund_amount(amount, paid=100, refunded=refunded)


def test_only_full_refunds_of_unshipped_orders_return_stock() -> None:
    assert stock_move(A.confirm_refund, refund_from=S.paid, full_refund=True) == (
        "sold",
        "available",
    )
    assert stock_move(A.confirm_refund, refund_from=S.paid, full_refund=False) is None
    assert stock_move(A.confirm_refund, refund_from=S.shipped, full_refund=True) is None
    assert {a for a in RULES if stock_move(a) is not None} == {A.pay, A.cancel, A.expire}


def test_order_events_follow_the_event_contract() -> None:
    at = datetime(2026, 11, 27, 12, 0, 5, 120_999, tzinfo=UTC)
    assert event_ts(at) == "2026-11-27T12:00:05.120Z"
    for type_, qty in [("order_created", 2), ("order_paid", 2), ("order_refunded", None)]:
        raw = order_event(
            type_,
            event_id="evt_1",
            at=at,
            session="shop:ten_1",
            user="usr_1",
            order="ord_1",
            product="prd_1",
            qty=qty,
            amount=3980,
        )
        event = event_from_obj(raw)
        assert event.type == type_ and event.amount == 3980 and event.order == "ord_1"
        assert event.ts_ms == 1_795_780_805_120
