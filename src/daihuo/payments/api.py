"""Paying and refunding orders, and the provider's webhook: ``/api/v1``. The sandbox
provider's pay page (``/sandbox/pay/{ref}``) is the provider's site, not our API: it is
left out of the OpenAPI document."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.db import commit
from daihuo.core.errors import problems
from daihuo.core.gate import gated
from daihuo.core.types import ResourceId
from daihuo.orders import errors as order_errors
from daihuo.payments import errors, service
from daihuo.payments.provider import ProviderError
from daihuo.payments.schemas import PaymentRead, RefundApprove, RefundRead, WebhookAck
from daihuo.payments.tasks import Payments
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy.deps import get_principal, get_session, require_user
from daihuo.tenancy.domain import Principal

router = APIRouter(prefix="/api/v1")
sandbox_router = APIRouter(include_in_schema=False)


AUTH = (*tenancy_errors.AUTH, tenancy_errors.PermissionDenied)


def get_payments(request: Request) -> Payments:
    payments: Payments | None = getattr(request.app.state, "payments", None)
    if payments is None:
        raise errors.SandboxDisabled("No payment provider is configured on this server.")
    return payments


@router.post(
    "/orders/{order_id}/pay",
    dependencies=[Depends(gated)],
    status_code=status.HTTP_201_CREATED,
    tags=["payments"],
    responses=problems(
        *AUTH,
        order_errors.OrderNotFound,
        order_errors.NotYourRole,
        order_errors.InvalidOrderTransition,
        order_errors.OrderExpired,
        errors.ProviderRejected,
        errors.SandboxDisabled,
    ),
)
async def pay_order(
    request: Request,
    order_id: ResourceId,
    principal: Principal = Depends(require_user),
    session: AsyncSession = Depends(get_session),
    payments: Payments = Depends(get_payments),
) -> PaymentRead:
    """Start paying an unpaid order (buyer): answers with the provider's pay page URL."""
    window = timedelta(seconds=request.app.state.settings.order_reservation_seconds)
    payment = await service.start_payment(
        session, principal, payments.provider, order_id, window=window
    )
    await commit(session)
    return PaymentRead.model_validate(payment)


@router.post(
    "/orders/{order_id}/refund",
    dependencies=[Depends(gated)],
    status_code=status.HTTP_201_CREATED,
    tags=["payments"],
    responses=problems(
        *AUTH,
        order_errors.OrderNotFound,
        order_errors.NotYourRole,
        order_errors.InvalidOrderTransition,
        order_errors.OrderChanged,
        order_errors.InvalidRefundAmount,
        errors.NotPaid,
        errors.SandboxDisabled,
    ),
)
async def refund_order(
    order_id: ResourceId,
    data: RefundApprove,
    principal: Principal = Depends(get_principal),
    session: AsyncSession = Depends(get_session),
    payments: Payments = Depends(get_payments),
) -> RefundRead:
    """Approve a refund (or refund a paid order) through the payment provider (seller)."""
    refund = await service.issue_refund(
        session, principal, payments.provider, payments.db, order_id, data.amount
    )
    await commit(session)
    return RefundRead.model_validate(refund)


_WEBHOOK_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    "parameters": [
        {
            "name": "Sandbox-Signature",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.' + body>",
        }
    ],
}


@router.post(
    "/payments/webhooks/sandbox",
    dependencies=[Depends(gated)],
    tags=["payments"],
    openapi_extra=_WEBHOOK_BODY,
    responses=problems(
        errors.WebhookSignatureInvalid,
        errors.WebhookStale,
        errors.WebhookMalformed,
        errors.WebhookReplayed,
        errors.WebhookAmountMismatch,
        errors.PaymentNotFound,
        errors.RefundNotFound,
        errors.SandboxDisabled,
    ),
)
async def sandbox_webhook(
    request: Request,
    session: AsyncSession = Depends(get_session),
    payments: Payments = Depends(get_payments),
) -> WebhookAck:
    """The sandbox provider's signed callback: a payment or refund succeeded or failed."""
    body = await request.body()
    ack = await service.handle_webhook(
        session, payments.provider, payments.db, request.headers, body, policy=payments.policy
    )
    await commit(session)
    return ack


# --- the sandbox provider's pay page -----------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>沙箱支付</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.6rem 1rem;margin:.3rem .3rem 0 0}}.note{{color:#666}}</style>
</head><body>
<h1>沙箱支付 <small class="note">Sandbox</small></h1>
<p>{description}</p>
<p>金额：<strong>¥{yuan}</strong>（{amount} 分）</p>
<p>状态：{state}</p>
{actions}
<p class="note">这是测试用的支付页，不会扣款。This page takes no real money.</p>
</body></html>
"""

_ACTIONS = """<form method="post">
<button name="outcome" value="pay">确认支付</button>
<button name="outcome" value="fail">模拟失败</button>
<button name="outcome" value="late">5 秒后支付</button>
</form>"""


def _sandbox(payments: Payments) -> Any:
    if payments.sandbox is None or not payments.settings.payments_sandbox:
        raise errors.SandboxDisabled("The sandbox payment provider is off.")
    return payments.sandbox


def _page(description: str, amount: int, state: str, actions: str) -> str:
    return _PAGE.format(
        description=html.escape(description),
        yuan=f"{amount // 100}.{amount % 100:02d}",
        amount=amount,
        state=html.escape(state),
        actions=actions,
    )


@sandbox_router.get("/sandbox/pay/{ref}", response_class=HTMLResponse)
async def sandbox_pay_page(
    ref: ResourceId, payments: Payments = Depends(get_payments)
) -> HTMLResponse:
    sandbox = _sandbox(payments)
    payment = await sandbox.get(ref)
    if payment is None:
        raise errors.PaymentNotFound("No such sandbox payment.")
    actions = _ACTIONS if payment.state == "pending" else ""
    return HTMLResponse(_page(payment.description, payment.amount, payment.state, actions))


@sandbox_router.post(
    "/sandbox/pay/{ref}", response_class=HTMLResponse, dependencies=[Depends(gated)]
)
async def sandbox_pay(
    ref: ResourceId,
    outcome: Annotated[str, Form(pattern="^(pay|fail|late)$")],
    payments: Payments = Depends(get_payments),
) -> HTMLResponse:
    sandbox = _sandbox(payments)
    payment = await sandbox.get(ref)
    if payment is None:
        raise errors.PaymentNotFound("No such sandbox payment.")
    try:
        result = await sandbox.complete(
            ref, pay=outcome != "fail", delay=5.0 if outcome == "late" else 0.0
        )
    except ProviderError as exc:
        raise errors.ProviderRejected(str(exc)) from exc
    note = "<p>已通知商户。The merchant is being notified.</p>"
    return HTMLResponse(_page(payment.description, payment.amount, result, note))
