"""What the public log API returns. Hashes and entry bytes are standard base64, as in
the checkpoint's root line; ``daihuo ledger verify`` reads these documents as saved."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class EntryRead(BaseModel):
    index: int
    data: str = Field(description="base64 of the leaf bytes: the entry's RFC 8785 JSON")
    leaf_hash: str = Field(description="base64 of SHA-256(0x00 || leaf bytes)")


class EntriesPage(BaseModel):
    start: int
    end: int = Field(description="one past the last index returned")
    size: int = Field(description="the signed tree size when read")
    entries: list[EntryRead]


class InclusionProofRead(BaseModel):
    index: int
    size: int
    leaf_hash: str
    proof: list[str] = Field(description="base64 hashes, from the leaf level up")


class ConsistencyProofRead(BaseModel):
    old: int
    new: int
    proof: list[str] = Field(description="base64 hashes, RFC 9162 section 2.1.4 order")


class KeysRead(BaseModel):
    origin: str
    keys: list[str] = Field(description="C2SP verifier keys: the signing key first")


class RecordLink(BaseModel):
    """One entry of the log about a business record, and where to check it."""

    kind: str
    index: int = Field(description="The entry's leaf index.")
    entry: dict[str, Any] = Field(description="The entry as logged (its RFC 8785 JSON).")
    proof: str = Field(description="Its inclusion proof in the tree of size tree_size.")


class RecordLinks(BaseModel):
    record_id: str
    tree_size: int = Field(description="The signed tree size the proofs are for.")
    checkpoint: str = Field(description="The signed checkpoint to verify the proofs against.")
    entries: list[RecordLink] = Field(description="Oldest first.")
