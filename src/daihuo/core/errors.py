"""Application errors and their RFC 9457 ``application/problem+json`` form.

Hierarchy::

    AppError                     any error a client is meant to see (status, type, title)
     ├── BadRequest              400 bad-request
     ├── Unauthorized            401 unauthorized      (and subclasses per reason)
     ├── Forbidden               403 forbidden
     ├── NotFound                404 not-found
     ├── Conflict                409 conflict
     ├── PayloadTooLarge         413 payload-too-large
     ├── ValidationFailed        422 validation-error
     ├── RateLimited             429 rate-limited
     └── ServiceUnavailable      503 service-unavailable

Feature modules subclass these with their own stable ``type``. Every problem's
``type`` is ``urn:daihuo:problem:<slug>``: stable, documented, and tied to no host.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from daihuo.core.context import request_id_var

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("daihuo.errors")


def problem_type(slug: str) -> str:
    return f"urn:daihuo:problem:{slug}"


class AppError(Exception):
    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extra = extra

    @property
    def type(self) -> str:
        return problem_type(self.slug)

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class BadRequest(AppError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(AppError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(AppError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(AppError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, slug, title = 409, "conflict", "Conflict"


class PayloadTooLarge(AppError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class ValidationFailed(AppError):
    status, slug, title = 422, "validation-error", "The request is not valid"


class RateLimited(AppError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class ServiceUnavailable(AppError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


def problems(*errs: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem types an endpoint can return."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in errs:
        entry = out.setdefault(err.status, {"description": "", "content": {PROBLEM_JSON: {}}})
        entry["description"] = f"{entry['description']} {err.slug}".strip()
    return out


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    rid = request_id_var.get()
    if rid:
        body["request_id"] = rid
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def send_problem(send: Any, status: int, slug: str, title: str, detail: str) -> None:
    """Answer with a problem from ASGI middleware, before any route runs."""
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": title,
        "status": status,
        "detail": detail,
    }
    rid = request_id_var.get()
    if rid:
        body["request_id"] = rid
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM_JSON.encode())],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors without echoing the (possibly huge or hostile) input back."""
    out = []
    for err in exc.errors()[:50]:
        loc = [str(p) for p in err.get("loc", ())]
        out.append({"loc": loc, "msg": str(err.get("msg", ""))[:300], "type": err.get("type")})
    return out


_JSON_ERRORS = {"json_invalid", "json_type"}


async def _app_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    body = exc.to_problem(request.url.path)
    rid = request_id_var.get()
    if rid:
        body["request_id"] = rid
    return JSONResponse(body, status_code=exc.status, media_type=PROBLEM_JSON, headers=exc.headers)


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    if any(e["type"] in _JSON_ERRORS for e in errors):
        return problem_response(
            400,
            "malformed-json",
            "Malformed JSON",
            "The request body is not valid JSON (or not UTF-8).",
            request=request,
            errors=errors,
        )
    return problem_response(
        422,
        "validation-error",
        "The request is not valid",
        "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5]),
        request=request,
        errors=errors,
    )


async def _http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    slug = phrase.lower().replace(" ", "-")
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    if status == 400 and detail.startswith("There was an error parsing the body"):
        # FastAPI's answer to a body it cannot decode (e.g. not UTF-8): same type as bad JSON.
        return problem_response(
            400,
            "malformed-json",
            "Malformed JSON",
            "The request body is not valid JSON (or not UTF-8).",
            request=request,
        )
    return problem_response(
        status, slug, phrase, detail, request=request, headers=dict(exc.headers or {})
    )


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(
        500,
        "internal-error",
        "Internal server error",
        "Something went wrong on our side; the request id identifies it in the logs.",
        request=request,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(Exception, _unhandled_handler)
