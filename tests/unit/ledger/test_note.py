"""C2SP signed notes and checkpoints: golang/mod and C2SP vectors, tampering, strict parsing."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from daihuo.ledger.merkle import inclusion_proof, leaf_hash, root, verify_inclusion
from daihuo.ledger.note import (
    BadCheckpointExtension,
    BadCheckpointOrigin,
    BadCheckpointRoot,
    BadCheckpointSize,
    BadKey,
    BadKeyName,
    BadSignature,
    Checkpoint,
    CheckpointError,
    KeyIdMismatch,
    MalformedNote,
    NoteError,
    Signer,
    TruncatedCheckpoint,
    UnverifiedNote,
    Verifier,
    generate_key,
    key_id,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "rfc6962.json").read_text(encoding="utf-8")
)
C2SP_CASE, GO_CASE = VECTORS["signed_note_vectors"]["cases"]
SPEC_CHECKPOINT = VECTORS["checkpoint_format"]["example_from_spec"]
TREE_NOTE_GOLDEN = VECTORS["sumdb_tlog"]["tree_note_golden"]

# A fixed seed keeps failures reproducible; it signs nothing outside these tests.
ALICE = Signer("example.com/alice", bytes(range(32)))
BOB = Signer("example.com/bob", bytes(range(32, 64)))
ROOT = bytes.fromhex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
ROOT_B64 = base64.b64encode(ROOT).decode()
URLSAFE_ROOT = base64.urlsafe_b64encode(bytes([0xFB]) * 32).decode()  # "-" and "_", not "+" "/"


def spec_key_id(name: str, public_key: bytes) -> str:
    """The key id by the letter of C2SP signed-note, as 8 hex digits."""
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + public_key).digest()[:4].hex()


# --- Vectors --------------------------------------------------------------------


def test_c2sp_example_note_verifies_with_its_verifier_key() -> None:
    verifier = parse_verifier_key(C2SP_CASE["vkey"])
    note = open_note(C2SP_CASE["note"], [verifier])
    assert note.text == "This is an example message.\n"
    assert [s.name for s in note.sigs] == ["example.com/foo"]
    assert note.unverified_sigs == []


def test_c2sp_example_key_id_follows_the_spec_formula() -> None:
    verifier = parse_verifier_key(C2SP_CASE["vkey"])
    assert spec_key_id(verifier.name, verifier.public_key) == "530d903a"
    assert verifier.key_id == 0x530D903A
    assert verifier.key_string() == C2SP_CASE["vkey"]


def test_go_signer_key_yields_the_go_verifier_key() -> None:
    signer = parse_signer_key(GO_CASE["skey"])
    assert signer.name == "PeterNeumann"
    assert f"{signer.key_id:08x}" == "c74f20a3"
    assert signer.key_string() == GO_CASE["skey"]
    assert signer.verifier().key_string() == GO_CASE["vkey"]
    assert spec_key_id(signer.name, signer.public_key) == "c74f20a3"


def test_signing_reproduces_the_go_example_note_byte_for_byte() -> None:
    # Ed25519 is deterministic, so the same seed and text give the same signature.
    assert sign_note(GO_CASE["text"], parse_signer_key(GO_CASE["skey"])) == GO_CASE["note"]


def test_the_go_example_note_opens_from_bytes() -> None:
    note = open_note(GO_CASE["note"].encode(), [parse_verifier_key(GO_CASE["vkey"])])
    assert note.text == GO_CASE["text"]


def test_spec_checkpoint_example_is_refused_without_its_key_but_its_text_parses() -> None:
    # The spec publishes no key for it: the signature line is well-formed but unknown.
    with pytest.raises(UnverifiedNote):
        open_note(SPEC_CHECKPOINT, [ALICE.verifier()])
    text = SPEC_CHECKPOINT[: SPEC_CHECKPOINT.rindex("\n\n") + 1]
    checkpoint = Checkpoint.parse(text)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert base64.b64encode(checkpoint.root).decode() == (
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    )
    assert checkpoint.to_text() == text


def test_checkpoint_reproduces_the_go_sumdb_tree_note() -> None:
    checkpoint = Checkpoint("go.sum database tree", 123456789012, leaf_hash(b"hello world"))
    assert checkpoint.to_text() == TREE_NOTE_GOLDEN
    assert Checkpoint.parse(TREE_NOTE_GOLDEN) == checkpoint


# --- Keys ------------------------------------------------------------------------


def test_key_id_is_the_first_four_bytes_of_sha256_name_newline_type_key() -> None:
    assert f"{key_id(ALICE.name, ALICE.public_key):08x}" == spec_key_id(
        ALICE.name, ALICE.public_key
    )


def test_generated_keys_round_trip_through_their_key_strings() -> None:
    signer, verifier = generate_key("daihuo.example/log")
    assert parse_signer_key(signer.key_string()) == signer
    assert parse_verifier_key(verifier.key_string()) == verifier
    assert signer.verifier() == verifier
    assert verifier.key_string().startswith(f"daihuo.example/log+{verifier.key_id:08x}+")


def test_signer_repr_does_not_show_the_seed() -> None:
    assert ALICE.seed.hex() not in repr(ALICE)
    assert repr(list(ALICE.seed)) not in repr(ALICE)


@pytest.mark.parametrize(
    "name",
    ["", "a+b", "has space", "tab\there", "ideographic\u3000space", "nbsp\u00a0", "bell\x07"],
)
def test_invalid_key_names_are_rejected(name: str) -> None:
    with pytest.raises(BadKeyName):
        generate_key(name)


def _vkey(name: str, id_hex: str, key: bytes) -> str:
    return f"{name}+{id_hex}+{base64.b64encode(key).decode()}"


GOOD_PUB = ALICE.public_key
GOOD_ID = f"{ALICE.key_id:08x}"


@pytest.mark.parametrize(
    ("vkey", "error"),
    [
        ("example.com/alice", BadKey),
        (f"example.com/alice+{GOOD_ID}", BadKey),
        (_vkey("example.com/alice", GOOD_ID.upper(), b"\x01" + GOOD_PUB), BadKey),
        (_vkey("example.com/alice", GOOD_ID[:7], b"\x01" + GOOD_PUB), BadKey),
        (_vkey("example.com/alice", GOOD_ID, b"\x02" + GOOD_PUB), BadKey),
        (_vkey("example.com/alice", GOOD_ID, b"\x01" + GOOD_PUB[:31]), BadKey),
        (_vkey("example.com/alice", GOOD_ID, b""), BadKey),
        (f"example.com/alice+{GOOD_ID}+not base64!", BadKey),
        (_vkey("example.com/alice", GOOD_ID, b"\x01" + GOOD_PUB) + "=", BadKey),
        (_vkey("example.com/alice", "00000000", b"\x01" + GOOD_PUB), KeyIdMismatch),
        (_vkey("example.com/mallory", GOOD_ID, b"\x01" + GOOD_PUB), KeyIdMismatch),
        (_vkey("", GOOD_ID, b"\x01" + GOOD_PUB), BadKeyName),
        (_vkey("two words", GOOD_ID, b"\x01" + GOOD_PUB), BadKeyName),
    ],
)
def test_malformed_verifier_keys_are_rejected(vkey: str, error: type[NoteError]) -> None:
    with pytest.raises(error):
        parse_verifier_key(vkey)


def test_verifier_key_with_a_plus_in_its_base64_parses() -> None:
    # The name and id hold no '+', so only the first two separate fields.
    for i in range(64):
        verifier = Signer("plus.example", bytes([i]) * 32).verifier()
        if "+" in verifier.key_string().split("+", 2)[2]:
            assert parse_verifier_key(verifier.key_string()) == verifier
            return
    pytest.fail("no test key with '+' in its base64 among 64 seeds")


def test_signer_key_needs_the_private_key_prefix() -> None:
    with pytest.raises(BadKey, match="PRIVATE"):
        parse_signer_key(GO_CASE["skey"].removeprefix("PRIVATE+"))
    with pytest.raises(BadKey):
        parse_signer_key(GO_CASE["vkey"])


def test_signer_key_with_the_wrong_key_id_is_rejected() -> None:
    skey = GO_CASE["skey"].replace("+c74f20a3+", "+c74f20a4+")
    with pytest.raises(KeyIdMismatch):
        parse_signer_key(skey)


# --- Signing and opening ------------------------------------------------------------


def test_sign_open_round_trip() -> None:
    signed = sign_note("hello\nworld\n", ALICE)
    assert signed.startswith("hello\nworld\n\n\u2014 example.com/alice ")
    note = open_note(signed, [ALICE.verifier()])
    assert note.text == "hello\nworld\n"
    assert [(s.name, s.key_id) for s in note.sigs] == [(ALICE.name, ALICE.key_id)]


def test_note_text_may_hold_blank_lines() -> None:
    text = "first\n\nthird\n\n"
    assert open_note(sign_note(text, ALICE), [ALICE.verifier()]).text == text


def test_tampered_text_fails_verification() -> None:
    signed = sign_note("pay 100\n", ALICE)
    with pytest.raises(BadSignature, match=r"example\.com/alice"):
        open_note(signed.replace("100", "900"), [ALICE.verifier()])


def test_tampered_signature_fails_verification() -> None:
    signed = sign_note("pay 100\n", ALICE)
    text, line = signed.rsplit("\n\n", 1)
    name_part, b64 = line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[10] ^= 1  # inside the signature, after the 4-byte key id
    forged = f"{text}\n\n{name_part} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(BadSignature):
        open_note(forged, [ALICE.verifier()])


def test_unknown_signature_line_is_ignored() -> None:
    signed = sign_note("checkpoint\n", ALICE, BOB)
    note = open_note(signed, [ALICE.verifier()])
    assert [s.name for s in note.sigs] == [ALICE.name]
    assert [(s.name, s.key_id) for s in note.unverified_sigs] == [(BOB.name, BOB.key_id)]


def test_a_key_sharing_only_the_name_is_treated_as_unknown() -> None:
    # The spec: ignore signatures that share a name or an id, but not both, with a known key.
    impostor = Signer(ALICE.name, bytes(32))
    signed = sign_note("checkpoint\n", impostor, ALICE)
    note = open_note(signed, [ALICE.verifier()])
    assert [s.key_id for s in note.sigs] == [ALICE.key_id]
    assert [s.key_id for s in note.unverified_sigs] == [impostor.key_id]


def test_wrong_key_fails() -> None:
    signed = sign_note("checkpoint\n", ALICE)
    with pytest.raises(UnverifiedNote):
        open_note(signed, [BOB.verifier()])
    with pytest.raises(UnverifiedNote):
        open_note(signed, [])


def test_two_signatures_both_verify() -> None:
    note = open_note(sign_note("x\n", ALICE, BOB), [ALICE.verifier(), BOB.verifier()])
    assert {s.name for s in note.sigs} == {ALICE.name, BOB.name}


def test_sign_requires_a_final_newline() -> None:
    with pytest.raises(MalformedNote, match="newline"):
        sign_note("no newline", ALICE)


def test_sign_requires_a_signer_and_refuses_duplicates() -> None:
    with pytest.raises(NoteError, match="at least one"):
        sign_note("x\n")
    with pytest.raises(NoteError, match="duplicate"):
        sign_note("x\n", ALICE, ALICE)


def test_sign_refuses_control_characters() -> None:
    with pytest.raises(MalformedNote, match="control"):
        sign_note("bell\x07\n", ALICE)


def test_known_keys_that_collide_on_name_and_id_are_refused() -> None:
    # Two keys whose ids collide under one name, found by a birthday search over
    # SHA-256("pub" || i) for 64-bit big-endian i. Trusting both would be ambiguous.
    first, second = (hashlib.sha256(b"pub" + i.to_bytes(8, "big")).digest() for i in (15406, 57967))
    twins = [Verifier("collide.example", first), Verifier("collide.example", second)]
    assert twins[0].key_id == twins[1].key_id == 0x9DFE62A4
    with pytest.raises(BadKey, match="share name and id"):
        open_note(sign_note("x\n", ALICE), [ALICE.verifier(), *twins])


def test_the_same_known_key_listed_twice_is_fine() -> None:
    assert open_note(sign_note("x\n", ALICE), [ALICE.verifier(), ALICE.verifier()]).text == "x\n"


def _line(name: str, payload: bytes) -> str:
    return f"\u2014 {name} {base64.b64encode(payload).decode()}\n"


GOOD_SIG_LINE = sign_note("x\n", ALICE).split("\n\n", 1)[1]


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        ("x\n" + GOOD_SIG_LINE, "no blank line"),
        ("x\n\n" + GOOD_SIG_LINE.rstrip("\n"), "end with a newline"),
        ("x\n\n" + GOOD_SIG_LINE.replace("\u2014", "-", 1), "em dash"),
        ("x\n\n" + GOOD_SIG_LINE.replace("\u2014 ", "\u2014", 1), "em dash"),
        ("x\n\n" + GOOD_SIG_LINE + "not a signature\n", "em dash"),
        ("x\n\n" + GOOD_SIG_LINE.replace(" ", "  ", 2), "invalid key name"),
        ("x\n\n" + _line("a+b", b"\x00" * 68), "invalid key name"),
        ("x\n\n\u2014 example.com/alice not*base64\n", "base64"),
        ("x\n\n\u2014 example.com/alice \n", "base64"),
        ("x\n\n" + _line("example.com/alice", b"\x01\x02\x03\x04"), "base64"),
        ("x\x00\n\n" + GOOD_SIG_LINE, "control"),
        ("x\r\n\n" + GOOD_SIG_LINE, "control"),
        ("x\n\n" + GOOD_SIG_LINE * 101, "more than 100"),
    ],
)
def test_malformed_notes_are_rejected(note: str, reason: str) -> None:
    with pytest.raises(MalformedNote, match=reason):
        open_note(note, [ALICE.verifier()])


def test_invalid_utf8_is_a_malformed_note() -> None:
    with pytest.raises(MalformedNote, match="UTF-8"):
        open_note(b"x\xff\n\n" + GOOD_SIG_LINE.encode(), [ALICE.verifier()])


def test_repeated_signature_lines_from_a_known_key_are_all_verified() -> None:
    assert len(open_note("x\n\n" + GOOD_SIG_LINE * 3, [ALICE.verifier()]).sigs) == 1
    # Go skips a repeat without checking it; a bad repeat must not slip through here.
    forged = _line(ALICE.name, ALICE.key_id.to_bytes(4, "big") + bytes(64))
    with pytest.raises(BadSignature):
        open_note("x\n\n" + GOOD_SIG_LINE + forged, [ALICE.verifier()])


# --- Checkpoints -------------------------------------------------------------------


def test_checkpoint_round_trip_with_extensions() -> None:
    checkpoint = Checkpoint("daihuo.example/log", 7, ROOT, ["ext one", "ext-two"])
    text = checkpoint.to_text()
    assert text == f"daihuo.example/log\n7\n{ROOT_B64}\next one\next-two\n"
    assert Checkpoint.parse(text) == checkpoint


def test_empty_tree_checkpoint_has_size_zero() -> None:
    empty_root = hashlib.sha256(b"").digest()
    text = f"o\n0\n{base64.b64encode(empty_root).decode()}\n"
    assert Checkpoint.parse(text) == Checkpoint("o", 0, empty_root)


@pytest.mark.parametrize(
    ("text", "error", "reason"),
    [
        ("", TruncatedCheckpoint, "newline"),
        (f"o\n1\n{ROOT_B64}", TruncatedCheckpoint, "newline"),
        ("o\n", TruncatedCheckpoint, "1 line"),
        ("o\n1\n", TruncatedCheckpoint, "2 line"),
        (f"\n1\n{ROOT_B64}\n", BadCheckpointOrigin, "empty"),
        (f"o\x07\n1\n{ROOT_B64}\n", BadCheckpointOrigin, "control"),
        (f"o\n01\n{ROOT_B64}\n", BadCheckpointSize, "leading"),
        (f"o\n00\n{ROOT_B64}\n", BadCheckpointSize, "leading"),
        (f"o\n-1\n{ROOT_B64}\n", BadCheckpointSize, "decimal"),
        (f"o\n+1\n{ROOT_B64}\n", BadCheckpointSize, "decimal"),
        (f"o\n 1\n{ROOT_B64}\n", BadCheckpointSize, "decimal"),
        (f"o\n1_000\n{ROOT_B64}\n", BadCheckpointSize, "decimal"),
        (f"o\n\u0661\n{ROOT_B64}\n", BadCheckpointSize, "decimal"),
        (f"o\n0x10\n{ROOT_B64}\n", BadCheckpointSize, "decimal"),
        (f"o\n\n{ROOT_B64}\n", BadCheckpointSize, "decimal"),
        (f"o\n9223372036854775808\n{ROOT_B64}\n", BadCheckpointSize, "2\\*\\*63"),
        ("o\n1\nnot base64!\n", BadCheckpointRoot, "base64"),
        (f"o\n1\n{ROOT_B64.rstrip('=')}\n", BadCheckpointRoot, "base64"),
        (f"o\n1\n{URLSAFE_ROOT}\n", BadCheckpointRoot, "base64"),
        (f"o\n1\n{ROOT_B64[:-2]}B=\n", BadCheckpointRoot, "canonical"),
        (f"o\n1\n{base64.b64encode(ROOT[:31]).decode()}\n", BadCheckpointRoot, "31 bytes"),
        (f"o\n1\n{base64.b64encode(ROOT + b'x').decode()}\n", BadCheckpointRoot, "33 bytes"),
        (f"o\n1\n{ROOT_B64}\n\n", BadCheckpointExtension, "empty"),
        (f"o\n1\n{ROOT_B64}\next\n\next\n", BadCheckpointExtension, "empty"),
        (f"o\n1\n{ROOT_B64}\next\x1b\n", BadCheckpointExtension, "control"),
    ],
)
def test_malformed_checkpoints_raise_precise_errors(
    text: str, error: type[CheckpointError], reason: str
) -> None:
    with pytest.raises(error, match=reason):
        Checkpoint.parse(text)


def test_a_signed_checkpoint_must_be_opened_before_parsing() -> None:
    signed = sign_note(Checkpoint("o", 1, ROOT).to_text(), ALICE)
    with pytest.raises(BadCheckpointExtension, match="opened"):
        Checkpoint.parse(signed)


def test_checkpoint_constructor_validates_its_fields() -> None:
    with pytest.raises(BadCheckpointSize):
        Checkpoint("o", -1, ROOT)
    with pytest.raises(BadCheckpointRoot):
        Checkpoint("o", 1, ROOT[:16])
    with pytest.raises(BadCheckpointOrigin):
        Checkpoint("", 1, ROOT)
    with pytest.raises(BadCheckpointExtension):
        Checkpoint("o", 1, ROOT, ["two\nlines"])


def test_every_note_and_checkpoint_error_is_a_value_error() -> None:
    note_errors = (BadKeyName, BadKey, KeyIdMismatch, MalformedNote, BadSignature, UnverifiedNote)
    assert all(issubclass(cls, NoteError) for cls in note_errors)
    assert issubclass(KeyIdMismatch, BadKey)
    checkpoint_errors = (
        TruncatedCheckpoint,
        BadCheckpointOrigin,
        BadCheckpointSize,
        BadCheckpointRoot,
        BadCheckpointExtension,
    )
    assert all(issubclass(cls, CheckpointError) for cls in checkpoint_errors)
    assert issubclass(NoteError, ValueError)
    assert issubclass(CheckpointError, ValueError)


def test_a_signed_checkpoint_proves_an_entry_end_to_end() -> None:
    leaves = [leaf_hash(f'{{"id":"o-{i}","kind":"order"}}'.encode()) for i in range(5)]
    log_key = Signer("daihuo.example/log", bytes(range(100, 132)))
    published = sign_note(Checkpoint("daihuo.example/log", 5, root(leaves)).to_text(), log_key)

    # The verifier side knows only the verifier key string.
    opened = open_note(published, [parse_verifier_key(log_key.verifier().key_string())])
    checkpoint = Checkpoint.parse(opened.text)
    proof = inclusion_proof(leaves, 3, 5)
    assert verify_inclusion(leaves[3], 3, checkpoint.size, proof, checkpoint.root)
