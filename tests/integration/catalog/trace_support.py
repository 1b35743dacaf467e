"""Helpers for the traceability tests: a supplier's product with a batch, steps recorded
through the API, and the log read back through its public API."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from daihuo.ledger import note
from daihuo.ledger.jcs import canonical_json

from tests.fixtures import Account, create_user
from tests.integration.orders.shop import product_body

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17 + b"trace-photo"
PDF = b"%PDF-1.7\n% inspection report\n1 0 obj<<>>endobj\n%%EOF\n"


@dataclass
class Traced:
    supplier: Account
    product: dict[str, Any]
    batch: dict[str, Any]

    @property
    def batch_url(self) -> str:
        return f"/api/v1/products/{self.product['id']}/batches/{self.batch['id']}"


async def create_traced_batch(
    client: httpx.AsyncClient, *, code: str = "LOT-2026-11", supplier: Account | None = None
) -> Traced:
    supplier = supplier or await create_user(client, label="supplier", tenant_kind="supplier")
    r = await client.post(
        "/api/v1/products", json=product_body(title="高山乌龙茶"), headers=supplier.headers
    )
    assert r.status_code == 201, r.text
    product = r.json()
    r = await client.post(
        f"/api/v1/products/{product['id']}/batches",
        json={"code": code, "quantity": 500, "notes": "春茶，手工采摘"},
        headers=supplier.headers,
    )
    assert r.status_code == 201, r.text
    return Traced(supplier, product, r.json())


async def upload_evidence(
    client: httpx.AsyncClient, traced: Traced, data: bytes, content_type: str = "image/png"
) -> httpx.Response:
    return await client.post(
        f"{traced.batch_url}/evidence",
        content=data,
        headers={**traced.supplier.headers, "content-type": content_type},
    )


async def record_step(client: httpx.AsyncClient, traced: Traced, **body: Any) -> httpx.Response:
    payload = {"step": "produced", "at": "2026-11-20T08:30:00.123456+08:00", "place": "福建安溪"}
    payload.update(body)
    return await client.post(
        f"{traced.batch_url}/steps", json=payload, headers=traced.supplier.headers
    )


def millis(ts: str | datetime) -> str:
    """A time as the log spells it: UTC, milliseconds, ``Z``."""
    dt = datetime.fromisoformat(ts.replace("Z", "+00:00")) if isinstance(ts, str) else ts
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def expected_entry(traced: Traced, step: dict[str, Any], evidence: list[bytes] = ()) -> bytes:  # type: ignore[assignment]
    """The spec's ``trace`` entry for a step, built here from the spec, not the code."""
    body: dict[str, Any] = {
        "product": traced.product["id"],
        "batch": traced.batch["public_id"],
        "step": step["step"],
        "at": millis(step["at"]),
        "place": step["place"],
        "actor": traced.supplier.tenant_id,
    }
    if evidence:
        body["evidence"] = sorted(hashlib.sha256(d).hexdigest() for d in evidence)
    entry = {
        "kind": "trace",
        "tenant": traced.supplier.tenant_id,
        "id": step["id"],
        "ts": millis(step["recorded_at"]),
        "body": body,
    }
    return canonical_json(entry)


async def leaf(client: httpx.AsyncClient, index: int) -> bytes:
    r = await client.get("/api/v1/ledger/entries", params={"start": index, "end": index + 1})
    assert r.status_code == 200, r.text
    entries = r.json()["entries"]
    assert len(entries) == 1 and entries[0]["index"] == index
    return base64.b64decode(entries[0]["data"])


async def all_leaves(client: httpx.AsyncClient) -> list[bytes]:
    r = await client.get("/api/v1/ledger/entries", params={"start": 0, "end": 1000})
    assert r.status_code == 200, r.text
    return [base64.b64decode(e["data"]) for e in r.json()["entries"]]


async def signed_checkpoint(client: httpx.AsyncClient) -> note.Checkpoint:
    keys = (await client.get("/api/v1/ledger/keys")).json()["keys"]
    verifiers = [note.parse_verifier_key(k) for k in keys]
    text = (await client.get("/api/v1/ledger/checkpoint")).text
    return note.Checkpoint.parse(note.open_note(text, verifiers).text)
