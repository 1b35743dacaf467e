"""An independent verifier of the log: signed checkpoints, inclusion and consistency.

It knows only ``shared/spec/ledger.md`` and a public key, and imports nothing of the
server — only ``daihuo.ledger.merkle``, ``note`` and ``jcs`` and the standard library
(an import-linter contract keeps it so). Documents are read as the public API serves
them: the checkpoint as text, proofs as JSON with standard base64 hashes.

Every check either returns a sentence saying what was proven or raises
:class:`VerifyError` naming exactly what failed; :class:`LogForked` and
:class:`LogRolledBack` are the two failures that mean the log itself misbehaved
(rather than a file being damaged or a key being wrong)::

    ValueError
     └── VerifyError          a document does not verify; the message says which and why
          ├── LogForked       two checkpoints that cannot both be of one append-only log
          └── LogRolledBack   a later checkpoint is smaller than an earlier one
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from daihuo.ledger import merkle, note
from daihuo.ledger.jcs import canonical_json


class VerifyError(ValueError):
    """A document does not verify; the message says which one and why."""


class LogForked(VerifyError):
    """Two checkpoints cannot both belong to one append-only log."""


class LogRolledBack(VerifyError):
    """A later checkpoint has fewer leaves than an earlier one."""


# --- inputs ---------------------------------------------------------------------------


def load_verifiers(values: Iterable[str]) -> list[note.Verifier]:
    """Verifier keys from key strings or from files holding one key string per line."""
    out: list[note.Verifier] = []
    for value in values:
        value = value.strip()
        try:
            out.append(note.parse_verifier_key(value))
            continue
        except note.NoteError as exc:
            path = Path(value)
            if not path.is_file():
                raise VerifyError(f"key {value!r}: not a verifier key ({exc}) nor a file") from exc
        lines = [x.strip() for x in _read_text(path, "key file").splitlines()]
        keys = [x for x in lines if x and not x.startswith("#")]
        if not keys:
            raise VerifyError(f"key file {path}: holds no key")
        for n, line in enumerate(keys, 1):
            try:
                out.append(note.parse_verifier_key(line))
            except note.NoteError as exc:
                raise VerifyError(f"key file {path}, key {n}: {exc}") from exc
    if not out:
        raise VerifyError("no verifier key given")
    return out


def read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(_read_bytes(path, what))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VerifyError(f"{what} {path}: not JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise VerifyError(f"{what} {path}: not a JSON object")
    return doc


def read_checkpoint(path: Path, verifiers: Sequence[note.Verifier], what: str) -> note.Checkpoint:
    return open_checkpoint(_read_bytes(path, what), verifiers, what=f"{what} {path}")


# --- checks ---------------------------------------------------------------------------


def open_checkpoint(
    signed: str | bytes, verifiers: Sequence[note.Verifier], *, what: str = "checkpoint"
) -> note.Checkpoint:
    """The checkpoint in a signed note, once a signature by one of ``verifiers`` holds."""
    known = ", ".join(f"{v.name}+{v.key_id:08x}" for v in verifiers)
    try:
        opened = note.open_note(signed, verifiers)
    except note.UnverifiedNote as exc:
        raise VerifyError(f"{what}: no signature by the given key ({known})") from exc
    except note.BadSignature as exc:
        raise VerifyError(
            f"{what}: bad signature — {exc}; the checkpoint text was altered or forged"
        ) from exc
    except note.NoteError as exc:
        raise VerifyError(f"{what}: not a signed note — {exc}") from exc
    try:
        return note.Checkpoint.parse(opened.text)
    except note.CheckpointError as exc:
        raise VerifyError(f"{what}: {_name(exc)} — {exc}") from exc


def entry_leaf(data: bytes) -> bytes:
    """The leaf bytes of an entry file: the RFC 8785 form of the JSON it holds."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VerifyError(f"entry: not JSON ({exc})") from exc
    try:
        return canonical_json(value)
    except (TypeError, ValueError) as exc:
        raise VerifyError(f"entry: cannot be canonicalised (RFC 8785): {exc}") from exc


def decode_hashes(values: object, what: str) -> list[bytes]:
    if not isinstance(values, list):
        raise VerifyError(f"{what}: not a list of base64 hashes")
    return [decode_hash(v, f"{what}[{i}]") for i, v in enumerate(values)]


