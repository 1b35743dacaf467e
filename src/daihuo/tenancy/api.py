"""Accounts, tenants, members and API keys: ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.db import commit
from daihuo.core.errors import problems
from daihuo.core.gate import write_gate
from daihuo.core.pagination import Page, PageParams, page_params
from daihuo.core.types import ResourceId
from daihuo.tenancy import errors, service
from daihuo.tenancy.deps import (
    SESSION_COOKIE,
    clear_session_cookies,
    get_auth_config,
    get_principal,
    get_session,
    require,
    require_platform,
    set_session_cookies,
    sign_in,
)
from daihuo.tenancy.domain import Permission, Principal, Role, Via
from daihuo.tenancy.models import ApiKey
from daihuo.tenancy.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    Credentials,
    LoginResult,
    MemberAdd,
    MemberRead,
    MembershipBrief,
    MemberUpdate,
    MeRead,
    SignupRequest,
    SignupResult,
    TenantCreate,
    TenantRead,
    TenantUpdate,
    TokenRead,
    UserRead,
)
from daihuo.tenancy.service import AuthConfig, MemberView

router = APIRouter(prefix="/api/v1")


AUTH, DENIED = errors.AUTH, errors.DENIED


def _member(view: MemberView) -> MemberRead:
    m, u = view.membership, view.user
    return MemberRead(
        id=m.id,
        user_id=u.id,
        email=u.email,
        display_name=u.display_name,
        role=Role(m.role),
        created_at=m.created_at,
    )


def _key(key: ApiKey) -> ApiKeyRead:
    return ApiKeyRead(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=[Permission(s) for s in key.scopes.split()],
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


# --- auth ----------------------------------------------------------------------------


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    tags=["auth"],
    responses=problems(errors.EmailTaken),
)
async def signup(
    request: Request,
    data: SignupRequest,
    session: AsyncSession = Depends(get_session),
    cfg: AuthConfig = Depends(get_auth_config),
) -> SignupResult:
    """Register an account; optionally open a supplier or merchant tenant owned by it."""
    async with write_gate(request.app.state.db):  # SQLite: one writer per process at a time
        user, tenant = await service.signup(session, cfg, data)
        await commit(session)
    return SignupResult(
        user=UserRead.model_validate(user),
        tenant=TenantRead.model_validate(tenant) if tenant else None,
    )


async def _sign_in(
    request: Request, data: Credentials, session: AsyncSession, cfg: AuthConfig, kind: Via
) -> service.IssuedToken:
    return await sign_in(request, session, cfg, email=data.email, password=data.password, kind=kind)


@router.post(
    "/auth/token",
    tags=["auth"],
    responses=problems(errors.InvalidCredentials, errors.LoginRateLimited),
)
async def create_token(
    request: Request,
    data: Credentials,
    session: AsyncSession = Depends(get_session),
    cfg: AuthConfig = Depends(get_auth_config),
) -> TokenRead:
    """Exchange e-mail and password for a bearer token (API clients)."""
    issued = await _sign_in(request, data, session, cfg, Via.bearer)
    return TokenRead(access_token=issued.secret, expires_at=issued.token.expires_at)


@router.post(
    "/auth/login",
    tags=["auth"],
    responses=problems(errors.InvalidCredentials, errors.LoginRateLimited),
)
async def login(
    request: Request,
    response: Response,
    data: Credentials,
    session: AsyncSession = Depends(get_session),
    cfg: AuthConfig = Depends(get_auth_config),
) -> LoginResult:
    """Sign in a browser: sets the session cookie and returns the CSRF token."""
    issued = await _sign_in(request, data, session, cfg, Via.cookie)
    set_session_cookies(response, issued, cfg, secure=request.app.state.settings.cookie_secure)
    assert issued.csrf is not None
    user = await service.get_user(session, issued.token.user_id)
    return LoginResult(
        user=UserRead.model_validate(user),
        csrf_token=issued.csrf,
        expires_at=issued.token.expires_at,
    )


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["auth"],
    responses=problems(*AUTH),
)
async def logout(
    request: Request,
    response: Response,
    principal: Principal = Depends(get_principal),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Revoke the credential used for this request (token or browser session)."""
    if principal.via is Via.api_key:
        raise errors.PermissionDenied("API keys are revoked with DELETE /api-keys/{id}.")
    secret = (
        request.cookies.get(SESSION_COOKIE, "")
        if principal.via is Via.cookie
        else request.headers.get("authorization", "").partition(" ")[2].strip()
    )
    token, _ = await service.resolve_token(session, secret, kind=principal.via)
    await service.revoke_token(session, token)
    await commit(session)
    clear_session_cookies(response)


@router.get("/me", tags=["auth"], responses=problems(*AUTH, errors.NoTenant))
async def me(
    principal: Principal = Depends(get_principal),
    session: AsyncSession = Depends(get_session),
) -> MeRead:
    """The signed-in user, the tenants it belongs to and what it may do in the current one."""
    if principal.user_id is None:
        raise errors.PermissionDenied("An API key has no user; use GET /tenant.")
    user = await service.get_user(session, principal.user_id)
    rows = await service.memberships_of(session, user.id)
    return MeRead(
        user=UserRead.model_validate(user),
        memberships=[
            MembershipBrief(tenant=TenantRead.model_validate(t), role=Role(m.role)) for m, t in rows
        ],
        current_tenant_id=principal.tenant_id,
        permissions=sorted(principal.permissions),
    )


