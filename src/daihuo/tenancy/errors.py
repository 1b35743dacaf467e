"""Tenancy errors, each with a stable problem type."""

from __future__ import annotations

from daihuo.core.errors import Conflict, Forbidden, NotFound, RateLimited, Unauthorized


class InvalidCredentials(Unauthorized):
    slug, title = "invalid-credentials", "Wrong e-mail or password"


class InvalidToken(Unauthorized):
    slug, title = "invalid-token", "Invalid credential"


class TokenExpired(Unauthorized):
    slug, title = "token-expired", "Credential expired"


class CsrfFailed(Forbidden):
    slug, title = "csrf-failed", "CSRF check failed"


class PermissionDenied(Forbidden):
    slug, title = "permission-denied", "Your role does not allow this"


class NoTenant(Forbidden):
    slug, title = "no-tenant", "No tenant selected"


class EmailTaken(Conflict):
    slug, title = "email-taken", "E-mail already registered"


class MemberExists(Conflict):
    slug, title = "member-exists", "Already a member"


class LastOwner(Conflict):
    slug, title = "last-owner", "A tenant keeps at least one owner"


class UserNotFound(NotFound):
    slug, title = "user-not-found", "No such user"


class MemberNotFound(NotFound):
    slug, title = "member-not-found", "No such member"


class ApiKeyNotFound(NotFound):
    slug, title = "api-key-not-found", "No such API key"


class TenantNotFound(NotFound):
    slug, title = "tenant-not-found", "No such tenant"


class LoginRateLimited(RateLimited):
    slug, title = "login-rate-limited", "Too many failed sign-ins"


# What an endpoint behind authentication may answer (OpenAPI ``responses`` of routers):
# no or bad credential (CSRF on unsafe methods with a cookie), and a refused caller.
AUTH = (Unauthorized, InvalidToken, TokenExpired, CsrfFailed)
DENIED = (PermissionDenied, NoTenant)
