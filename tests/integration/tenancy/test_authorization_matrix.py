"""The authorization matrix: for every endpoint and every kind of caller, the exact
status — and, whenever a request is refused, proof that nothing changed.

Adding an endpoint without adding it here fails ``test_every_api_route_is_in_the_matrix``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from daihuo.app import create_app
from daihuo.core.db import Database
from daihuo.models import metadata

from tests.conftest import DatabaseFactory, client_for, make_settings
from tests.integration.tenancy.world import World, build_world

ACTORS = [
    "anonymous", "consumer", "viewer", "operator", "admin", "owner", "api_key_read",
    "platform_admin",
]  # fmt: skip


@dataclass(frozen=True)
class Spec:
    path: str  # with {placeholders} from World.ids
    body: dict[str, Any] | None
    expect: dict[str, int]  # actor -> status


def _statuses(
    ok: int, allowed: set[str], *, anon: int = 401, others: int = 403, **extra: int
) -> dict[str, int]:
    out = {a: (ok if a in allowed else others) for a in ACTORS}
    out["anonymous"] = anon if "anonymous" not in allowed else ok
    out.update(extra)
    return out


READERS = {"viewer", "operator", "admin", "owner", "api_key_read", "platform_admin"}
MANAGERS = {"admin", "owner", "platform_admin"}
USERS = {"consumer", "viewer", "operator", "admin", "owner", "platform_admin"}

MATRIX: dict[tuple[str, str], Spec] = {
    # Public: anyone may sign up and sign in (with their own credentials).
    ("POST", "/api/v1/auth/signup"): Spec(
        "/api/v1/auth/signup",
        {"email": "fresh@example.test", "password": "long enough pw", "display_name": "新用户"},
        _statuses(201, set(ACTORS)),
    ),
    ("POST", "/api/v1/auth/token"): Spec(
        "/api/v1/auth/token",
        {"email": "{email_owner_a}", "password": "correct horse battery"},
        _statuses(200, set(ACTORS)),
    ),
    ("POST", "/api/v1/auth/login"): Spec(
        "/api/v1/auth/login",
        {"email": "{email_owner_a}", "password": "correct horse battery"},
        _statuses(200, set(ACTORS)),
    ),
    ("POST", "/api/v1/auth/logout"): Spec(
        "/api/v1/auth/logout", None, _statuses(204, USERS, api_key_read=403)
    ),
    ("GET", "/api/v1/me"): Spec("/api/v1/me", None, _statuses(200, USERS, api_key_read=403)),
    # The caller's own tenant.
    ("GET", "/api/v1/tenant"): Spec("/api/v1/tenant", None, _statuses(200, READERS)),
    ("PATCH", "/api/v1/tenant"): Spec("/api/v1/tenant", {"name": "改名"}, _statuses(200, MANAGERS)),
    ("GET", "/api/v1/members"): Spec("/api/v1/members", None, _statuses(200, READERS)),
    ("POST", "/api/v1/members"): Spec(
        "/api/v1/members", {"email": "{email_newcomer}", "role": "viewer"}, _statuses(201, MANAGERS)
    ),
    # Resources addressed by id belong to tenant A: the platform admin (of tenant P)
    # gets 404 like any outsider — it cannot even learn that they exist.
    ("PATCH", "/api/v1/members/{member_id}"): Spec(
        "/api/v1/members/{viewer_member_a}",
        {"role": "operator"},
        _statuses(200, MANAGERS, platform_admin=404),
    ),
    ("DELETE", "/api/v1/members/{member_id}"): Spec(
        "/api/v1/members/{spare_member_a}", None, _statuses(204, MANAGERS, platform_admin=404)
    ),
    ("GET", "/api/v1/api-keys"): Spec("/api/v1/api-keys", None, _statuses(200, MANAGERS)),
    ("POST", "/api/v1/api-keys"): Spec(
        "/api/v1/api-keys", {"name": "k", "scopes": ["tenant:read"]}, _statuses(201, MANAGERS)
    ),
    ("DELETE", "/api/v1/api-keys/{key_id}"): Spec(
        "/api/v1/api-keys/{spare_key_a}", None, _statuses(204, MANAGERS, platform_admin=404)
    ),
    # Platform operators only.
    ("GET", "/api/v1/platform/tenants"): Spec(
        "/api/v1/platform/tenants", None, _statuses(200, {"platform_admin"})
    ),
    ("POST", "/api/v1/platform/tenants"): Spec(
        "/api/v1/platform/tenants",
        {"kind": "supplier", "name": "新供应商", "owner_email": "{email_newcomer}"},
        _statuses(201, {"platform_admin"}),
    ),
}


def _fill(value: Any, world: World) -> Any:
    names = {**world.ids, **{f"email_{k}": v for k, v in world.emails.items()}}
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


AUDIT_COLUMN = ("api_keys", "last_used_at")


async def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a refused request changed nothing."""
    db = Database(url)
    try:
        async with db.session(all_tenants=True) as session:
            out = {}
            for table in metadata.sorted_tables:
                # A key's last-use time is audit data: recorded even when the use is refused.
                columns = [c for c in table.columns if (table.name, c.name) != AUDIT_COLUMN]
                rows = (await session.execute(select(*columns))).all()
                out[table.name] = sorted(tuple(map(repr, r)) for r in rows)
            return out
    finally:
        await db.dispose()


