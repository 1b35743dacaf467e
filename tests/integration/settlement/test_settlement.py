"""Settlement on SQLite and PostgreSQL: postings that happen once however often (and
however concurrently) an event arrives, the holding period, refunds before and after
release, statements and their CSV worked out by hand, tenant isolation through the API,
and ``verify_journal`` catching a tampered journal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from daihuo.core.db import Database, commit
from daihuo.settlement import errors, service
from daihuo.settlement.domain import Split
from daihuo.settlement.models import SettlementEntry, SettlementPosting

from tests.integration.settlement.parties import Parties


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


async def pay(
    db: Database, p: Parties, order_id: str, amount: int, c: int, f: int, when: datetime
) -> service.OrderSettlement:
    # A session without any tenant, like the payment webhook's.
    async with db.session() as session:
        order = await service.post_order_paid(
            session,
            order_id=order_id,
            supplier_tenant_id=p.s,
            merchant_tenant_id=p.m,
            amount_paid=amount,
            commission_rate=c,
            platform_fee_rate=f,
            paid_at=when,
        )
        await commit(session)
    return order


async def refund(
    db: Database, order_id: str, refund_id: str, amount: int, when: datetime
) -> service.OrderSettlement:
    async with db.session() as session:
        order = await service.post_order_refunded(
            session,
            order_id=order_id,
            refund_id=refund_id,
            amount_refunded=amount,
            refunded_at=when,
        )
        await commit(session)
    return order


async def deliver(db: Database, order_id: str, when: datetime, **kw: Any) -> None:
    async with db.session() as session:
        await service.mark_delivered(session, order_id=order_id, delivered_at=when, **kw)
        await commit(session)


async def release(db: Database, now: datetime) -> list[str]:
    async with db.session(all_tenants=True) as session:
        released = await service.release_due(session, now)
        await commit(session)
    return released


async def balances(db: Database, owner: service.Owner) -> dict[str, int]:
    async with db.session(all_tenants=True) as session:
        b = await service.balances(session, owner)
    return {k.value: v for k, v in b.accounts.items()}


async def counts(db: Database) -> tuple[int, int]:
    async with db.session(all_tenants=True) as session:
        postings = (await session.execute(select(func.count(SettlementPosting.seq)))).scalar_one()
        entries = (await session.execute(select(func.count(SettlementEntry.id)))).scalar_one()
    return int(postings), int(entries)


async def verified(db: Database) -> service.JournalReport:
    async with db.session(all_tenants=True) as session:
        report = await service.verify_journal(session)
    assert report.ok, report.problems
    return report


async def build_march(db: Database, p: Parties) -> None:
    """The worked example of docs/settlement.md.

    ord_a: 10 000 fen, commission 20 %, fee 5 % → supplier 7 500, merchant 2 000, platform 500.
    ord_b:  3 333 fen, commission 15.5 %, fee 3 % → merchant floor(516.615) = 516,
            platform floor(99.99) = 99, supplier 3 333 − 516 − 99 = 2 718.
    """
    await pay(db, p, "ord_a", 10_000, 2_000, 500, at(2, 10))
    await pay(db, p, "ord_b", 3_333, 1_550, 300, at(3, 9, 30))
    # 2 500 of 10 000 is exactly a quarter of each share: 1 875 / 500 / 125, from held.
    await refund(db, "ord_a", "r1", 2_500, at(4, 12))
    await deliver(db, "ord_a", at(5))  # default holding period: due on the 12th, 00:00
    assert await release(db, at(11, 23, 59)) == []
    # Moves what is left of ord_a: 5 625 / 1 500 / 375.
    assert await release(db, at(12, 6)) == ["ord_a"]
    # 1 000 of ord_b (not delivered, so from held). Quotas 815.48 / 154.81 / 29.70: the
    # floors 815 / 154 / 29 leave 2 fen; D'Hondt gives them to the largest next quotients,
    # 2 718/816 = 3.331 (supplier), then 516/155 = 3.329 (merchant) over 99/30 = 3.3.
    await refund(db, "ord_b", "r2", 1_000, at(20, 8))
    # ord_a after release, from available: 3 500 of 10 000 in total now, so 2 625 / 700 / 175
    # clawed back in all, minus the 1 875 / 500 / 125 already taken = 750 / 200 / 50.
    await refund(db, "ord_a", "r3", 1_000, at(25))


# --- postings happen once ---------------------------------------------------------------


async def test_the_same_paid_event_posted_twice_posts_once(db: Database, parties: Parties) -> None:
    first = await pay(db, parties, "ord_1", 10_000, 2_000, 500, at(2))
    again = await pay(db, parties, "ord_1", 10_000, 2_000, 500, at(2))
    assert first == again and first.shares == Split(7_500, 2_000, 500)
    assert await counts(db) == (1, 4)
    with pytest.raises(errors.SettlementConflict):
        await pay(db, parties, "ord_1", 9_999, 2_000, 500, at(2))
    assert await counts(db) == (1, 4)
    assert await balances(db, service.Owner.tenant(parties.s)) == {"payable_held": 7_500}
    await verified(db)


async def test_concurrent_paid_events_for_one_order_post_once(
    db: Database, parties: Parties
) -> None:
    results = await asyncio.gather(
        *(pay(db, parties, "ord_1", 10_000, 2_000, 500, at(2)) for _ in range(20))
    )
    assert {r.shares for r in results} == {Split(7_500, 2_000, 500)}
    assert await counts(db) == (1, 4)
    assert await balances(db, service.Owner.tenant(parties.m)) == {"commission_held": 2_000}
    await verified(db)


async def test_concurrent_refunds_never_refund_more_than_was_paid(
    db: Database, parties: Parties
) -> None:
    await pay(db, parties, "ord_1", 1_000, 3_000, 1_000, at(2))

    async def attempt(i: int) -> str:
        try:
            await refund(db, "ord_1", f"r{i}", 100, at(3))
        except errors.RefundExceedsPaid:
            return "refused"
        return "ok"

    # Twelve different refunds of 100 on 1 000 paid, plus each of them sent twice.
    outcomes = await asyncio.gather(*(attempt(i % 12) for i in range(24)))
    ok = outcomes.count("ok")
    assert outcomes.count("refused") == 24 - ok
    postings, _ = await counts(db)
    assert postings == 1 + 10  # the payment and exactly ten refunds
    async with db.session() as session:
        order = await service.get_order(session, "ord_1")
    assert order is not None and order.refunded == 1_000
    for owner in (service.Owner.tenant(parties.s), service.Owner.tenant(parties.m)):
        assert set((await balances(db, owner)).values()) == {0}
    assert await balances(db, service.Owner.the_platform()) == {
        "payments_clearing": -1_000,
        "refunds_clearing": 1_000,
        "revenue_held": 0,
    }
    await verified(db)


async def test_a_repeated_refund_posts_once_and_a_changed_one_is_a_conflict(
    db: Database, parties: Parties
) -> None:
    await pay(db, parties, "ord_1", 1_000, 0, 0, at(2))
    await refund(db, "ord_1", "r1", 300, at(3))
    await refund(db, "ord_1", "r1", 300, at(3))
    with pytest.raises(errors.SettlementConflict):
        await refund(db, "ord_1", "r1", 400, at(3))
    assert await counts(db) == (2, 4)
    assert await balances(db, service.Owner.tenant(parties.s)) == {"payable_held": 700}


@pytest.mark.parametrize(
    ("call", "error"),
    [
        ("refund_unknown_order", errors.OrderNotSettled),
        ("deliver_unknown_order", errors.OrderNotSettled),
        ("refund_too_much", errors.RefundExceedsPaid),
        ("refund_zero", errors.InvalidSettlementEvent),
        ("commission_over_90_percent", errors.InvalidSettlementEvent),
        ("rates_over_100_percent", errors.InvalidSettlementEvent),
        ("naive_time", errors.InvalidSettlementEvent),
        ("refund_before_payment", errors.InvalidSettlementEvent),
    ],
)
async def test_bad_events_are_refused_and_change_nothing(
    db: Database, parties: Parties, call: str, error: type[Exception]
) -> None:
    await pay(db, parties, "ord_1", 1_000, 1_000, 100, at(2))
    before = await counts(db), await balances(db, service.Owner.tenant(parties.s))
    with pytest.raises(error):
        match call:
            case "refund_unknown_order":
                await refund(db, "nope", "r1", 1, at(3))
            case "deliver_unknown_order":
                await deliver(db, "nope", at(3))
            case "refund_too_much":
                await refund(db, "ord_1", "r1", 1_001, at(3))
            case "refund_zero":
                await refund(db, "ord_1", "r1", 0, at(3))
            case "commission_over_90_percent":
                await pay(db, parties, "ord_2", 1_000, 9_001, 0, at(2))
            case "rates_over_100_percent":
                await pay(db, parties, "ord_2", 1_000, 9_000, 1_001, at(2))
            case "naive_time":
                await pay(db, parties, "ord_2", 1_000, 0, 0, at(2).replace(tzinfo=None))
            case "refund_before_payment":
                await refund(db, "ord_1", "r1", 1, at(1))
    assert (await counts(db), await balances(db, service.Owner.tenant(parties.s))) == before
    await verified(db)


# --- holding period -----------------------------------------------------------------------


async def test_money_is_released_after_the_holding_period_once(
    db: Database, parties: Parties
) -> None:
    await pay(db, parties, "ord_1", 10_000, 2_000, 500, at(2))
    await pay(db, parties, "ord_2", 500, 0, 0, at(2))  # never delivered: never released
    await deliver(db, "ord_1", at(3), holding_period=timedelta(days=2))
    await deliver(db, "ord_1", at(4))  # a second delivery does not restart the clock
    assert await release(db, at(4, 23, 59)) == []
    assert await balances(db, service.Owner.tenant(parties.s)) == {"payable_held": 8_000}
    assert await release(db, at(5)) == ["ord_1"]
    assert await release(db, at(30)) == []  # idempotent
    assert await balances(db, service.Owner.tenant(parties.s)) == {
        "payable_held": 500,
        "payable_available": 7_500,
    }
    assert await balances(db, service.Owner.tenant(parties.m)) == {
        "commission_held": 0,
        "commission_available": 2_000,
    }
    await verified(db)


async def test_concurrent_sweepers_release_each_order_once(db: Database, parties: Parties) -> None:
    for i in range(5):
        await pay(db, parties, f"ord_{i}", 1_000, 1_000, 100, at(2))
        await deliver(db, f"ord_{i}", at(3))
    results = await asyncio.gather(*(release(db, at(20)) for _ in range(6)))
    assert sorted(o for r in results for o in r) == [f"ord_{i}" for i in range(5)]
    assert await counts(db) == (10, 5 * 4 + 5 * 6)
    await verified(db)


async def test_a_refund_after_release_claws_back_from_available(
    db: Database, parties: Parties
) -> None:
    await pay(db, parties, "ord_1", 10_000, 2_000, 500, at(2))
    await deliver(db, "ord_1", at(3))
    await release(db, at(10))
    await refund(db, "ord_1", "r1", 10_000, at(11))
    for owner in (service.Owner.tenant(parties.s), service.Owner.tenant(parties.m)):
        assert set((await balances(db, owner)).values()) == {0}
    assert await balances(db, service.Owner.the_platform()) == {
        "payments_clearing": -10_000,
        "refunds_clearing": 10_000,
        "revenue_held": 0,
        "revenue_available": 0,
    }
    await verified(db)


# --- statements, worked out by hand ---------------------------------------------------------


async def test_the_worked_example_balances(db: Database, parties: Parties) -> None:
    await build_march(db, parties)
    assert await balances(db, service.Owner.tenant(parties.s)) == {
        "payable_held": 2_718 - 816,  # ord_b's share less its clawback
        "payable_available": 7_500 - 2_625,  # ord_a's share less its clawbacks
    }
    assert await balances(db, service.Owner.tenant(parties.m)) == {
        "commission_held": 516 - 155,
        "commission_available": 2_000 - 700,
    }
    assert await balances(db, service.Owner.the_platform()) == {
        "payments_clearing": -13_333,
        "refunds_clearing": 4_500,
        "revenue_held": 99 - 29,
        "revenue_available": 500 - 175,
    }
    report = await verified(db)
    assert (report.postings, report.orders, report.total) == (6, 2, 0)


async def test_the_statement_api_and_its_csv_match_the_hand_worked_example(
    db: Database, parties: Parties, client: httpx.AsyncClient
) -> None:
    await build_march(db, parties)
    r = await client.get(
        "/api/v1/settlement/statement",
        params={"from": "2026-03-01", "to": "2026-04-01", "format": "csv"},
        headers=parties.supplier.headers,
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in r.headers["content-disposition"]
    assert r.text.splitlines() == [
        "account,line,at,event,order_id,refund_id,amount_fen,balance_fen",
        "payable_held,opening,2026-03-01T00:00:00Z,,,,,0",
        "payable_held,entry,2026-03-02T10:00:00Z,paid,ord_a,,7500,7500",
        "payable_held,entry,2026-03-03T09:30:00Z,paid,ord_b,,2718,10218",
        "payable_held,entry,2026-03-04T12:00:00Z,refund,ord_a,r1,-1875,8343",
        "payable_held,entry,2026-03-12T06:00:00Z,release,ord_a,,-5625,2718",
        "payable_held,entry,2026-03-20T08:00:00Z,refund,ord_b,r2,-816,1902",
        "payable_held,closing,2026-04-01T00:00:00Z,,,,,1902",
        "payable_available,opening,2026-03-01T00:00:00Z,,,,,0",
        "payable_available,entry,2026-03-12T06:00:00Z,release,ord_a,,5625,5625",
        "payable_available,entry,2026-03-25T00:00:00Z,refund,ord_a,r3,-750,4875",
        "payable_available,closing,2026-04-01T00:00:00Z,,,,,4875",
    ]

    # A period in the middle: the opening balance is everything before it.
    r = await client.get(
        "/api/v1/settlement/statement",
        params={"from": "2026-03-10T00:00:00Z", "to": "2026-03-21T08:00:00+08:00"},
        headers=parties.supplier.headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["owner_id"], body["unit"]) == (parties.s, "fen")
    assert (body["start"], body["end"]) == ("2026-03-10T00:00:00Z", "2026-03-21T00:00:00Z")
    assert (body["opening"], body["closing"]) == (8_343, 1_902 + 5_625)
    held, available = body["accounts"]
    assert (held["account"], held["opening"], held["closing"]) == ("payable_held", 8_343, 1_902)
    assert [(x["event"], x["order_id"], x["amount"], x["balance"]) for x in held["lines"]] == [
        ("release", "ord_a", -5_625, 2_718),
        ("refund", "ord_b", -816, 1_902),
    ]
    assert held["lines"][1]["refund_id"] == "r2"
    assert (available["opening"], available["closing"]) == (0, 5_625)
    assert [x["amount"] for x in available["lines"]] == [5_625]

    # The merchant's statement over all of March.
    r = await client.get(
        "/api/v1/settlement/statement",
        params={"from": "2026-03-01", "to": "2026-04-01"},
        headers=parties.merchant.headers,
    )
    held, available = r.json()["accounts"]
    assert [x["amount"] for x in held["lines"]] == [2_000, 516, -500, -1_500, -155]
    assert [x["amount"] for x in available["lines"]] == [1_500, -200]
    assert (held["closing"], available["closing"]) == (361, 1_300)


# --- isolation through the API ---------------------------------------------------------------


async def test_each_tenant_sees_only_its_own_books(
    db: Database, parties: Parties, client: httpx.AsyncClient
) -> None:
    await build_march(db, parties)

    async def books(who: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        b = await client.get("/api/v1/settlement/balances", headers=who.headers)
        s = await client.get(
            "/api/v1/settlement/statement",
            params={"from": "2026-01-01", "to": "2027-01-01"},
            headers=who.headers,
        )
        assert b.status_code == s.status_code == 200, (b.text, s.text)
        return b.json(), s.json()

    b, s = await books(parties.supplier)
    assert (b["owner_id"], b["held"], b["available"]) == (parties.s, 1_902, 4_875)
    assert {a["account"] for a in b["accounts"]} == {"payable_held", "payable_available"}
    assert s["owner_id"] == parties.s and s["closing"] == 1_902 + 4_875

    b, s = await books(parties.merchant)
    assert (b["owner_id"], b["held"], b["available"]) == (parties.m, 361, 1_300)
    assert {a["account"] for a in s["accounts"]} == {"commission_held", "commission_available"}

    # A merchant with no orders has empty books — not the other merchant's.
    b, s = await books(parties.other_merchant)
    assert (b["owner_id"], b["held"], b["available"], b["accounts"]) == (parties.m2, 0, 0, [])
    assert (s["accounts"], s["opening"], s["closing"]) == ([], 0, 0)

    # Platform staff see the platform's revenue and clearing accounts, no tenant's.
    b, s = await books(parties.platform)
    assert (b["owner_id"], b["held"], b["available"]) == ("platform", 70, 325)
    assert {a["account"]: a["balance"] for a in b["accounts"]} == {
        "payments_clearing": -13_333,
        "refunds_clearing": 4_500,
        "revenue_held": 70,
        "revenue_available": 325,
    }
    assert {a["account"] for a in s["accounts"]} == {
        "payments_clearing",
        "refunds_clearing",
        "revenue_held",
        "revenue_available",
    }

    # Asking for another tenant's books is refused before anything is read.
    r = await client.get(
        "/api/v1/settlement/balances",
        headers={**parties.merchant.headers, "X-Daihuo-Tenant": parties.s},
    )
    assert r.status_code == 403
    assert r.json()["type"] == "urn:daihuo:problem:no-tenant"


async def test_a_tenant_scoped_session_cannot_read_another_tenants_accounts(
    db: Database, parties: Parties
) -> None:
    """Defence in depth: even asked for the supplier's owner id, the merchant's session
    finds nothing, because the accounts table is tenant-scoped."""
    await build_march(db, parties)
    async with db.session(tenant_id=parties.m) as session:
        b = await service.balances(session, service.Owner.tenant(parties.s))
        s = await service.statement(session, service.Owner.tenant(parties.s), at(1), at(31))
    assert b.accounts == {} and s.accounts == ()


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-03-01"},
        {"from": "2026-03-01", "to": "2026-02-01"},
        {"from": "2026-03-01", "to": "2026-03-01"},
        {"from": "2026-03-01T00:00:00", "to": "2026-04-01"},
        {"from": "yesterday!", "to": "2026-04-01"},
        {"from": "2026-02-30", "to": "2026-04-01"},
        {"from": "2020-01-01", "to": "2026-04-01"},
        {"from": "2026-03-01", "to": "2026-04-01", "format": "xml"},
    ],
    ids=[
        "missing-to", "backwards", "empty", "no-offset", "not-a-date", "no-such-day",
        "too-long", "unknown-format",
    ],
)  # fmt: skip
async def test_a_bad_period_is_a_problem(
    parties: Parties, client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    r = await client.get(
        "/api/v1/settlement/statement", params=params, headers=parties.supplier.headers
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"


# --- the journal's check ----------------------------------------------------------------------


@pytest.mark.parametrize("tamper", ["entry_amount", "stored_balance", "order_state"])
async def test_verify_journal_catches_a_tampered_journal(
    db: Database, parties: Parties, tamper: str
) -> None:
    await build_march(db, parties)
    sql = {
        "entry_amount": "UPDATE settlement_entries SET amount = amount + 1 WHERE id = "
        "(SELECT min(id) FROM settlement_entries)",
        "stored_balance": "UPDATE settlement_accounts SET balance = balance - 1 "
        "WHERE account_type = 'payable_held'",
        "order_state": "UPDATE settlement_orders SET refunded = 0 WHERE order_id = 'ord_b'",
    }[tamper]
    async with db.session(all_tenants=True) as session:
        await session.execute(text(sql))
        await commit(session)
        report = await service.verify_journal(session)
    assert not report.ok
    expected = {
        "entry_amount": "sums to 1, not 0",
        "stored_balance": "stores 1901 but its entries sum to 1902",
        "order_state": "ord_b: supplier/",
    }[tamper]
    assert any(expected in problem for problem in report.problems), report.problems
