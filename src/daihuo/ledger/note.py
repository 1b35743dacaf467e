"""C2SP signed notes with Ed25519, and C2SP tlog-checkpoint texts.

A signed note is a text ending in a newline, a blank line, then one or more lines
``— <key name> <base64(4-byte key id || signature)>`` (em dash U+2014, space). Keys
and key strings are those of golang.org/x/mod/sumdb/note, so Go tools read ours:

* key id: the first 4 bytes, big-endian, of ``SHA-256(name || 0x0A || 0x01 || pubkey)``
* verifier key: ``<name>+<8 hex key id>+<base64(0x01 || 32-byte public key)>``
* signer key: ``PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>``
* key names are non-empty with no ``+``, no Unicode space and no control character

Opening a note verifies every signature line whose name and key id match a known
key; lines from other keys are kept but not trusted. Stricter than Go on input Go
never produces: hex key ids must be lowercase, base64 must be canonical, and a
repeated line from a known key is verified again rather than skipped.

A checkpoint is note text: origin line, decimal tree size (no leading zeros), root
hash in standard base64, then optional non-empty extension lines.

Errors::

    ValueError
     ├── NoteError                  keys and signed notes
     │    ├── BadKeyName            empty, or holds '+', a space or a control character
     │    ├── BadKey                malformed key string, unsupported algorithm, bad length
     │    │    └── KeyIdMismatch    the key id in a key string is not the key's id
     │    ├── MalformedNote         not a well-formed signed note
     │    ├── BadSignature          a signature by a known key does not verify
     │    └── UnverifiedNote        no signature by any known key
     └── CheckpointError            checkpoint text
          ├── TruncatedCheckpoint   fewer than three lines, or no final newline
          ├── BadCheckpointOrigin   empty origin or a control character in it
          ├── BadCheckpointSize     not canonical decimal, or beyond 2**63 - 1
          ├── BadCheckpointRoot     not canonical standard base64 of 32 bytes
          └── BadCheckpointExtension  an empty extension line or a control character
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100  # same bound as Go; the spec asks for at least 16
MAX_TREE_SIZE = 2**63 - 1  # Go's tlog keeps tree sizes in an int64

_HEX_ID = re.compile(r"[0-9a-f]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A key or signed note is invalid; the subclass names what failed."""


class BadKeyName(NoteError):
    """A key name is empty or holds '+', a Unicode space or a control character."""


class BadKey(NoteError):
    """A key or key string is malformed or of an unsupported algorithm."""


class KeyIdMismatch(BadKey):
    """A key string's key id does not match its name and key."""


class MalformedNote(NoteError):
    """The text is not a well-formed signed note."""


class BadSignature(NoteError):
    """A signature line from a known key fails to verify."""


class UnverifiedNote(NoteError):
    """No signature line comes from a known key."""


class CheckpointError(ValueError):
    """A checkpoint text is invalid; the subclass names what failed."""


class TruncatedCheckpoint(CheckpointError):
    """The checkpoint lacks its origin, size or root line, or its final newline."""


class BadCheckpointOrigin(CheckpointError):
    """The origin line is empty or holds a control character."""


class BadCheckpointSize(CheckpointError):
    """The tree size line is not a canonical decimal in range."""


class BadCheckpointRoot(CheckpointError):
    """The root hash line is not canonical standard base64 of 32 bytes."""


class BadCheckpointExtension(CheckpointError):
    """An extension line is empty or holds a control character."""


def key_id(name: str, public_key: bytes) -> int:
    """The C2SP key id of an Ed25519 key: 4 bytes of SHA-256(name, 0x0A, 0x01, key)."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key that checks note signatures."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.public_key) != 32:
            raise BadKey(f"an Ed25519 public key is 32 bytes, not {len(self.public_key)}")

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key)

    def key_string(self) -> str:
        encoded = _b64encode(bytes([ALG_ED25519]) + self.public_key)
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A named Ed25519 private key (its 32-byte seed) that signs notes."""

    name: str
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.seed) != 32:
            raise BadKey(f"an Ed25519 seed is 32 bytes, not {len(self.seed)}")

    @property
    def public_key(self) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key)

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.public_key)

    def key_string(self) -> str:
        encoded = _b64encode(bytes([ALG_ED25519]) + self.seed)
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{encoded}"

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


