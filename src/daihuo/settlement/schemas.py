"""Settlement response bodies. Money is integer fen (1/100 CNY) everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from daihuo.settlement.domain import AccountType, EventKind


class AccountBalance(BaseModel):
    account: AccountType
    balance: int = Field(description="Fen; positive means the platform owes the owner.")


class BalancesRead(BaseModel):
    owner_id: str = Field(description="The tenant id, or 'platform' for the platform's books.")
    currency: Literal["CNY"] = "CNY"
    unit: Literal["fen"] = "fen"
    held: int = Field(description="Fen still in the holding period.")
    available: int = Field(description="Fen released after the holding period.")
    accounts: list[AccountBalance]


class StatementLineRead(BaseModel):
    at: datetime
    event: EventKind
    order_id: str
    refund_id: str | None
    amount: int
    balance: int = Field(description="The account's balance after this line.")


class AccountStatementRead(BaseModel):
    account: AccountType
    opening: int
    lines: list[StatementLineRead]
    closing: int


class StatementRead(BaseModel):
    owner_id: str
    currency: Literal["CNY"] = "CNY"
    unit: Literal["fen"] = "fen"
    start: datetime = Field(description="Inclusive.")
    end: datetime = Field(description="Exclusive.")
    opening: int = Field(description="Sum of the accounts' opening balances.")
    closing: int = Field(description="Sum of the accounts' closing balances.")
    accounts: list[AccountStatementRead]
