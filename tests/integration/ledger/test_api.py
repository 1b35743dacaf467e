"""The public log API: what anyone can fetch without signing in, and the precise
problem types for requests that name something outside the log."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from daihuo.ledger import merkle, note
from daihuo.ledger.service import Ledger

from tests.conftest import DatabaseFactory, client_for
from tests.integration.ledger.support import entry, ledger_settings, stored_leaf_hashes

PREFIX = "/api/v1/ledger"


class Running:
    def __init__(self, client: httpx.AsyncClient, ledger: Ledger, url: str) -> None:
        self.client, self.ledger, self.url = client, ledger, url


@pytest.fixture
async def log(databases: DatabaseFactory, tmp_path: Path) -> AsyncIterator[Running]:
    url = await databases.new()
    app = client_for(ledger_settings(url, tmp_path))
    async with app as client:
        yield Running(client, app.app.state.ledger, url)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def keys(client: httpx.AsyncClient) -> list[note.Verifier]:
    r = await client.get(f"{PREFIX}/keys")
    assert r.status_code == 200
    return [note.parse_verifier_key(k) for k in r.json()["keys"]]


async def checkpoint(client: httpx.AsyncClient) -> note.Checkpoint:
    r = await client.get(f"{PREFIX}/checkpoint")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    return note.Checkpoint.parse(note.open_note(r.text, await keys(client)).text)


def assert_problem(r: httpx.Response, status: int, slug: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == f"urn:daihuo:problem:{slug}"


async def test_an_empty_log_serves_a_signed_checkpoint_of_the_empty_tree(log: Running) -> None:
    cp = await checkpoint(log.client)
    assert (cp.origin, cp.size, cp.root) == ("daihuo.local/log", 0, merkle.EMPTY_ROOT)
    r = await log.client.get(f"{PREFIX}/entries", params={"start": 0, "end": 10})
    assert r.json() == {"start": 0, "end": 0, "size": 0, "entries": []}


async def test_checkpoint_entries_and_proofs_verify_with_the_published_key(log: Running) -> None:
    await log.ledger.append_entries([entry(i) for i in range(11)])
    await log.ledger.append_entries([entry(i) for i in range(11, 20)])
    cp = await checkpoint(log.client)
    assert cp.size == 20
    hashes = await stored_leaf_hashes(log.url)

    r = await log.client.get(f"{PREFIX}/entries", params={"start": 3, "end": 7})
    page = r.json()
    assert (page["start"], page["end"], page["size"]) == (3, 7, 20)
    for item in page["entries"]:
        data = base64.b64decode(item["data"])
        assert data == entry(item["index"])
        assert base64.b64decode(item["leaf_hash"]) == merkle.leaf_hash(data)

    for index in (0, 7, 19):
        r = await log.client.get(
            f"{PREFIX}/proof/inclusion", params={"index": index, "size": cp.size}
        )
        body = r.json()
        proof = [base64.b64decode(p) for p in body["proof"]]
        assert body["leaf_hash"] == b64(hashes[index])
        assert proof == merkle.inclusion_proof(hashes, index, cp.size)
        assert merkle.verify_inclusion(hashes[index], index, cp.size, proof, cp.root)

    r = await log.client.get(f"{PREFIX}/proof/consistency", params={"old": 11, "new": 20})
    body = r.json()
    proof = [base64.b64decode(p) for p in body["proof"]]
    assert (body["old"], body["new"]) == (11, 20)
    assert merkle.verify_consistency(11, 20, merkle.root(hashes[:11]), cp.root, proof)
    r = await log.client.get(f"{PREFIX}/proof/consistency", params={"old": 20, "new": 20})
    assert r.json()["proof"] == []


async def test_entries_pages_are_bounded_and_stop_at_the_signed_size(log: Running) -> None:
    await log.ledger.append_entries([entry(i) for i in range(1005)])
    r = await log.client.get(f"{PREFIX}/entries", params={"start": 2, "end": 5000})
    page = r.json()
    assert (page["start"], page["end"], len(page["entries"])) == (2, 1002, 1000)
    r = await log.client.get(f"{PREFIX}/entries", params={"start": 1002, "end": 5000})
    assert [e["index"] for e in r.json()["entries"]] == [1002, 1003, 1004]
    r = await log.client.get(f"{PREFIX}/entries", params={"start": 1005, "end": 1006})
    assert r.json()["entries"] == []


@pytest.mark.parametrize(
    ("path", "params", "status", "slug"),
    [
        ("entries", {"start": 4, "end": 2}, 400, "ledger-bad-range"),
        ("entries", {"start": 6, "end": 9}, 400, "ledger-bad-range"),
        ("entries", {"start": -1, "end": 2}, 422, "validation-error"),
        ("entries", {"start": "x", "end": 2}, 422, "validation-error"),
        ("entries", {"start": 0}, 422, "validation-error"),
        ("proof/inclusion", {"index": 5, "size": 5}, 400, "ledger-index-out-of-range"),
        ("proof/inclusion", {"index": 0, "size": 6}, 400, "ledger-size-beyond-log"),
        ("proof/inclusion", {"index": 0, "size": 0}, 400, "ledger-bad-tree-size"),
        ("proof/inclusion", {"index": 0, "size": 2**63}, 422, "validation-error"),
        ("proof/inclusion", {"index": "1.5", "size": 5}, 422, "validation-error"),
        ("proof/consistency", {"old": 0, "new": 3}, 400, "ledger-bad-tree-size"),
        ("proof/consistency", {"old": 4, "new": 3}, 400, "ledger-bad-tree-size"),
        ("proof/consistency", {"old": 2, "new": 9}, 400, "ledger-size-beyond-log"),
        ("proof/consistency", {"new": 3}, 422, "validation-error"),
    ],
)
async def test_requests_outside_the_log_get_precise_problem_types(
    log: Running, path: str, params: dict[str, object], status: int, slug: str
) -> None:
    await log.ledger.append_entries([entry(i) for i in range(5)])
    r = await log.client.get(f"{PREFIX}/{path}", params=params)
    assert_problem(r, status, slug)


async def test_keys_list_the_signing_key_first(log: Running) -> None:
    r = await log.client.get(f"{PREFIX}/keys")
    body = r.json()
    assert log.ledger.keyring is not None
    assert body == {
        "origin": "daihuo.local/log",
        "keys": [v.key_string() for v in log.ledger.keyring.published],
    }


async def test_no_credentials_are_needed_and_bad_ones_are_ignored(log: Running) -> None:
    await log.ledger.append_entry(entry(0))
    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        r = await log.client.get(f"{PREFIX}/proof/inclusion?index=0&size=1", headers=headers)
        assert r.status_code == 200


async def test_a_halted_log_still_serves_what_it_signed(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    settings = ledger_settings(url, tmp_path)
    app = client_for(settings)
    async with app as client:
        await app.app.state.ledger.append_entries([entry(0), entry(1)])
    (settings.data_dir / "ledger.key").chmod(0o640)
    app = client_for(settings)
    async with app as client:
        assert app.app.state.ledger.halted is not None
        r = await client.get(f"{PREFIX}/checkpoint")
        assert r.status_code == 200 and "\n2\n" in r.text
        assert_problem(await client.get(f"{PREFIX}/keys"), 503, "ledger-key")