@dataclass(frozen=True)
class Signature:
    """One signature line: who signed (name, key id) and the base64 as written."""

    name: str
    key_id: int
    base64: str


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the verified signatures and the ones from unknown keys."""

    text: str
    sigs: list[Signature]
    unverified_sigs: list[Signature]


def generate_key(name: str) -> tuple[Signer, Verifier]:
    """A fresh Ed25519 key pair named ``name``."""
    signer = Signer(name, secrets.token_bytes(32))
    return signer, signer.verifier()


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse ``<name>+<hex id>+<base64(0x01 || public key)>``."""
    name, id_hex, key = _parse_key_fields(vkey, "verifier key")
    verifier = Verifier(name, key)
    _check_key_id(id_hex, verifier.key_id, name)
    return verifier


def parse_signer_key(skey: str) -> Signer:
    """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>``."""
    prefix = "PRIVATE+KEY+"
    if not skey.startswith(prefix):
        raise BadKey("a signer key starts with PRIVATE+KEY+")
    name, id_hex, seed = _parse_key_fields(skey[len(prefix) :], "signer key")
    signer = Signer(name, seed)
    _check_key_id(id_hex, signer.key_id, name)
    return signer


def sign_note(text: str, *signers: Signer) -> str:
    """``text`` followed by a blank line and one signature line per signer."""
    if not text.endswith("\n"):
        raise MalformedNote("note text must end with a newline")
    _check_note_chars(text)
    if not signers:
        raise NoteError("a signed note needs at least one signer")
    message = text.encode()
    lines: list[str] = []
    seen: set[tuple[str, int]] = set()
    for signer in signers:
        who = (signer.name, signer.key_id)
        if who in seen:
            raise NoteError(f"duplicate signer {signer.name}+{signer.key_id:08x}")
        seen.add(who)
        blob = signer.key_id.to_bytes(4, "big") + signer.sign(message)
        lines.append(f"{SIG_PREFIX}{signer.name} {_b64encode(blob)}\n")
    return text + "\n" + "".join(lines)


