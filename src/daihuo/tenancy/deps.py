"""Authentication and authorization dependencies for every module's endpoints.

Credentials, in the order they are looked at:

* ``Authorization: Bearer dht_…`` — a user's API token (``POST /auth/token``);
* ``Authorization: Bearer dhk_…`` or ``X-API-Key: dhk_…`` — a tenant API key;
* the ``dh_session`` cookie — a browser session (``POST /auth/login``); unsafe
  methods must then echo the CSRF token in ``X-CSRF-Token``.

A user in several tenants picks one with ``X-Daihuo-Tenant``. Once the principal
is known the request's database session is scoped to its tenant, so every query a
handler makes is tenant-scoped without the handler doing anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.clock import utcnow
from daihuo.core.db import Database, commit, rollback, scope_session
from daihuo.core.errors import BadRequest, Unauthorized
from daihuo.core.gate import write_gate
from daihuo.tenancy import errors, service
from daihuo.tenancy.cache import PrincipalCache
from daihuo.tenancy.cache import generation as auth_generation
from daihuo.tenancy.domain import Permission, Principal, Via
from daihuo.tenancy.service import AuthConfig

SESSION_COOKIE = "dh_session"
CSRF_COOKIE = "dh_csrf"
CSRF_HEADER = "x-csrf-token"
TENANT_HEADER = "x-daihuo-tenant"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One database session per request; whatever the handler did not commit is rolled back."""
    db: Database = request.app.state.db
    async with db.sessionmaker() as session:
        scope_session(session, None)
        try:
            yield session
        finally:
            await rollback(session)


def set_session_cookies(
    response: Response, issued: service.IssuedToken, cfg: AuthConfig, *, secure: bool
) -> None:
    """The browser session's cookies: the secret (HttpOnly) and the CSRF token that
    scripts and forms echo on unsafe requests (readable, SameSite=Strict)."""
    assert issued.csrf is not None
    max_age = int(cfg.session_ttl.total_seconds())
    response.set_cookie(
        SESSION_COOKIE, issued.secret, max_age=max_age, httponly=True, secure=secure,
        samesite="lax", path="/",
    )  # fmt: skip
    response.set_cookie(
        CSRF_COOKIE, issued.csrf, max_age=max_age, httponly=False, secure=secure,
        samesite="strict", path="/",
    )  # fmt: skip


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def get_auth_config(request: Request) -> AuthConfig:
    config: AuthConfig = request.app.state.auth_config
    return config


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def sign_in(
    request: Request,
    session: AsyncSession,
    cfg: AuthConfig,
    *,
    email: str,
    password: str,
    kind: Via,
) -> service.IssuedToken:
    """Check the password and issue a token (the API's and the console's sign-in).

    A failure is committed too: it counts toward the rate limit. On SQLite the whole
    read-then-write queues on the process's write gate: a concurrent writer's commit
    between the read and the write would fail the upgrade at once ("database is
    locked", seen with a hundred buyers signing in together)."""
    async with write_gate(request.app.state.db):
        try:
            user = await service.authenticate(
                session, cfg, email=email, password=password, ip=client_ip(request)
            )
        except errors.InvalidCredentials:
            await commit(session)
            raise
        issued = await service.issue_token(session, cfg, user, kind=kind)
        await commit(session)
    return issued


async def get_principal(
    request: Request, session: AsyncSession = Depends(get_session)
) -> Principal:
    """The authenticated caller; the session is scoped to its tenant from here on."""
    principal = await _authenticate(request, session)
    scope_session(session, principal.tenant_id)
    if principal.api_key_id is not None:
        db: Database = request.app.state.db
        async with db.session(all_tenants=True) as own:
            await service.touch_api_key(own, principal.api_key_id)
            await own.commit()
    return principal


async def _authenticate(request: Request, session: AsyncSession) -> Principal:
    auth = request.headers.get("authorization")
    api_key = request.headers.get("x-api-key")
    tenant_id = request.headers.get(TENANT_HEADER)
    if tenant_id is not None and (not tenant_id.isascii() or len(tenant_id) > 40):
        raise BadRequest(f"{TENANT_HEADER} is not a tenant id.")
    if auth is not None:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret:
            raise errors.InvalidToken("Use 'Authorization: Bearer <token>'.")
        secret = secret.strip()
        if secret.startswith(service.API_KEY_PREFIX):
            return await service.principal_for_api_key(session, secret)
        return await _user_principal(request, session, secret, Via.bearer, tenant_id)
    if api_key is not None:
        return await service.principal_for_api_key(session, api_key.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is not None:
        return await _user_principal(request, session, cookie, Via.cookie, tenant_id)
    raise Unauthorized(
        "Sign in, or send a bearer token or an API key.",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def _user_principal(
    request: Request, session: AsyncSession, secret: str, via: Via, tenant_id: str | None
) -> Principal:
    """A user token's principal: from the process's short-lived cache when it holds a
    current entry (tenancy/cache.py), else from the database, then cached."""
    cache: PrincipalCache = request.app.state.principal_cache
    key = (service.sha256_hex(secret), via.value, tenant_id)
    entry = cache.get(key) if cache.enabled else None
    if entry is not None:
        if entry.expires_at <= utcnow():
            raise errors.TokenExpired("The credential has expired; sign in again.")
        _check_csrf(request, via, entry.csrf_hash)
        return entry.principal
    seen = auth_generation()
    token, user = await service.resolve_token(session, secret, kind=via)
    _check_csrf(request, via, token.csrf_hash)
    principal = await service.principal_for_user(session, user, via=via, tenant_id=tenant_id)
    cache.put(
        key, principal, expires_at=token.expires_at, csrf_hash=token.csrf_hash,
        seen_generation=seen,
    )  # fmt: skip
    return principal


def _check_csrf(request: Request, via: Via, csrf_hash: str | None) -> None:
    """A browser session's unsafe request must echo the CSRF token from sign-in."""
    if via is not Via.cookie or request.method in _SAFE_METHODS:
        return
    if not service.csrf_hash_matches(csrf_hash, request.headers.get(CSRF_HEADER)):
        raise errors.CsrfFailed(f"Send the CSRF token from sign-in in the {CSRF_HEADER} header.")


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller must act for a tenant and hold ``permission`` there."""

    async def dependency(principal: Principal = Depends(get_principal)) -> Principal:
        if principal.tenant_id is None:
            raise errors.NoTenant(
                f"This needs a tenant; choose one with the {TENANT_HEADER} header."
            )
        if permission not in principal.permissions:
            raise errors.PermissionDenied(f"This needs the '{permission.value}' permission.")
        return principal

    dependency.__name__ = f"require_{permission.name}"
    return dependency


async def require_platform(
    principal: Principal = Depends(require(Permission.platform_tenants)),
    session: AsyncSession = Depends(get_session),
) -> Principal:
    """A platform operator, whose session deliberately sees every tenant."""
    scope_session(session, None, all_tenants=True)
    return principal


async def require_user(principal: Principal = Depends(get_principal)) -> Principal:
    """Dependency: a signed-in user (not an API key); a tenant is optional, so consumers,
    who belong to none, pass. The session stays scoped to the user's tenant, if any."""
    if principal.user_id is None:
        raise errors.PermissionDenied("This needs a signed-in user; an API key acts for a tenant.")
    return principal
