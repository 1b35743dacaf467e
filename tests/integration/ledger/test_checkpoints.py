"""Signed checkpoints: one per batch, each consistent with the one before, signed by a
key that lives in a 0600 file or in configuration, and rotatable with both keys
published."""

from __future__ import annotations

import itertools
import os
import re
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from daihuo.core.db import Database
from daihuo.ledger import merkle, note
from daihuo.ledger.errors import LedgerHalted, LedgerKeyError
from daihuo.ledger.keys import key_file, load_keyring, rotate_key
from daihuo.ledger.service import consistency_proof

from tests.conftest import DatabaseFactory
from tests.integration.ledger.support import (
    entry,
    ledger_settings,
    running_ledger,
    sql,
    stored_leaf_hashes,
)


async def signed_notes(url: str) -> list[str]:
    return [str(r[0]) for r in await sql(url, "SELECT note FROM ledger_checkpoints ORDER BY id")]


def open_checkpoint(signed: str, keys: list[note.Verifier]) -> note.Checkpoint:
    return note.Checkpoint.parse(note.open_note(signed, keys).text)


async def test_every_batch_is_signed_and_each_checkpoint_extends_the_one_before(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    settings = ledger_settings(url, tmp_path, ledger_origin="shop.example/log")
    async with running_ledger(settings) as ledger:
        n = 0
        for size in (3, 1, 8, 5):
            await ledger.append_entries([entry(n + i) for i in range(size)])
            n += size
        published = ledger.keyring.published if ledger.keyring else []
    hashes = await stored_leaf_hashes(url)
    cps = [open_checkpoint(s, published) for s in await signed_notes(url)]
    assert [c.size for c in cps] == [3, 4, 12, 17]
    assert {c.origin for c in cps} == {"shop.example/log"}
    for c in cps:
        assert c.root == merkle.root(hashes[: c.size])
    db = Database(url)
    try:
        async with db.session() as session:
            for old, new in itertools.pairwise(cps):
                proof = await consistency_proof(session, old.size, new.size)
                assert merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    finally:
        await db.dispose()


async def test_the_key_file_is_created_0600_on_first_use_and_kept(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    settings = ledger_settings(url, tmp_path)
    path = key_file(settings)
    assert not path.exists()
    async with running_ledger(settings) as ledger:
        await ledger.append_entry(entry(0))
        first = ledger.keyring.published if ledger.keyring else []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "PRIVATE+KEY+daihuo.local/log+" in path.read_text()
    async with running_ledger(settings) as ledger:
        assert ledger.keyring is not None and ledger.keyring.published == first
        await ledger.append_entry(entry(1))
    assert len(await signed_notes(url)) == 2, "the same key: no re-signing on restart"


async def test_a_key_file_others_can_read_is_refused_and_nothing_is_signed(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    settings = ledger_settings(url, tmp_path)
    load_keyring(settings)
    os.chmod(key_file(settings), 0o644)
    with pytest.raises(LedgerKeyError, match="mode 0644"):
        load_keyring(settings)
    async with running_ledger(settings) as ledger:
        assert ledger.halted is not None and "chmod 600" in ledger.halted
        with pytest.raises(LedgerHalted):
            await ledger.append_entry(entry(0))
    assert await signed_notes(url) == []


async def test_a_key_from_configuration_signs_and_no_file_is_written(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    signer, verifier = note.generate_key("daihuo.local/log")
    settings = ledger_settings(url, tmp_path, ledger_signer_key=SecretStr(signer.key_string()))
    async with running_ledger(settings) as ledger:
        await ledger.append_entries([entry(0), entry(1)])
    assert not key_file(settings).exists()
    (signed,) = await signed_notes(url)
    assert open_checkpoint(signed, [verifier]).size == 2
    with pytest.raises(LedgerKeyError, match="DAIHUO_LEDGER_SIGNER_KEY"):
        rotate_key(settings)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("PRIVATE+KEY+daihuo.local/log+00000000+AQ==", "DAIHUO_LEDGER_SIGNER_KEY line 1"),
        ("not a key", "DAIHUO_LEDGER_SIGNER_KEY line 1"),
        ("# only a comment", "no PRIVATE+KEY line"),
    ],
)
def test_a_malformed_configured_key_is_named(tmp_path: Path, bad: str, message: str) -> None:
    settings = ledger_settings("sqlite+aiosqlite://", tmp_path, ledger_signer_key=SecretStr(bad))
    with pytest.raises(LedgerKeyError, match=re.escape(message)):
        load_keyring(settings)


async def test_key_rotation_publishes_both_keys_and_keeps_the_tree_consistent(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    settings = ledger_settings(url, tmp_path)
    async with running_ledger(settings) as ledger:
        await ledger.append_entries([entry(i) for i in range(5)])
        assert ledger.keyring is not None
        (old_key,) = ledger.keyring.published

    new_key, retired = rotate_key(settings)
    assert retired == [old_key] and new_key != old_key
    assert stat.S_IMODE(key_file(settings).stat().st_mode) == 0o600

    async with running_ledger(settings) as ledger:
        assert ledger.keyring is not None
        assert ledger.keyring.published == [new_key, old_key]
        await ledger.append_entries([entry(i) for i in range(5, 9)])

    notes = await signed_notes(url)
    # Before: the old key. On restart the same tree is re-signed with the new key, then on.
    sizes = [open_checkpoint(s, [old_key, new_key]).size for s in notes]
    assert sizes == [5, 5, 9]
    assert open_checkpoint(notes[0], [old_key]).size == 5
    with pytest.raises(note.UnverifiedNote):
        note.open_note(notes[0], [new_key])
    for later in notes[1:]:
        with pytest.raises(note.UnverifiedNote):
            note.open_note(later, [old_key])
        open_checkpoint(later, [new_key])
    first, resigned = open_checkpoint(notes[0], [old_key]), open_checkpoint(notes[1], [new_key])
    assert (first.size, first.root) == (resigned.size, resigned.root)


async def test_configured_verifier_keys_are_published_after_the_signing_key(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    _, retired = note.generate_key("daihuo.local/log")
    settings = ledger_settings(url, tmp_path, ledger_verifier_keys=[retired.key_string()])
    keyring = load_keyring(settings)
    assert keyring.published[1:] == [retired]
    assert keyring.published[0] == keyring.signers[0].verifier()