def decode_hash(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise VerifyError(f"{what}: not a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise VerifyError(f"{what}: not standard base64") from exc
    if len(raw) != merkle.HASH_SIZE:
        raise VerifyError(f"{what}: {len(raw)} bytes, not {merkle.HASH_SIZE}")
    return raw


def verify_inclusion(
    checkpoint: note.Checkpoint,
    leaf: bytes,
    proof_doc: Mapping[str, Any],
    index: int | None = None,
) -> str:
    """Prove that ``leaf`` (entry bytes) is in the tree ``checkpoint`` signs."""
    doc_index = _int(proof_doc.get("index"), "proof: index")
    size = _int(proof_doc.get("size"), "proof: size")
    if index is not None and index != doc_index:
        raise VerifyError(f"proof: made for leaf {doc_index}, not for the given index {index}")
    if size != checkpoint.size:
        raise VerifyError(
            f"proof: made for tree size {size}, but the checkpoint signs size {checkpoint.size}"
        )
    proof = decode_hashes(proof_doc.get("proof"), "proof: proof")
    leaf_hash = merkle.leaf_hash(leaf)
    if "leaf_hash" in proof_doc:
        claimed = decode_hash(proof_doc["leaf_hash"], "proof: leaf_hash")
        if claimed != leaf_hash:
            raise VerifyError(
                f"entry: hashes to {_b64(leaf_hash)}, but the proof is for leaf hash "
                f"{_b64(claimed)}: the entry was altered or is not leaf {doc_index}"
            )
    try:
        merkle.verify_inclusion(leaf_hash, doc_index, size, proof, checkpoint.root)
    except merkle.ProofError as exc:
        raise VerifyError(f"inclusion proof: {_name(exc)} — {exc}") from exc
    return (
        f"valid: leaf {doc_index} is in the tree of size {size} with root "
        f"{_b64(checkpoint.root)} ({checkpoint.origin})"
    )


def verify_consistency(
    old: note.Checkpoint, new: note.Checkpoint, proof_doc: Mapping[str, Any] | None
) -> str:
    """Prove that ``new`` extends ``old``: same log, nothing rewritten, nothing removed."""
    if old.origin != new.origin:
        raise VerifyError(f"checkpoints of different logs: {old.origin!r} and {new.origin!r}")
    if new.size < old.size:
        raise LogRolledBack(
            f"rollback: the newer checkpoint signs {new.size} leaves, the older {old.size}"
        )
    if new.size == old.size:
        if new.root != old.root:
            raise LogForked(
                f"fork: two checkpoints of size {new.size} with different roots "
                f"{_b64(old.root)} and {_b64(new.root)}"
            )
        return f"valid: both checkpoints sign the same tree of size {new.size}"
    if old.size == 0:
        if old.root != merkle.EMPTY_ROOT:
            raise LogForked("fork: a checkpoint of size 0 whose root is not the empty tree's")
        return f"valid: every tree extends the empty tree (new size {new.size})"
    if proof_doc is None:
        raise VerifyError(f"a consistency proof from size {old.size} to {new.size} is needed")
    doc_old = _int(proof_doc.get("old"), "proof: old")
    doc_new = _int(proof_doc.get("new"), "proof: new")
    if (doc_old, doc_new) != (old.size, new.size):
        raise VerifyError(
            f"proof: made for sizes {doc_old} -> {doc_new}, the checkpoints sign "
            f"{old.size} -> {new.size}"
        )
    proof = decode_hashes(proof_doc.get("proof"), "proof: proof")
    try:
        merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    except merkle.RootMismatch as exc:
        raise LogForked(
            f"fork: the proof does not show the tree of size {new.size} extending the tree of "
            f"size {old.size} — {_name(exc)}: {exc}"
        ) from exc
    except merkle.ProofError as exc:
        raise VerifyError(f"consistency proof: {_name(exc)} — {exc}") from exc
    return f"valid: the tree of size {new.size} extends the tree of size {old.size}"


# --- helpers --------------------------------------------------------------------------


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise VerifyError(f"{what}: not a non-negative integer")
    return value


def _name(exc: Exception) -> str:
    return type(exc).__name__


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise VerifyError(f"{what} {path}: {exc.strerror or exc}") from exc


def _read_text(path: Path, what: str) -> str:
    try:
        return _read_bytes(path, what).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VerifyError(f"{what} {path}: not UTF-8") from exc