def open_note(note: str | bytes, known: Iterable[Verifier]) -> Note:
    """Parse ``note`` and verify it against the ``known`` keys.

    Raises unless at least one signature by a known key verifies and none fails.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNote("a note must be valid UTF-8") from exc
    _check_note_chars(note)
    keys: dict[tuple[str, int], Verifier] = {}
    for v in known:
        if keys.setdefault((v.name, v.key_id), v) != v:
            raise BadKey(f"two known keys share name and id {v.name}+{v.key_id:08x}")

    # The last blank line separates the text (which may hold blank lines) from
    # the signatures.
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNote("no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNote("the signature block must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"more than {MAX_SIGNATURES} signature lines")

    message = text.encode()
    verified: dict[tuple[str, int], Signature] = {}
    unverified: list[Signature] = []
    for line in lines:
        sig, signature = _parse_signature_line(line)
        verifier = keys.get((sig.name, sig.key_id))
        if verifier is None:
            unverified.append(sig)  # the spec says: ignore unknown keys
            continue
        if not verifier.verify(message, signature):
            raise BadSignature(f"signature by {sig.name}+{sig.key_id:08x} does not verify")
        verified.setdefault((sig.name, sig.key_id), sig)
    if not verified:
        raise UnverifiedNote("no signature from a known key")
    return Note(text, list(verified.values()), unverified)


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog-checkpoint: the log's origin, tree size and root hash."""

    origin: str
    size: int
    root: bytes
    extensions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_origin(self.origin)
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise BadCheckpointSize(f"tree size {self.size} is outside 0..2**63-1")
        if len(self.root) != 32:
            raise BadCheckpointRoot(f"root hash is {len(self.root)} bytes, not 32")
        for line in self.extensions:
            if not line or _has_control(line):
                raise BadCheckpointExtension(
                    f"extension line {line!r} is empty or has a control character"
                )

    def to_text(self) -> str:
        lines = [self.origin, str(self.size), _b64encode(self.root), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text (already opened: no signature lines)."""
        if not text.endswith("\n"):
            raise TruncatedCheckpoint("checkpoint text does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise TruncatedCheckpoint(
                f"checkpoint has {len(lines)} line(s); origin, size and root are required"
            )
        origin, size_line, root_line, *extensions = lines
        _check_origin(origin)
        if not _DECIMAL.fullmatch(size_line):
            raise BadCheckpointSize(f"tree size {size_line!r} is not a decimal without leading 0")
        root = _b64decode(root_line)
        if root is None:
            raise BadCheckpointRoot(f"root hash {root_line!r} is not canonical standard base64")
        if "" in extensions:
            raise BadCheckpointExtension(
                "empty extension line (a signed note must be opened before parsing)"
            )
        return cls(origin, int(size_line), root, extensions)


def _check_origin(origin: str) -> None:
    if not origin or _has_control(origin):
        raise BadCheckpointOrigin(f"origin {origin!r} is empty or has a control character")


def _parse_key_fields(key: str, what: str) -> tuple[str, str, bytes]:
    # The name and hex id hold no '+', but base64 may: split at the first two only.
    name, sep1, rest = key.partition("+")
    id_hex, sep2, encoded = rest.partition("+")
    if not sep1 or not sep2:
        raise BadKey(f"a {what} is name+keyid+key")
    _check_name(name)
    if not _HEX_ID.fullmatch(id_hex):
        raise BadKey(f"key id {id_hex!r} is not 8 lowercase hex digits")
    raw = _b64decode(encoded)
    if raw is None:
        raise BadKey(f"the {what} is not canonical standard base64")
    if not raw or raw[0] != ALG_ED25519:
        raise BadKey(f"the {what} is not an Ed25519 (0x01) key")
    return name, id_hex, raw[1:]


def _check_key_id(id_hex: str, actual: int, name: str) -> None:
    if int(id_hex, 16) != actual:
        raise KeyIdMismatch(f"key id {id_hex} of {name} should be {actual:08x}")


def _parse_signature_line(line: str) -> tuple[Signature, bytes]:
    """The signature line's name, key id and base64, and the signature bytes."""
    if not line.startswith(SIG_PREFIX):
        raise MalformedNote(f"signature line {line!r} does not start with an em dash and space")
    name, _, encoded = line[len(SIG_PREFIX) :].partition(" ")
    if not _valid_name(name):
        raise MalformedNote(f"signature line {line!r} has an invalid key name")
    raw = _b64decode(encoded)
    if raw is None or len(raw) < 5:
        raise MalformedNote(f"signature line {line!r} has no key id and signature in base64")
    return Signature(name, int.from_bytes(raw[:4], "big"), encoded), raw[4:]


def _valid_name(name: str) -> bool:
    return bool(name) and not any(c == "+" or c.isspace() or _is_control(c) for c in name)


def _check_name(name: str) -> None:
    if not _valid_name(name):
        raise BadKeyName(
            f"key name {name!r} must be non-empty, without '+', spaces or control characters"
        )


def _is_control(c: str) -> bool:
    # Notes forbid ASCII controls; lone surrogates cannot be encoded as UTF-8.
    return c < " " or "\ud800" <= c <= "\udfff"


def _has_control(s: str) -> bool:
    return any(_is_control(c) for c in s)


def _check_note_chars(s: str) -> None:
    if any(_is_control(c) and c != "\n" for c in s):
        raise MalformedNote("a note holds no control character other than newline")


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(s: str) -> bytes | None:
    """Standard base64 with padding, canonical only; None if ``s`` is anything else."""
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return None
    # Re-encoding rejects non-zero padding bits, so one value has one spelling.
    return raw if _b64encode(raw) == s else None