class Templates:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.worlds: dict[str, World] = {}
        self.factories: list[DatabaseFactory] = []

    async def world(self, backend: str) -> World:
        if backend not in self.worlds:
            factory = DatabaseFactory(backend, self.tmp)
            self.factories.append(factory)
            self.worlds[backend] = await build_world(factory, self.tmp)
        return self.worlds[backend]


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    t = Templates(tmp_path_factory.mktemp("worlds"))
    yield t
    for factory in t.factories:
        factory.cleanup()


@pytest.fixture
async def world(backend: str, templates: Templates, databases: DatabaseFactory) -> World:
    template = await templates.world(backend)
    copy = World(
        await databases.new(template=template.url), template.actors, template.ids, template.emails
    )
    return copy


def test_every_api_route_is_in_the_matrix(tmp_path: Path) -> None:
    app = create_app(make_settings("sqlite+aiosqlite:///" + str(tmp_path / "x.db"), tmp_path))
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
    }
    assert routes == set(MATRIX), "add new endpoints to MATRIX with their expected statuses"


@pytest.mark.parametrize("endpoint", list(MATRIX), ids=lambda e: f"{e[0]} {e[1]}")
@pytest.mark.parametrize("actor", ACTORS)
async def test_role_matrix(
    world: World, endpoint: tuple[str, str], actor: str, tmp_path: Path
) -> None:
    spec = MATRIX[endpoint]
    expected = spec.expect[actor]
    method = endpoint[0]
    before = await snapshot(world.url) if expected >= 400 else None
    async with client_for(make_settings(world.url, tmp_path)) as client:
        r = await client.request(
            method,
            _fill(spec.path, world),
            json=_fill(spec.body, world) if spec.body is not None else None,
            headers=world.actors[actor],
        )
    assert r.status_code == expected, f"{actor} {method} {spec.path}: {r.status_code} {r.text}"
    if expected >= 400:
        assert r.headers["content-type"] == "application/problem+json"
        assert await snapshot(world.url) == before, "a refused request changed state"


TENANT_ENDPOINTS = [e for e in MATRIX if e[1] in {
    "/api/v1/tenant", "/api/v1/members", "/api/v1/api-keys",
    "/api/v1/members/{member_id}", "/api/v1/api-keys/{key_id}",
}]  # fmt: skip

CROSS_TARGETS = {
    "/api/v1/members/{member_id}": "/api/v1/members/{member_b}",
    "/api/v1/api-keys/{key_id}": "/api/v1/api-keys/{key_b}",
}


@pytest.mark.parametrize("endpoint", TENANT_ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
async def test_owner_of_a_cannot_touch_tenant_b(
    world: World, endpoint: tuple[str, str], tmp_path: Path
) -> None:
    """Tenant A's owner holds every permission, yet B's rows stay invisible and unchanged."""
    method, route = endpoint
    spec = MATRIX[endpoint]
    before = await snapshot(world.url)
    owner = world.actors["owner"]
    async with client_for(make_settings(world.url, tmp_path)) as client:
        body = _fill(spec.body, world) if spec.body is not None else None
        # 1. Asking to act for tenant B is refused outright.
        r = await client.request(
            method,
            _fill(CROSS_TARGETS.get(route, spec.path), world),
            json=body,
            headers={**owner, "X-Daihuo-Tenant": world.ids["tenant_b"]},
        )
        assert r.status_code == 403, r.text
        assert r.json()["type"] == "urn:daihuo:problem:no-tenant"
        # 2. Addressing B's rows by id from A is a 404, not a 403: existence does not leak.
        if route in CROSS_TARGETS:
            r = await client.request(
                method, _fill(CROSS_TARGETS[route], world), json=body, headers=owner
            )
            assert r.status_code == 404, r.text
            assert await snapshot(world.url) == before
        # 3. Listings from A contain A's rows only.
        if method == "GET" and route in {"/api/v1/members", "/api/v1/api-keys"}:
            r = await client.get(route, headers=owner)
            ids = {item["id"] for item in r.json()["items"]}
            assert ids and world.ids["member_b"] not in ids and world.ids["key_b"] not in ids
        r = await client.get("/api/v1/tenant", headers=owner)
        assert r.json()["id"] == world.ids["tenant_a"]
    if method == "GET":
        assert await snapshot(world.url) == before


async def test_platform_admin_pages_through_every_tenant(world: World, tmp_path: Path) -> None:
    async with client_for(make_settings(world.url, tmp_path)) as client:
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            r = await client.get(
                "/api/v1/platform/tenants", params=params, headers=world.actors["platform_admin"]
            )
            assert r.status_code == 200
            seen += [t["id"] for t in r.json()["items"]]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
    assert len(seen) == len(set(seen)) == 3
    assert set(seen) == {world.ids["tenant_a"], world.ids["tenant_b"], world.ids["tenant_p"]}
