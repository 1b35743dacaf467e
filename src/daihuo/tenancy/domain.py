"""Pure tenancy rules: tenant kinds, roles, and what each role may do.

Roles are ordered: owner > admin > operator (the host) > viewer. A permission is
``<resource>:<action>``; later feature modules add theirs to ``ROLE_PERMISSIONS``.
An admin manages members and keys but can neither grant ``owner`` nor change or
remove an owner; only owners can. A tenant always keeps at least one owner.
"""

from __future__ import annotations

from enum import StrEnum


class TenantKind(StrEnum):
    platform = "platform"
    supplier = "supplier"
    merchant = "merchant"


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    operator = "operator"
    viewer = "viewer"


class Permission(StrEnum):
    tenant_read = "tenant:read"
    tenant_write = "tenant:write"
    members_read = "members:read"
    members_write = "members:write"
    apikeys_read = "apikeys:read"
    apikeys_write = "apikeys:write"
    platform_tenants = "platform:tenants"
    settlement_read = "settlement:read"
    # Commerce (catalog, selection, orders). What a tenant may do also depends on its
    # kind (a supplier lists products, a merchant picks them): the services check that.
    catalog_read = "catalog:read"
    catalog_write = "catalog:write"
    pool_read = "pool:read"
    showcase_read = "showcase:read"
    showcase_write = "showcase:write"
    orders_read = "orders:read"
    orders_write = "orders:write"
    products_review = "products:review"
    # Live sessions (a merchant's schedule and product lists).
    sessions_read = "sessions:read"
    sessions_write = "sessions:write"


_READ = {Permission.tenant_read, Permission.members_read}
_MANAGE = _READ | {
    Permission.tenant_write,
    Permission.members_write,
    Permission.apikeys_read,
    Permission.apikeys_write,
}

_COMMERCE_READ = {
    Permission.catalog_read,
    Permission.pool_read,
    Permission.showcase_read,
    Permission.orders_read,
    Permission.sessions_read,
}
_COMMERCE_WRITE = _COMMERCE_READ | {
    Permission.catalog_write,
    Permission.showcase_write,
    Permission.orders_write,
    Permission.sessions_write,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.owner: frozenset(_MANAGE | _COMMERCE_WRITE | {Permission.settlement_read}),
    Role.admin: frozenset(_MANAGE | _COMMERCE_WRITE | {Permission.settlement_read}),
    Role.operator: frozenset(_READ | _COMMERCE_WRITE),
    Role.viewer: frozenset(_READ | _COMMERCE_READ),
}

# Extra permissions a role has when its tenant is the platform operator's.
PLATFORM_EXTRA: dict[Role, frozenset[Permission]] = {
    Role.owner: frozenset({Permission.platform_tenants, Permission.products_review}),
    Role.admin: frozenset({Permission.platform_tenants, Permission.products_review}),
    Role.operator: frozenset(),
    Role.viewer: frozenset(),
}


def permissions_for(role: Role, kind: TenantKind) -> frozenset[Permission]:
    perms = ROLE_PERMISSIONS[role]
    if kind is TenantKind.platform:
        perms = perms | PLATFORM_EXTRA[role]
    return perms


def may_assign(actor: Role, target_current: Role | None, target_new: Role | None) -> bool:
    """Whether ``actor`` may move a member from ``target_current`` to ``target_new``.

    ``None`` as current means adding a member; ``None`` as new means removing one.
    """
    if actor is Role.owner:
        return True
    if actor is not Role.admin:
        return False
    return Role.owner not in (target_current, target_new)


class Via(StrEnum):
    cookie = "cookie"
    bearer = "bearer"
    api_key = "api_key"


class Principal:
    """Who is calling, for which tenant, with which permissions."""

    __slots__ = ("api_key_id", "permissions", "role", "tenant_id", "tenant_kind", "user_id", "via")

    def __init__(
        self,
        *,
        via: Via,
        user_id: str | None,
        tenant_id: str | None,
        tenant_kind: TenantKind | None,
        role: Role | None,
        permissions: frozenset[Permission],
        api_key_id: str | None = None,
    ) -> None:
        self.via = via
        self.user_id = user_id
        self.tenant_id = tenant_id
        self.tenant_kind = tenant_kind
        self.role = role
        self.permissions = permissions
        self.api_key_id = api_key_id