# --- the caller's tenant ---------------------------------------------------------------


@router.get("/tenant", tags=["tenant"], responses=problems(*AUTH, *DENIED))
async def get_tenant(
    principal: Principal = Depends(require(Permission.tenant_read)),
    session: AsyncSession = Depends(get_session),
) -> TenantRead:
    """The tenant the caller acts for."""
    return TenantRead.model_validate(await service.current_tenant(session, principal))


@router.patch("/tenant", tags=["tenant"], responses=problems(*AUTH, *DENIED))
async def update_tenant(
    data: TenantUpdate,
    principal: Principal = Depends(require(Permission.tenant_write)),
    session: AsyncSession = Depends(get_session),
) -> TenantRead:
    """Rename the caller's tenant."""
    tenant = await service.rename_tenant(session, principal, name=data.name)
    await commit(session)
    return TenantRead.model_validate(tenant)


@router.get("/members", tags=["tenant"], responses=problems(*AUTH, *DENIED))
async def list_members(
    params: PageParams = Depends(page_params),
    _: Principal = Depends(require(Permission.members_read)),
    session: AsyncSession = Depends(get_session),
) -> Page[MemberRead]:
    """Members of the caller's tenant with their roles."""
    views, cursor = await service.list_members(session, params)
    return Page(items=[_member(v) for v in views], next_cursor=cursor)


@router.post(
    "/members",
    status_code=status.HTTP_201_CREATED,
    tags=["tenant"],
    responses=problems(*AUTH, *DENIED, errors.UserNotFound, errors.MemberExists),
)
async def add_member(
    data: MemberAdd,
    principal: Principal = Depends(require(Permission.members_write)),
    session: AsyncSession = Depends(get_session),
) -> MemberRead:
    """Add a registered user to the tenant with a role."""
    view = await service.add_member(session, principal, data)
    await commit(session)
    return _member(view)


@router.patch(
    "/members/{member_id}",
    tags=["tenant"],
    responses=problems(*AUTH, *DENIED, errors.MemberNotFound, errors.LastOwner),
)
async def change_member_role(
    data: MemberUpdate,
    member_id: ResourceId,
    principal: Principal = Depends(require(Permission.members_write)),
    session: AsyncSession = Depends(get_session),
) -> MemberRead:
    """Change a member's role."""
    view = await service.change_role(session, principal, member_id, data.role)
    await commit(session)
    return _member(view)


@router.delete(
    "/members/{member_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["tenant"],
    responses=problems(*AUTH, *DENIED, errors.MemberNotFound, errors.LastOwner),
)
async def remove_member(
    member_id: ResourceId,
    principal: Principal = Depends(require(Permission.members_write)),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Remove a member from the tenant."""
    await service.remove_member(session, principal, member_id)
    await commit(session)


@router.get("/api-keys", tags=["tenant"], responses=problems(*AUTH, *DENIED))
async def list_api_keys(
    params: PageParams = Depends(page_params),
    _: Principal = Depends(require(Permission.apikeys_read)),
    session: AsyncSession = Depends(get_session),
) -> Page[ApiKeyRead]:
    """The tenant's API keys (never their secrets)."""
    keys, cursor = await service.list_api_keys(session, params)
    return Page(items=[_key(k) for k in keys], next_cursor=cursor)


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    tags=["tenant"],
    responses=problems(*AUTH, *DENIED),
)
async def create_api_key(
    data: ApiKeyCreate,
    principal: Principal = Depends(require(Permission.apikeys_write)),
    session: AsyncSession = Depends(get_session),
) -> ApiKeyCreated:
    """Create a scoped API key; the secret is in this response only."""
    key, secret = await service.create_api_key(session, principal, data)
    await commit(session)
    return ApiKeyCreated(**_key(key).model_dump(), secret=secret)


@router.delete(
    "/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["tenant"],
    responses=problems(*AUTH, *DENIED, errors.ApiKeyNotFound),
)
async def revoke_api_key(
    key_id: ResourceId,
    _: Principal = Depends(require(Permission.apikeys_write)),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Revoke an API key; it stops working at once."""
    await service.revoke_api_key(session, key_id)
    await commit(session)


# --- platform operator -----------------------------------------------------------------


@router.get("/platform/tenants", tags=["platform"], responses=problems(*AUTH, *DENIED))
async def platform_list_tenants(
    params: PageParams = Depends(page_params),
    _: Principal = Depends(require_platform),
    session: AsyncSession = Depends(get_session),
) -> Page[TenantRead]:
    """Every tenant on the platform (platform operators only)."""
    tenants, cursor = await service.list_tenants(session, params)
    return Page(items=[TenantRead.model_validate(t) for t in tenants], next_cursor=cursor)


@router.post(
    "/platform/tenants",
    status_code=status.HTTP_201_CREATED,
    tags=["platform"],
    responses=problems(*AUTH, *DENIED, errors.UserNotFound),
)
async def platform_create_tenant(
    data: TenantCreate,
    _: Principal = Depends(require_platform),
    session: AsyncSession = Depends(get_session),
) -> TenantRead:
    """Open a tenant of any kind for an existing user, who becomes its owner."""
    tenant = await service.platform_create_tenant(session, data)
    await commit(session)
    return TenantRead.model_validate(tenant)
