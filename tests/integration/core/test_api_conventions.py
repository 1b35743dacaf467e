"""API conventions on both engines: problem+json for every kind of bad input (and no
state change), Idempotency-Key, request ids, cursors, health and the OpenAPI docs."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from daihuo.config import Settings

from tests.conftest import client_for, make_settings
from tests.fixtures import PASSWORD, create_user
from tests.integration.tenancy.test_auth import count_users

PROBLEM = "application/problem+json"


def assert_problem(r: httpx.Response, status: int, type_: str | None = None) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, object] = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    if type_:
        assert body["type"] == f"urn:daihuo:problem:{type_}"
    return body


SIGNUP = "/api/v1/auth/signup"


def signup_body(**over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "email": "ann@example.test",
        "password": PASSWORD,
        "display_name": "安",
    }
    body.update(over)
    return body


@pytest.mark.parametrize(
    ("content", "status", "type_"),
    [
        (b'{"email": "ann@example.test",', 400, "malformed-json"),
        (b"\xff\xfe{not utf-8}", 400, "malformed-json"),
        (b"[]", 422, "validation-error"),
        (json.dumps(signup_body(password=12345678)).encode(), 422, "validation-error"),
        (json.dumps(signup_body(is_admin=True)).encode(), 422, "validation-error"),
        (json.dumps(signup_body(display_name="a\x00b")).encode(), 422, "validation-error"),
        (json.dumps(signup_body(display_name="x" * 101)).encode(), 422, "validation-error"),
        (json.dumps(signup_body(email="x" * 300 + "@example.test")).encode(), 422, None),
        (json.dumps(signup_body(email="not-an-email")).encode(), 422, None),
        (json.dumps(signup_body(password="short")).encode(), 422, None),
        (json.dumps(signup_body(tenant={"kind": "merchant"})).encode(), 422, None),
    ],
    ids=[
        "truncated-json", "non-utf8", "wrong-top-level-type", "wrong-field-type", "unknown-field",
        "nul-character", "too-long-name", "too-long-email", "bad-email", "short-password",
        "missing-nested-field",
    ],
)  # fmt: skip
async def test_bad_bodies_get_a_problem_and_create_nothing(
    client: httpx.AsyncClient, settings: Settings, content: bytes, status: int, type_: str | None
) -> None:
    r = await client.post(SIGNUP, content=content, headers={"content-type": "application/json"})
    body = assert_problem(r, status, type_)
    assert "request_id" in body
    assert await count_users(settings.database_url) == 0


async def test_sql_looking_strings_are_just_text(client: httpx.AsyncClient) -> None:
    name = "Robert'); DROP TABLE users;--"
    r = await client.post(SIGNUP, json=signup_body(display_name=name))
    assert r.status_code == 201
    assert r.json()["user"]["display_name"] == name
    r = await client.post(
        SIGNUP, json=signup_body(email="b@example.test", display_name="' OR 1=1 --")
    )
    assert r.status_code == 201


async def test_an_oversized_body_is_refused_before_anything_runs(tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(database_url, tmp_path, max_body_bytes=2048)
    async with client_for(settings) as client:
        big = signup_body(display_name="大" * 5000)
        r = await client.post(SIGNUP, json=big)
        assert_problem(r, 413, "payload-too-large")

        async def chunks():  # type: ignore[no-untyped-def]
            payload = json.dumps(big).encode()
            for i in range(0, len(payload), 512):
                yield payload[i : i + 512]

        r = await client.post(
            SIGNUP, content=chunks(), headers={"content-type": "application/json"}
        )
        assert_problem(r, 413, "payload-too-large")
    assert await count_users(database_url) == 0


async def test_unknown_routes_and_methods_are_problems_too(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "not-found")
    assert_problem(await client.delete("/api/v1/auth/signup"), 405, "method-not-allowed")


async def test_the_same_idempotency_key_and_body_replays_the_first_response(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = {"Idempotency-Key": "signup-1"}
    first = await client.post(SIGNUP, json=signup_body(), headers=headers)
    second = await client.post(SIGNUP, json=signup_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await count_users(settings.database_url) == 1
    other = await client.post(SIGNUP, json=signup_body(email="z@example.test"), headers=headers)
    assert_problem(other, 409, "idempotency-key-reused")
    assert await count_users(settings.database_url) == 1


async def test_concurrent_requests_with_one_key_create_one_thing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    owner = await create_user(client, label="shop", tenant_kind="merchant")
    staff = await create_user(client, label="staff")
    staff_email = staff.email
    headers = {**owner.headers, "Idempotency-Key": "add-staff"}
    body = {"email": staff_email, "role": "viewer"}
    results = await asyncio.gather(
        *[client.post("/api/v1/members", json=body, headers=headers) for _ in range(8)]
    )
    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    created = {r.json()["id"] for r in results if r.status_code == 201}
    assert len(created) == 1, "every success is the same member (replays)"
    members = (await client.get("/api/v1/members", headers=owner.headers)).json()["items"]
    assert [m["email"] for m in members].count(staff_email) == 1


async def test_idempotency_keys_are_per_caller(client: httpx.AsyncClient) -> None:
    a = await create_user(client, label="a", tenant_kind="merchant")
    b = await create_user(client, label="b", tenant_kind="merchant")
    staff = await create_user(client, label="staff")
    body = {"email": staff.email, "role": "viewer"}
    made = []
    for owner in (a, b):
        r = await client.post(
            "/api/v1/members", json=body, headers={**owner.headers, "Idempotency-Key": "same"}
        )
        assert r.status_code == 201 and "idempotent-replayed" not in r.headers
        made.append(r.json()["id"])
    assert made[0] != made[1], "the second caller's request ran; it was not a replay"


async def test_a_bad_idempotency_key_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.post(SIGNUP, json=signup_body(), headers={"Idempotency-Key": "x" * 300})
    assert_problem(r, 400, "bad-idempotency-key")


async def test_request_ids_are_echoed_or_made(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/healthz", headers={"X-Request-Id": "bad id with spaces\x01"})
    assert (
        r.headers["x-request-id"] != "bad id with spaces\x01"
        and len(r.headers["x-request-id"]) == 26
    )


async def test_cursor_pagination_walks_every_row_once(client: httpx.AsyncClient) -> None:
    owner = await create_user(client, label="shop", tenant_kind="merchant")
    for i in range(5):
        u = await create_user(client, label=f"m{i}")
        r = await client.post(
            "/api/v1/members", json={"email": u.email, "role": "viewer"}, headers=owner.headers
        )
        assert r.status_code == 201
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/members", params=params, headers=owner.headers)).json()
        assert len(page["items"]) <= 2
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 6 and seen == sorted(seen)


@pytest.mark.parametrize("cursor", ["!!!", "%%%", "AAAA" * 60, "\u00e9"])
async def test_a_forged_cursor_is_a_bad_request(client: httpx.AsyncClient, cursor: str) -> None:
    owner = await create_user(client, label="shop", tenant_kind="merchant")
    r = await client.get("/api/v1/members", params={"cursor": cursor}, headers=owner.headers)
    assert r.status_code in (400, 422) and r.headers["content-type"] == PROBLEM


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"database": "ok"}


async def test_readiness_fails_when_redis_is_configured_but_down(tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(database_url, tmp_path, redis_url="redis://127.0.0.1:1/0")
    async with client_for(settings) as client:
        r = await client.get("/readyz")
    body = assert_problem(r, 503, "not-ready")
    assert body["checks"] == {"database": "ok", "redis": "error: ConnectionError"}


@pytest.mark.redis
async def test_readiness_checks_a_real_redis(tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    import os

    url = os.environ.get("DAIHUO_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis tests need DAIHUO_TEST_REDIS_URL (set by .ci/run)")
    async with client_for(make_settings(database_url, tmp_path, redis_url=url)) as client:
        r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_openapi_and_docs_are_served_without_a_cdn(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    assert "/api/v1/auth/signup" in spec["paths"]
    html = (await client.get("/api/docs")).text
    assert "/api/docs-static/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    js = await client.get("/api/docs-static/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
