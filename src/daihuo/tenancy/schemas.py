"""Tenancy request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from daihuo.core.types import STRICT_INPUT, Email, Name, Password
from daihuo.tenancy.domain import Permission, Role, TenantKind


class TenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: TenantKind
    name: str
    created_at: datetime


class TenantSignup(BaseModel):
    model_config = STRICT_INPUT
    kind: Literal["supplier", "merchant"]
    name: Name


class TenantCreate(BaseModel):
    model_config = STRICT_INPUT
    kind: TenantKind
    name: Name
    owner_email: Email


class TenantUpdate(BaseModel):
    model_config = STRICT_INPUT
    name: Name


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    email: str
    display_name: str
    created_at: datetime


class SignupRequest(BaseModel):
    model_config = STRICT_INPUT
    email: Email
    password: Password
    display_name: Name
    tenant: TenantSignup | None = Field(
        default=None, description="Also create a supplier or merchant tenant owned by the user."
    )


class SignupResult(BaseModel):
    user: UserRead
    tenant: TenantRead | None


class Credentials(BaseModel):
    model_config = STRICT_INPUT
    email: Email
    password: str = Field(min_length=1, max_length=128)


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: datetime


class MembershipBrief(BaseModel):
    tenant: TenantRead
    role: Role


class MeRead(BaseModel):
    user: UserRead
    memberships: list[MembershipBrief]
    current_tenant_id: str | None
    permissions: list[Permission]


class LoginResult(BaseModel):
    user: UserRead
    csrf_token: str
    expires_at: datetime


class MemberRead(BaseModel):
    id: str
    user_id: str
    email: str
    display_name: str
    role: Role
    created_at: datetime


class MemberAdd(BaseModel):
    model_config = STRICT_INPUT
    email: Email
    role: Role


class MemberUpdate(BaseModel):
    model_config = STRICT_INPUT
    role: Role


class ApiKeyCreate(BaseModel):
    model_config = STRICT_INPUT
    name: Name
    scopes: list[Permission] = Field(min_length=1, max_length=20)


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    prefix: str
    scopes: list[Permission]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    secret: str = Field(description="The full key. Shown once; store it now.")
