"""The log's signing keys: where they live, how they rotate, which keys are published.

Keys come from ``Settings.ledger_signer_key`` if set, else from the key file
(``Settings.ledger_key_file``, default ``<data_dir>/ledger.key``), created with mode
0600 on first use. A key file readable by anyone but its owner is refused, as ssh
refuses such a private key.

Both hold lines of C2SP key strings (``#`` comments and blank lines ignored):

* ``PRIVATE+KEY+<name>+<id>+<seed>``: a signer key; every one of them signs every
  checkpoint (normally there is one);
* ``<name>+<id>+<key>``: a verifier key published without signing — a retired key,
  so checkpoints it signed stay checkable.

Rotation (``daihuo ledger rotate-key``) writes a fresh signer key in front and turns
each old signer line into its verifier key: new checkpoints carry the new signature,
``GET /api/v1/ledger/keys`` lists both. ``Settings.ledger_verifier_keys`` adds
verifier keys to publish when the signer key comes from configuration.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from daihuo.config import Settings
from daihuo.ledger import note
from daihuo.ledger.errors import LedgerKeyError

HEADER = (
    "# Daihuo transparency log keys. Every PRIVATE+KEY line signs each checkpoint;\n"
    "# the other lines are published verifier keys of retired signers. Keep this file 0600.\n"
)


@dataclass(frozen=True)
class KeyRing:
    """The keys that sign checkpoints and the verifier keys the log publishes."""

    origin: str
    signers: tuple[note.Signer, ...]
    retired: tuple[note.Verifier, ...] = ()

    def __post_init__(self) -> None:
        if not self.signers:
            raise LedgerKeyError("the ledger has no signer key")

    @property
    def published(self) -> list[note.Verifier]:
        """Signers' verifier keys first, then retired ones; no duplicates."""
        out: list[note.Verifier] = []
        for v in [s.verifier() for s in self.signers] + list(self.retired):
            if v not in out:
                out.append(v)
        return out

    def sign(self, checkpoint: note.Checkpoint) -> str:
        return note.sign_note(checkpoint.to_text(), *self.signers)

    def signed_by_all(self, signed: str) -> bool:
        """True if every current signer has a valid signature on ``signed``."""
        try:
            opened = note.open_note(signed, [s.verifier() for s in self.signers])
        except note.NoteError:
            return False
        return {(s.name, s.key_id) for s in opened.sigs} == {
            (s.name, s.key_id) for s in self.signers
        }


def key_file(settings: Settings) -> Path:
    return settings.ledger_key_file or settings.data_dir / "ledger.key"


def load_keyring(settings: Settings) -> KeyRing:
    """The configured keys, else the key file's (created with a fresh key if absent)."""
    extra = [
        _parse_verifier(k, "DAIHUO_LEDGER_VERIFIER_KEYS") for k in settings.ledger_verifier_keys
    ]
    if settings.ledger_signer_key is not None:
        signers, retired = parse_keys(
            settings.ledger_signer_key.get_secret_value().splitlines(), "DAIHUO_LEDGER_SIGNER_KEY"
        )
    else:
        path = key_file(settings)
        if not path.exists():
            signer, _ = _generate(settings.ledger_origin)
            _write_new(path, HEADER + signer.key_string() + "\n")
        signers, retired = parse_keys(read_key_file(path), str(path))
    if not signers:
        raise LedgerKeyError("no PRIVATE+KEY line: the ledger has no signer key")
    return KeyRing(settings.ledger_origin, tuple(signers), tuple(retired + extra))


def published_verifiers(settings: Settings) -> list[note.Verifier]:
    """The verifier keys the log publishes, without creating a key file."""
    path = key_file(settings)
    if settings.ledger_signer_key is None and not path.exists():
        extra = settings.ledger_verifier_keys
        return [_parse_verifier(k, "DAIHUO_LEDGER_VERIFIER_KEYS") for k in extra]
    return load_keyring(settings).published


def read_key_file(path: Path) -> list[str]:
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise LedgerKeyError(
                f"key file {path} has mode {mode:04o}; it must be readable by its owner only "
                f"(chmod 600 {path})"
            )
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LedgerKeyError(f"cannot read key file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise LedgerKeyError(f"key file {path} is not UTF-8") from exc


def parse_keys(lines: Iterable[str], where: str) -> tuple[list[note.Signer], list[note.Verifier]]:
    signers: list[note.Signer] = []
    verifiers: list[note.Verifier] = []
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("PRIVATE+KEY+"):
            try:
                signers.append(note.parse_signer_key(line))
            except note.NoteError as exc:
                raise LedgerKeyError(f"{where} line {n}: {exc}") from exc
        else:
            verifiers.append(_parse_verifier(line, f"{where} line {n}"))
    return signers, verifiers


def rotate_key(settings: Settings) -> tuple[note.Verifier, list[note.Verifier]]:
    """A fresh signer in front of the key file; old signers become published verifier keys.

    Returns the new verifier key and the retired ones. The running server signs with
    the new key once restarted.
    """
    if settings.ledger_signer_key is not None:
        raise LedgerKeyError(
            "the signer key comes from DAIHUO_LEDGER_SIGNER_KEY: set a new one there and list "
            "the old verifier key in DAIHUO_LEDGER_VERIFIER_KEYS"
        )
    path = key_file(settings)
    old_signers, old_verifiers = (
        parse_keys(read_key_file(path), str(path)) if path.exists() else ([], [])
    )
    signer, verifier = _generate(settings.ledger_origin)
    retired = [s.verifier() for s in old_signers]
    lines = [signer.key_string()] + [v.key_string() for v in retired + old_verifiers]
    _write_replace(path, HEADER + "\n".join(lines) + "\n")
    return verifier, retired


def _generate(origin: str) -> tuple[note.Signer, note.Verifier]:
    try:
        return note.generate_key(origin)
    except note.NoteError as exc:
        raise LedgerKeyError(f"origin {origin!r} cannot name a key: {exc}") from exc


def _parse_verifier(key: str, where: str) -> note.Verifier:
    try:
        return note.parse_verifier_key(key.strip())
    except note.NoteError as exc:
        raise LedgerKeyError(f"{where}: {exc}") from exc


def _write_new(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 unless it exists; concurrent creators agree on one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    _write_private(tmp, text)
    try:
        os.link(tmp, path)  # atomic, and fails if another process created it first
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def _write_replace(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    _write_private(tmp, text)
    try:
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
