"""Batches and trace steps: the API, the ``trace`` entries in the transparency log, the
recovery of steps whose append was lost, and the public provenance data and page."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy import text

from daihuo.catalog import trace
from daihuo.catalog.repository import TraceRepository
from daihuo.config import Settings
from daihuo.core.db import Database
from daihuo.ledger import merkle

from tests.conftest import client_for, make_settings
from tests.fixtures import create_user
from tests.integration.catalog.trace_support import (
    PDF,
    PNG,
    Traced,
    all_leaves,
    create_traced_batch,
    expected_entry,
    leaf,
    record_step,
    signed_checkpoint,
    upload_evidence,
)
from tests.integration.orders.shop import FAST, create_platform_admin

TRACE_TABLES = ("trace_batches", "trace_steps", "trace_evidence", "ledger_leaves")


async def table_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            return {
                t: sorted(map(tuple, (await conn.execute(text(f"SELECT * FROM {t}"))).all()))
                for t in TRACE_TABLES
            }
    finally:
        await db.dispose()


async def test_a_supplier_records_a_batch_whose_steps_land_in_the_log_as_specified(
    client: httpx.AsyncClient,
) -> None:
    traced = await create_traced_batch(client)
    assert traced.batch["code"] == "LOT-2026-11" and traced.batch["steps"] == []
    assert traced.batch["page_url"] == f"/p/{traced.batch['public_id']}"

    r = await upload_evidence(client, traced, PNG)
    assert r.status_code == 201, r.text
    photo = r.json()
    assert photo["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert (photo["size"], photo["content_type"]) == (len(PNG), "image/png")
    r = await upload_evidence(client, traced, PDF, "application/pdf")
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["content_type"] == "application/pdf"

    r1 = await record_step(
        client, traced, step="sourced", at="2026-11-19T06:00:00Z", place="福建安溪茶园"
    )
    r2 = await record_step(
        client, traced, step="inspected", place="安溪质检站", evidence=[report["id"], photo["id"]]
    )
    assert r1.status_code == r2.status_code == 201, (r1.text, r2.text)
    first, second = r1.json(), r2.json()
    assert first["leaf_index"] is not None and second["leaf_index"] == first["leaf_index"] + 1
    assert first["actor"] == traced.supplier.tenant_id
    assert {e["id"] for e in second["evidence"]} == {photo["id"], report["id"]}

    # The leaves are exactly the spec's entries (RFC 8785 JSON), built here independently.
    assert await leaf(client, first["leaf_index"]) == expected_entry(traced, first)
    assert await leaf(client, second["leaf_index"]) == expected_entry(traced, second, [PNG, PDF])

    # Each is provably in the signed tree.
    checkpoint = await signed_checkpoint(client)
    for step in (first, second):
        r = await client.get(
            "/api/v1/ledger/proof/inclusion",
            params={"index": step["leaf_index"], "size": checkpoint.size},
        )
        proof = [base64.b64decode(p) for p in r.json()["proof"]]
        data = await leaf(client, step["leaf_index"])
        assert merkle.verify_inclusion(
            merkle.leaf_hash(data), step["leaf_index"], checkpoint.size, proof, checkpoint.root
        )

    r = await client.get(traced.batch_url, headers=traced.supplier.headers)
    assert r.status_code == 200
    assert [s["id"] for s in r.json()["steps"]] == [first["id"], second["id"]]  # by time
    r = await client.get(
        f"/api/v1/products/{traced.product['id']}/batches", headers=traced.supplier.headers
    )
    assert [b["id"] for b in r.json()["items"]] == [traced.batch["id"]]


BAD_STEPS: list[tuple[dict[str, Any], int, str]] = [
    ({"step": "teleported"}, 422, "unknown-trace-step"),
    ({"at": "2099-01-01T00:00:00+08:00"}, 422, "step-time-out-of-range"),
    ({"at": "1999-12-31T23:59:59Z"}, 422, "step-time-out-of-range"),
    ({"at": "2026-11-20T08:30:00"}, 422, "validation-error"),  # no timezone
    ({"place": ""}, 422, "validation-error"),
    ({"evidence": ["evd_nope"]}, 422, "invalid-evidence"),
]


async def test_bad_input_is_refused_with_a_problem_and_changes_nothing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    traced = await create_traced_batch(client)
    other = await create_traced_batch(client, code="OTHER", supplier=traced.supplier)
    r = await upload_evidence(client, other, PNG)
    foreign_evidence = r.json()["id"]
    r = await record_step(client, traced)
    assert r.status_code == 201
    used = await upload_evidence(client, traced, PNG)
    r = await record_step(client, traced, evidence=[used.json()["id"]])
    assert r.status_code == 201
    before = await table_rows(settings.database_url)

    skew = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    cases = [
        *BAD_STEPS,
        ({"at": skew}, 422, "step-time-out-of-range"),
        ({"evidence": [foreign_evidence]}, 422, "invalid-evidence"),  # another batch's file
        ({"evidence": [used.json()["id"]]}, 422, "invalid-evidence"),  # already used
    ]
    for body, status, slug in cases:
        r = await record_step(client, traced, **body)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"].endswith(slug), (body, r.json())

    for data, status, slug in [
        (b"", 400, "empty-evidence"),
        (b"GIF00a not really", 415, "unsupported-evidence"),
        (b"\x00" * (settings.max_upload_bytes + 1), 413, "payload-too-large"),
    ]:
        r = await upload_evidence(client, traced, data)
        assert r.status_code == status, r.text
        assert r.json()["type"].endswith(slug)
    r = await client.post(
        f"/api/v1/products/{traced.product['id']}/batches",
        json={"code": traced.batch["code"], "quantity": 1},
        headers=traced.supplier.headers,
    )
    assert r.status_code == 409 and r.json()["type"].endswith("duplicate-batch-code")
    assert await table_rows(settings.database_url) == before


async def test_evidence_over_the_trace_limit_is_refused_even_when_the_body_limit_allows_it(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, max_body_bytes=9 * 1024 * 1024)
    async with client_for(settings) as client:
        traced = await create_traced_batch(client)
        big = PNG + b"\x00" * (8 * 1024 * 1024 + 1 - len(PNG))
        r = await upload_evidence(client, traced, big)
        assert r.status_code == 413 and r.json()["type"].endswith("evidence-too-large")
        r = await upload_evidence(client, traced, big[:-1])
        assert r.status_code == 201


async def test_other_tenants_cannot_see_or_write_a_suppliers_batches(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    traced = await create_traced_batch(client)
    r = await record_step(client, traced)
    assert r.status_code == 201
    rival = await create_user(client, label="rival", tenant_kind="supplier")
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    before = await table_rows(settings.database_url)
    step = {"step": "packed", "at": "2026-11-21T00:00:00Z", "place": "x"}
    for who, status in ((rival, 404), (merchant, 403)):
        for method, path, body in (
            ("GET", traced.batch_url, None),
            ("POST", f"{traced.batch_url}/steps", step),
            ("GET", f"/api/v1/products/{traced.product['id']}/batches", None),
            (
                "POST",
                f"/api/v1/products/{traced.product['id']}/batches",
                {"code": "X", "quantity": 1},
            ),
        ):
            r = await client.request(method, path, json=body, headers=who.headers)
            assert r.status_code == status, (who.email, method, path, r.text)
    r = await client.post(
        f"{traced.batch_url}/evidence",
        content=PNG,
        headers={**rival.headers, "content-type": "image/png"},
    )
    assert r.status_code == 404
    r = await client.get(traced.batch_url)
    assert r.status_code == 401
    assert await table_rows(settings.database_url) == before


async def test_the_provenance_data_and_page_are_public_and_link_to_working_proofs(
    client: httpx.AsyncClient,
) -> None:
    traced = await create_traced_batch(client)
    r = await client.post(
        f"/api/v1/products/{traced.product['id']}/images",
        content=PNG,
        headers={**traced.supplier.headers, "content-type": "image/png"},
    )
    assert r.status_code == 201
    photo = (await upload_evidence(client, traced, PNG)).json()
    s1 = (await record_step(client, traced, step="produced", evidence=[photo["id"]])).json()
    s2 = (await record_step(client, traced, step="shipped", place="厦门港")).json()
    public_id = traced.batch["public_id"]

    r = await client.get(f"/api/v1/provenance/{public_id}")  # no credentials
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["product"]["title"] == "高山乌龙茶"
    assert data["product"]["supplier_name"] == "supplier 的店"
    assert data["product"]["image_url"] == f"/p/{public_id}/image"
    assert [s["id"] for s in data["steps"]] == [s1["id"], s2["id"]]
    checkpoint = await signed_checkpoint(client)
    assert data["tree_size"] == checkpoint.size
    for step in data["steps"]:
        entry = await client.get(step["entry_url"])
        raw = base64.b64decode(entry.json()["entries"][0]["data"])
        proof = (await client.get(step["proof_url"])).json()
        assert proof["index"] == step["leaf_index"]
        assert merkle.verify_inclusion(
            merkle.leaf_hash(raw),
            step["leaf_index"],
            checkpoint.size,
            [base64.b64decode(p) for p in proof["proof"]],
            checkpoint.root,
        )
    evidence = data["steps"][0]["evidence"][0]
    r = await client.get(evidence["url"])
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == evidence["sha256"]
    assert (await client.get(f"/p/{public_id}/image")).content == PNG

    page = await client.get(f"/p/{public_id}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="zh-CN">' in html and "高山乌龙茶" in html and "生产" in html
    assert "发货" in html and 'href="?lang=en"' in html
    timeline = html.split('<ol class="timeline">')[1].split("</ol>")[0]
    assert timeline.count('data-status="verifying"') == 2  # only the browser's check decides
    assert "已验证" not in timeline and 'data-status="verified"' not in html
    assert (
        "/static/pages/provenance.js" in html
        and "http" not in html.split("<body>")[1].split("<footer>")[0]
    )
    assert "script-src 'self'" in page.headers["content-security-policy"]
    en = (await client.get(f"/p/{public_id}", params={"lang": "en"})).text
    assert '<html lang="en">' in en and "Produced" in en and "Shipped" in en
    js = await client.get("/static/pages/provenance.js")
    assert js.status_code == 200 and "Ed25519" in js.text

    qr = await client.get(f"/p/{public_id}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    svg = ElementTree.fromstring(qr.content)  # noqa: S314 - our own server's SVG
    assert svg.tag.endswith("svg")
    other = await create_traced_batch(client, code="B2", supplier=traced.supplier)
    assert (await client.get(f"/p/{other.batch['public_id']}/qr.svg")).content != qr.content

    missing = "0" * trace.PUBLIC_ID_LENGTH
    assert (await client.get(f"/p/{missing}")).status_code == 404
    assert (await client.get(f"/p/{missing}/qr.svg")).status_code == 404
    r = await client.get(f"/api/v1/provenance/{missing}")
    assert r.status_code == 404 and r.json()["type"].endswith("batch-not-found")


async def _app_step(client: httpx.AsyncClient) -> tuple[Traced, dict[str, Any]]:
    traced = await create_traced_batch(client)
    r = await record_step(client, traced, step="packed")
    assert r.status_code == 201, r.text
    return traced, r.json()


async def test_recovery_appends_a_step_whose_append_was_lost(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with client_for(settings) as client:
        # The process "dies" between the commit and the append: the hook never runs.
        with monkeypatch.context() as m:
            m.setattr(trace.ledger, "append_after_commit", lambda *a, **k: None)
            traced, step = await _app_step(client)
        assert step["leaf_index"] is None
        assert await all_leaves(client) == []
        # A periodic pass leaves a step this young alone (its append may be in flight).
        app = client._transport.app  # type: ignore[attr-defined]
        assert await trace.recover_steps(app.state.ledger, False) == 0

    trace._IN_FLIGHT.clear()  # a restarted process has no append in flight
    restarted = client_for(settings)
    async with restarted as client:
        await restarted.app.state.ledger.recovered.wait()
        r = await client.get(traced.batch_url, headers=traced.supplier.headers)
        index = r.json()["steps"][0]["leaf_index"]
        assert index == 0
        assert await all_leaves(client) == [expected_entry(traced, step)]
        # Running it again changes nothing.
        assert await restarted.app.state.ledger.recover_now(at_start=True) == 0
        assert len(await all_leaves(client)) == 1


async def test_recovery_finds_an_appended_entry_whose_index_was_lost_instead_of_appending_twice(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with client_for(settings) as client:
        other = await create_traced_batch(client, code="EARLIER")
        assert (await record_step(client, other)).status_code == 201
        # The entry is appended, then the process dies before the index is stored.
        with monkeypatch.context() as m:

            async def lost(self: TraceRepository, step_id: str, index: int) -> bool:
                return False

            m.setattr(TraceRepository, "set_leaf_index", lost)
            traced, step = await _app_step(client)
        assert step["leaf_index"] is None
        assert len(await all_leaves(client)) == 2

    restarted = client_for(settings)
    async with restarted as client:
        await restarted.app.state.ledger.recovered.wait()
        r = await client.get(traced.batch_url, headers=traced.supplier.headers)
        assert r.json()["steps"][0]["leaf_index"] == 1
        leaves = await all_leaves(client)
        assert len(leaves) == 2 and leaves[1] == expected_entry(traced, step)


async def test_a_step_recorded_while_the_log_is_down_is_kept_and_logged_later(
    databases: Any, tmp_path: Path
) -> None:
    url = await databases.new()
    settings = make_settings(url, tmp_path, **FAST)
    async with client_for(settings) as client:
        traced = await create_traced_batch(client)
        ledger = client._transport.app.state.ledger  # type: ignore[attr-defined]
        ledger.halted = "operator investigating"
        r = await record_step(client, traced)
        assert r.status_code == 201 and r.json()["leaf_index"] is None
        step = r.json()
        await create_platform_admin(client, url)  # the app keeps working
    restarted = client_for(settings)
    async with restarted as client:
        await restarted.app.state.ledger.recovered.wait()
        assert await all_leaves(client) == [expected_entry(traced, step)]


async def test_uploads_may_be_larger_than_other_bodies_up_to_their_own_limit(
    database_url: str, tmp_path: Path
) -> None:
    """A phone's photo is bigger than any JSON body: the upload routes take up to
    max_upload_bytes, every other route max_body_bytes."""
    settings = make_settings(
        database_url, tmp_path, max_body_bytes=4096, max_upload_bytes=64 * 1024
    )
    async with client_for(settings) as client:
        traced = await create_traced_batch(client)
        photo = PNG + b"\x00" * (10_000 - len(PNG))
        r = await upload_evidence(client, traced, photo)
        assert r.status_code == 201, r.text
        r = await upload_evidence(client, traced, PNG + b"\x00" * (64 * 1024 + 1 - len(PNG)))
        assert r.status_code == 413 and r.json()["type"].endswith("payload-too-large")
        r = await client.post(
            f"/api/v1/products/{traced.product['id']}/batches",
            json={"code": "LOT-BIG", "quantity": 1, "padding": "x" * 5000},
            headers=traced.supplier.headers,
        )
        assert r.status_code == 413 and r.json()["type"].endswith("payload-too-large")
