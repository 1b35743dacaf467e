"""Orders and settlements reach the transparency log: one entry per order event and per
money split, exactly once, each provable from the order's own ledger link."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from daihuo.core.db import Database
from daihuo.ledger import jcs, merkle, note
from daihuo.orders.ledger_feed import LedgerFeeder

from tests.conftest import DatabaseFactory, client_for, make_settings, require_backend
from tests.integration.orders.shop import FAST, create_shop, pay, place, rows, wait_for_state

FEE_BPS = 500  # the default platform fee


async def verified_root(client: httpx.AsyncClient) -> tuple[int, bytes]:
    """The latest checkpoint, its signature checked with the published key."""
    keys = (await client.get("/api/v1/ledger/keys")).json()["keys"]
    text_ = (await client.get("/api/v1/ledger/checkpoint")).text
    opened = note.open_note(text_, [note.parse_verifier_key(k) for k in keys])
    checkpoint = note.Checkpoint.parse(opened.text)
    return checkpoint.size, checkpoint.root


async def outbox(database_url: str, order_id: str) -> list[dict[str, Any]]:
    found = await rows(
        database_url,
        "SELECT payload FROM order_outbox WHERE order_id = :o ORDER BY seq",
        o=order_id,
    )
    return [json.loads(r[0]) for r in found]


def expected_entry(kind: str, event: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The entry shared/spec/ledger.md describes, built here from the outbox event."""
    return {
        "kind": kind,
        "tenant": event["meta"]["merchant"],
        "id": event["order"],
        "ts": event["ts"],
        "body": body,
    }


async def test_an_orders_life_is_in_the_log_and_provable(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path, **FAST, ledger_feed_interval_seconds=3600)
    app = client_for(settings)
    async with app as client:
        feeder: LedgerFeeder = app.app.state.ledger_feeder
        shop = await create_shop(client, database_url, price=2000, commission_bps=2000)
        buyer = shop.buyers[0]
        order = (await place(client, shop, buyer, 2)).json()
        await pay(client, buyer, order["id"])
        r = await client.post(
            f"/api/v1/orders/{order['id']}/refund-request",
            json={"amount": 999, "reason": "外包装破损"},
            headers=buyer.headers,
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            f"/api/v1/orders/{order['id']}/refund", json={}, headers=shop.merchant.headers
        )
        assert r.status_code == 201, r.text
        await wait_for_state(client, buyer, order["id"], "refunded")

        assert await feeder.feed() == 5
        assert await feeder.feed() == 0, "nothing twice"

        r = await client.get(f"/api/v1/orders/{order['id']}/ledger", headers=buyer.headers)
        assert r.status_code == 200, r.text
        links = r.json()
        size, root = await verified_root(client)
        assert links["tree_size"] == size

        created, paid, refunded = await outbox(database_url, order["id"])
        common = {"supplier": shop.supplier.tenant_id, "product": shop.product_id,
                  "sku": shop.sku_id, "session": created["session"]}  # fmt: skip
        amount = 4000
        shares = {"supplier": 4000 - 800 - 200, "merchant": 800, "platform": 200}
        expected = [
            expected_entry("order", created, {"event": "order_created", "event_id": created["id"],
                                              "amount": amount, "qty": 2, **common}),
            expected_entry("order", paid, {"event": "order_paid", "event_id": paid["id"],
                                           "amount": amount, "qty": 2, **common}),
            expected_entry("settlement", paid, {
                "event": "paid", "event_id": paid["id"], "amount": amount,
                "supplier": shop.supplier.tenant_id, "commission_bps": 2000,
                "platform_fee_bps": FEE_BPS, "shares": shares}),
            expected_entry("order", refunded, {
                "event": "order_refunded", "event_id": refunded["id"], "amount": 999,
                "refund": refunded["meta"]["refund"], **common}),
        ]  # fmt: skip
        got = [(link["kind"], link["entry"]) for link in links["entries"]]
        assert got[:4] == [(e["kind"], e) for e in expected]
        kind, claw = got[4]
        assert kind == "settlement" and claw["body"]["event"] == "refund"
        assert (
            claw["body"]["amount"] == 999 and claw["body"]["refund"] == refunded["meta"]["refund"]
        )
        assert sum(claw["body"]["clawback"].values()) == 999

        for link in links["entries"]:
            proof = (await client.get(link["proof"])).json()
            leaf = merkle.leaf_hash(jcs.canonical_json(link["entry"]))
            assert base64.b64decode(proof["leaf_hash"]) == leaf
            path = [base64.b64decode(h) for h in proof["proof"]]
            assert merkle.verify_inclusion(leaf, link["index"], size, path, root)

        # Another party of the order sees the same; a stranger does not see it at all.
        r = await client.get(f"/api/v1/orders/{order['id']}/ledger", headers=shop.supplier.headers)
        assert r.json()["entries"] == links["entries"]
        r = await client.get(f"/api/v1/orders/{order['id']}/ledger", headers=shop.platform.headers)
        assert r.status_code == 404

    # A new process (a restart) appends nothing again.
    app = client_for(settings)
    async with app as client:
        assert await app.app.state.ledger_feeder.feed() == 0
        assert (await verified_root(client))[0] == size


@pytest.fixture
def pg_only(tmp_path: Path) -> Iterator[DatabaseFactory]:
    require_backend("postgres")
    factory = DatabaseFactory("postgres", tmp_path)
    yield factory
    factory.cleanup()


@pytest.mark.postgres
async def test_a_transaction_that_commits_late_is_still_fed(
    pg_only: DatabaseFactory, tmp_path: Path
) -> None:
    """On PostgreSQL a lower seq can commit after a higher one was read: the feeder
    remembers the gap and picks the row up when it appears. (SQLite serialises writers,
    so there seq order is commit order and no gap can open.)"""
    await _late_commit(await pg_only.new(), tmp_path)


async def _late_commit(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path, **FAST, ledger_feed_interval_seconds=3600)
    app = client_for(settings)
    async with app as client:
        feeder: LedgerFeeder = app.app.state.ledger_feeder
        shop = await create_shop(client, database_url)
        await feeder.feed()
        db = Database(database_url)
        try:
            async with db.engine.connect() as late, db.engine.connect() as early:
                late_tx = await late.begin()
                await late.execute(text(INSERT), event("ord_late", shop))
                async with early.begin():
                    await early.execute(text(INSERT), event("ord_early", shop))
                assert await feeder.feed() == 1
                assert feeder.gaps, "the uncommitted row's seq is remembered"
                await late_tx.commit()
            assert await feeder.feed() == 1
            assert not feeder.gaps
        finally:
            await db.dispose()
        refs = await rows(database_url, "SELECT record_id FROM ledger_refs ORDER BY idx")
        assert [r[0] for r in refs][-2:] == ["ord_early", "ord_late"]


INSERT = """INSERT INTO order_outbox (event_id, type, order_id, payload, created_at)
VALUES (:event_id, 'order_created', :order_id, :payload, now())"""


def event(order_id: str, shop: Any) -> dict[str, Any]:
    payload = {
        "id": f"evt_{order_id}",
        "ts": "2026-11-27T12:00:00.000Z",
        "session": "shop:x",
        "type": "order_created",
        "user": "usr_x",
        "product": shop.product_id,
        "order": order_id,
        "amount": 100,
        "qty": 1,
        "meta": {"merchant": shop.merchant.tenant_id, "supplier": shop.supplier.tenant_id},
    }
    return {"event_id": payload["id"], "order_id": order_id, "payload": json.dumps(payload)}
