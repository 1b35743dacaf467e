"""Tenancy use cases. Services ``flush()``; the edge commits."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.clock import utcnow
from daihuo.core.db import scope_session
from daihuo.core.ids import new_id
from daihuo.core.pagination import PageParams
from daihuo.tenancy import errors
from daihuo.tenancy.domain import (
    Permission,
    Principal,
    Role,
    TenantKind,
    Via,
    may_assign,
    permissions_for,
)
from daihuo.tenancy.models import ApiKey, AuthToken, LoginFailure, Membership, Tenant, User
from daihuo.tenancy.repository import TenancyRepository
from daihuo.tenancy.schemas import ApiKeyCreate, MemberAdd, SignupRequest, TenantCreate

TOKEN_PREFIX = "dht_"  # noqa: S105 - a public prefix that tells tokens from keys
API_KEY_PREFIX = "dhk_"


@dataclass(frozen=True)
class AuthConfig:
    hasher: PasswordHasher
    token_ttl: timedelta
    session_ttl: timedelta
    max_failures: int
    max_failures_per_ip: int
    failure_window: timedelta

    def dummy_hash(self) -> str:
        return _dummy_hash(self.hasher)


_DUMMY: dict[int, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    # Verifying against a real hash when the e-mail is unknown keeps the timing equal.
    key = id(hasher)
    if key not in _DUMMY:
        _DUMMY[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY[key]


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def hash_password(cfg: AuthConfig, password: str) -> str:
    return await anyio.to_thread.run_sync(cfg.hasher.hash, password)


async def _verify_password(cfg: AuthConfig, hashed: str, password: str) -> bool:
    def check() -> bool:
        try:
            return cfg.hasher.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check)


# --- accounts -------------------------------------------------------------------


async def create_user(
    session: AsyncSession, cfg: AuthConfig, *, email: str, password: str, display_name: str
) -> User:
    repo = TenancyRepository(session)
    if await repo.user_by_email(email) is not None:
        raise errors.EmailTaken(f"An account with {email} already exists.")
    user = User(
        id=new_id("usr"),
        email=email,
        display_name=display_name,
        password_hash=await hash_password(cfg, password),
        created_at=utcnow(),
    )
    repo.add(user)
    try:
        await repo.flush()
    except IntegrityError as exc:  # a concurrent sign-up with the same e-mail won the race
        raise errors.EmailTaken(f"An account with {email} already exists.") from exc
    return user


async def get_user(session: AsyncSession, user_id: str) -> User:
    user = await TenancyRepository(session).user(user_id)
    if user is None:
        raise errors.UserNotFound()
    return user


async def tenant_exists(session: AsyncSession, tenant_id: str) -> bool:
    return await TenancyRepository(session).tenant(tenant_id) is not None


async def create_tenant(
    session: AsyncSession, *, kind: TenantKind, name: str, owner: User
) -> Tenant:
    """Create a tenant with ``owner`` as its first owner."""
    repo = TenancyRepository(session)
    tenant = Tenant(id=new_id("ten"), kind=kind.value, name=name, created_at=utcnow())
    repo.add(tenant)
    await repo.flush()
    previous = dict(session.info)
    scope_session(session, tenant.id)
    try:
        repo.add(
            Membership(
                id=new_id("mem"),
                tenant_id=tenant.id,
                user_id=owner.id,
                role=Role.owner.value,
                created_at=utcnow(),
            )
        )
        await repo.flush()
    finally:
        scope_session(
            session, previous.get("tenant_id"), all_tenants=bool(previous.get("all_tenants"))
        )
    return tenant


async def signup(
    session: AsyncSession, cfg: AuthConfig, data: SignupRequest
) -> tuple[User, Tenant | None]:
    """Register a user; with ``tenant`` also a supplier or merchant tenant it owns."""
    user = await create_user(
        session, cfg, email=data.email, password=data.password, display_name=data.display_name
    )
    tenant = None
    if data.tenant is not None:
        tenant = await create_tenant(
            session, kind=TenantKind(data.tenant.kind), name=data.tenant.name, owner=user
        )
    return user, tenant


async def platform_create_tenant(session: AsyncSession, data: TenantCreate) -> Tenant:
    """A platform operator opens a tenant for an existing user."""
    owner = await TenancyRepository(session).user_by_email(data.owner_email)
    if owner is None:
        raise errors.UserNotFound(f"No user with e-mail {data.owner_email}; they sign up first.")
    return await create_tenant(session, kind=data.kind, name=data.name, owner=owner)


# --- sign-in ---------------------------------------------------------------------


async def authenticate(
    session: AsyncSession, cfg: AuthConfig, *, email: str, password: str, ip: str
) -> User:
    """Check a password, with a rate limit per e-mail and per client address.

    A failure is flushed before the error is raised; the edge commits it so the
    limit holds across requests and processes.
    """
    repo = TenancyRepository(session)
    now = utcnow()
    since = now - cfg.failure_window
    by_email, by_ip = await repo.count_failures(email=email, ip=ip, since=since)
    if by_email >= cfg.max_failures or by_ip >= cfg.max_failures_per_ip:
        retry = int(cfg.failure_window.total_seconds())
        raise errors.LoginRateLimited(
            "Too many failed sign-ins; try again later.", headers={"Retry-After": str(retry)}
        )
    user = await repo.user_by_email(email)
    hashed = user.password_hash if user is not None else cfg.dummy_hash()
    ok = await _verify_password(cfg, hashed, password)
    if user is None or not ok:
        repo.add(LoginFailure(email=email, ip=ip, at=now))
        await repo.prune_failures(now - 2 * cfg.failure_window)
        await repo.flush()
        raise errors.InvalidCredentials("Wrong e-mail or password.")
    if cfg.hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await hash_password(cfg, password)
    return user


@dataclass(frozen=True)
class IssuedToken:
    secret: str
    csrf: str | None
    token: AuthToken


async def issue_token(
    session: AsyncSession, cfg: AuthConfig, user: User, *, kind: Via
) -> IssuedToken:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24) if kind is Via.cookie else None
    ttl = cfg.session_ttl if kind is Via.cookie else cfg.token_ttl
    now = utcnow()
    token = AuthToken(
        id=new_id("tok"),
        user_id=user.id,
        kind=kind.value,
        secret_hash=sha256_hex(secret),
        csrf_hash=sha256_hex(csrf) if csrf else None,
        created_at=now,
        expires_at=now + ttl,
    )
    TenancyRepository(session).add(token)
    await session.flush()
    return IssuedToken(secret, csrf, token)


async def resolve_token(session: AsyncSession, secret: str, *, kind: Via) -> tuple[AuthToken, User]:
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise errors.InvalidToken("The credential is not valid.")
    repo = TenancyRepository(session)
    token = await repo.token_by_hash(sha256_hex(secret))
    if token is None or token.kind != kind.value or token.revoked_at is not None:
        raise errors.InvalidToken("The credential is not valid.")
    if token.expires_at <= utcnow():
        raise errors.TokenExpired("The credential has expired; sign in again.")
    user = await repo.user(token.user_id)
    if user is None:
        raise errors.InvalidToken("The credential is not valid.")
    return token, user


def csrf_matches(token: AuthToken, presented: str | None) -> bool:
    return csrf_hash_matches(token.csrf_hash, presented)


def csrf_hash_matches(csrf_hash: str | None, presented: str | None) -> bool:
    if not presented or csrf_hash is None:
        return False
    return hmac.compare_digest(csrf_hash, sha256_hex(presented))


async def revoke_token(session: AsyncSession, token: AuthToken) -> None:
    token.revoked_at = utcnow()
    await session.flush()


# --- principals ------------------------------------------------------------------


async def principal_for_user(
    session: AsyncSession, user: User, *, via: Via, tenant_id: str | None
) -> Principal:
    """The caller acting for ``tenant_id`` (or its only tenant when not given)."""
    memberships = await TenancyRepository(session).memberships_of_user(user.id)
    chosen: tuple[Membership, Tenant] | None = None
    if tenant_id is not None:
        chosen = next(((m, t) for m, t in memberships if t.id == tenant_id), None)
        if chosen is None:
            # Not a member of that tenant: same answer as a tenant that does not exist.
            raise errors.NoTenant("You are not a member of that tenant.")
    elif len(memberships) == 1:
        chosen = memberships[0]
    if chosen is None:
        return Principal(
            via=via,
            user_id=user.id,
            tenant_id=None,
            tenant_kind=None,
            role=None,
            permissions=frozenset(),
        )
    membership, tenant = chosen
    role, kind = Role(membership.role), TenantKind(tenant.kind)
    return Principal(
        via=via,
        user_id=user.id,
        tenant_id=tenant.id,
        tenant_kind=kind,
        role=role,
        permissions=permissions_for(role, kind),
    )


async def principal_for_api_key(session: AsyncSession, secret: str) -> Principal:
    if not secret.startswith(API_KEY_PREFIX) or len(secret) > 200:
        raise errors.InvalidToken("The API key is not valid.")
    repo = TenancyRepository(session)
    key = await repo.api_key_by_hash(sha256_hex(secret))
    if key is None or key.revoked_at is not None:
        raise errors.InvalidToken("The API key is not valid or was revoked.")
    tenant = await repo.tenant(key.tenant_id)
    if tenant is None:
        raise errors.InvalidToken("The API key is not valid.")
    kind = TenantKind(tenant.kind)
    # A key never exceeds what its tenant kind allows an owner, even if the role table shrinks.
    allowed = permissions_for(Role.owner, kind)
    scopes = frozenset(
        Permission(s) for s in key.scopes.split() if s in Permission._value2member_map_
    )
    return Principal(
        via=Via.api_key,
        user_id=None,
        tenant_id=tenant.id,
        tenant_kind=kind,
        role=None,
        permissions=scopes & allowed,
        api_key_id=key.id,
    )


LAST_USED_RESOLUTION = timedelta(minutes=1)


async def touch_api_key(session: AsyncSession, key_id: str) -> None:
    """Record that a key was used, at most once a minute (its own short transaction)."""
    await TenancyRepository(session).touch_api_key(key_id, utcnow(), LAST_USED_RESOLUTION)


async def user_id_of_email(session: AsyncSession, email: str) -> str:
    user = await TenancyRepository(session).user_by_email(email)
    if user is None:
        raise errors.UserNotFound()
    return user.id


async def memberships_of_email(session: AsyncSession, email: str) -> list[str]:
    """Tenant ids of the user with ``email`` (empty when unknown)."""
    repo = TenancyRepository(session)
    user = await repo.user_by_email(email)
    if user is None:
        return []
    return [t.id for _, t in await repo.memberships_of_user(user.id)]


async def memberships_of(session: AsyncSession, user_id: str) -> list[tuple[Membership, Tenant]]:
    return await TenancyRepository(session).memberships_of_user(user_id)


# --- current tenant --------------------------------------------------------------


async def current_tenant(session: AsyncSession, ctx: Principal) -> Tenant:
    assert ctx.tenant_id is not None
    tenant = await TenancyRepository(session).tenant(ctx.tenant_id)
    if tenant is None:
        raise errors.TenantNotFound()
    return tenant


async def rename_tenant(session: AsyncSession, ctx: Principal, *, name: str) -> Tenant:
    tenant = await current_tenant(session, ctx)
    tenant.name = name
    await session.flush()
    return tenant


async def list_tenants(
    session: AsyncSession, params: PageParams
) -> tuple[Sequence[Tenant], str | None]:
    return await TenancyRepository(session).tenants_page(params)


# --- members ---------------------------------------------------------------------


@dataclass(frozen=True)
class MemberView:
    membership: Membership
    user: User


async def list_members(
    session: AsyncSession, params: PageParams
) -> tuple[list[MemberView], str | None]:
    repo = TenancyRepository(session)
    rows, cursor = await repo.memberships_page(params)
    users = await repo.users([m.user_id for m in rows])
    return [MemberView(m, users[m.user_id]) for m in rows], cursor


def _actor_role(ctx: Principal) -> Role:
    # API keys with members:write act with admin's limits (never grant or touch owners).
    return ctx.role if ctx.role is not None else Role.admin


async def add_member(session: AsyncSession, ctx: Principal, data: MemberAdd) -> MemberView:
    repo = TenancyRepository(session)
    if not may_assign(_actor_role(ctx), None, data.role):
        raise errors.PermissionDenied("Only an owner can add an owner.")
    user = await repo.user_by_email(data.email)
    if user is None:
        raise errors.UserNotFound(f"No user with e-mail {data.email}; they sign up first.")
    if await repo.membership_of(user.id) is not None:
        raise errors.MemberExists(f"{data.email} is already a member.")
    membership = Membership(
        id=new_id("mem"), user_id=user.id, role=data.role.value, created_at=utcnow()
    )
    repo.add(membership)
    try:
        await repo.flush()
    except IntegrityError as exc:
        raise errors.MemberExists(f"{data.email} is already a member.") from exc
    return MemberView(membership, user)


async def _member(repo: TenancyRepository, membership_id: str) -> Membership:
    membership = await repo.membership(membership_id)
    if membership is None:
        raise errors.MemberNotFound()
    return membership


async def change_role(
    session: AsyncSession, ctx: Principal, membership_id: str, role: Role
) -> MemberView:
    repo = TenancyRepository(session)
    membership = await _member(repo, membership_id)
    current = Role(membership.role)
    if not may_assign(_actor_role(ctx), current, role):
        raise errors.PermissionDenied("Only an owner can grant, change or remove an owner.")
    if current is Role.owner and role is not Role.owner and await repo.count_owners() <= 1:
        raise errors.LastOwner("Make someone else an owner first.")
    membership.role = role.value
    await repo.flush()
    user = await repo.user(membership.user_id)
    assert user is not None
    return MemberView(membership, user)


async def remove_member(session: AsyncSession, ctx: Principal, membership_id: str) -> None:
    repo = TenancyRepository(session)
    membership = await _member(repo, membership_id)
    current = Role(membership.role)
    if not may_assign(_actor_role(ctx), current, None):
        raise errors.PermissionDenied("Only an owner can remove an owner.")
    if current is Role.owner and await repo.count_owners() <= 1:
        raise errors.LastOwner("A tenant keeps at least one owner.")
    await repo.delete(membership)
    await repo.flush()


# --- API keys --------------------------------------------------------------------


async def create_api_key(
    session: AsyncSession, ctx: Principal, data: ApiKeyCreate
) -> tuple[ApiKey, str]:
    """A new key; the secret is returned once and only its hash is kept."""
    wanted = frozenset(data.scopes)
    if not wanted <= ctx.permissions:
        missing = ", ".join(sorted(wanted - ctx.permissions))
        raise errors.PermissionDenied(f"A key cannot have scopes you lack: {missing}.")
    prefix = secrets.token_hex(4)
    secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        id=new_id("key"),
        name=data.name,
        prefix=f"{API_KEY_PREFIX}{prefix}",
        secret_hash=sha256_hex(secret),
        scopes=" ".join(sorted(s.value for s in wanted)),
        created_by=ctx.user_id,
        created_at=utcnow(),
    )
    TenancyRepository(session).add(key)
    await session.flush()
    return key, secret


async def list_api_keys(
    session: AsyncSession, params: PageParams
) -> tuple[Sequence[ApiKey], str | None]:
    return await TenancyRepository(session).api_keys_page(params)


async def revoke_api_key(session: AsyncSession, key_id: str) -> ApiKey:
    key = await TenancyRepository(session).api_key(key_id)
    if key is None:
        raise errors.ApiKeyNotFound()
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
    return key
