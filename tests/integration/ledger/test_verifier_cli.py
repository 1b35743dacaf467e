"""``daihuo ledger verify`` and ``fsck`` as a user runs them: a child process, documents
saved from the public API, one line saying valid or exactly what failed."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from daihuo.ledger import note

from tests.conftest import DatabaseFactory, client_for
from tests.integration.ledger.support import (
    daihuo,
    drop_append_only_triggers,
    entry,
    ledger_settings,
    roll_back_to,
    settings_env,
    sql,
)

PREFIX = "/api/v1/ledger"


class Saved:
    """Documents a user saved from the API of a log with 12 leaves (checkpoint at 7 and 12)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.key = (folder / "key.txt").read_text().split()[0]

    def path(self, name: str) -> str:
        return str(self.folder / name)

    def write(self, name: str, data: bytes | str) -> str:
        p = self.folder / name
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        return str(p)


@pytest.fixture
async def saved(databases: DatabaseFactory, tmp_path: Path) -> Saved:
    url = await databases.new()
    settings = ledger_settings(url, tmp_path)
    folder = tmp_path / "saved"
    folder.mkdir()
    app = client_for(settings)
    async with app as client:
        ledger = app.app.state.ledger
        await ledger.append_entries([entry(i) for i in range(7)])
        (folder / "checkpoint-7.txt").write_text((await client.get(f"{PREFIX}/checkpoint")).text)
        await ledger.append_entries([entry(i) for i in range(7, 12)])
        (folder / "checkpoint-12.txt").write_text((await client.get(f"{PREFIX}/checkpoint")).text)
        r = await client.get(f"{PREFIX}/entries", params={"start": 5, "end": 6})
        (folder / "entry-5.json").write_bytes(base64.b64decode(r.json()["entries"][0]["data"]))
        r = await client.get(f"{PREFIX}/proof/inclusion", params={"index": 5, "size": 12})
        (folder / "inclusion-5-12.json").write_text(r.text)
        r = await client.get(f"{PREFIX}/proof/consistency", params={"old": 7, "new": 12})
        (folder / "consistency-7-12.json").write_text(r.text)
        keys = (await client.get(f"{PREFIX}/keys")).json()["keys"]
        (folder / "key.txt").write_text("\n".join(keys) + "\n")
    return Saved(folder)


def verify(saved: Saved, *args: str) -> subprocess.CompletedProcess[str]:
    return daihuo("ledger", "verify", *args)


def inclusion_args(saved: Saved, **over: str) -> list[str]:
    args = {
        "checkpoint": saved.path("checkpoint-12.txt"),
        "--key": saved.key,
        "--entry": saved.path("entry-5.json"),
        "--proof": saved.path("inclusion-5-12.json"),
    } | over
    out = [args.pop("checkpoint")]
    for flag, value in args.items():
        out += [flag, value]
    return out


def assert_failed(r: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert r.returncode == 1, r.stdout + r.stderr
    line = " ".join(r.stderr.split())
    assert line.startswith("error: "), r.stderr
    for needle in needles:
        assert needle in line, line
    assert "Traceback" not in r.stderr


def test_a_saved_entry_and_its_proof_verify(saved: Saved) -> None:
    r = verify(saved, *inclusion_args(saved))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("valid: leaf 5 is in the tree of size 12")


def test_a_pretty_printed_copy_of_the_entry_verifies_too(saved: Saved) -> None:
    pretty = json.dumps(json.loads(Path(saved.path("entry-5.json")).read_text()), indent=2)
    r = verify(saved, *inclusion_args(saved, **{"--entry": saved.write("pretty.json", pretty)}))
    assert r.returncode == 0, r.stderr


def test_a_key_file_works_like_a_key_string(saved: Saved) -> None:
    r = verify(saved, *inclusion_args(saved, **{"--key": saved.path("key.txt")}))
    assert r.returncode == 0, r.stderr


def test_a_tampered_entry_is_named(saved: Saved) -> None:
    doc = json.loads(Path(saved.path("entry-5.json")).read_text())
    doc["body"]["amount_fen"] = 1
    forged = saved.write("forged.json", json.dumps(doc))
    r = verify(saved, *inclusion_args(saved, **{"--entry": forged}))
    assert_failed(r, "entry: hashes to", "the entry was altered or is not leaf 5")


def test_a_tampered_entry_with_a_bare_proof_fails_the_root(saved: Saved) -> None:
    doc = json.loads(Path(saved.path("entry-5.json")).read_text())
    doc["body"]["amount_fen"] = 1
    proof = json.loads(Path(saved.path("inclusion-5-12.json")).read_text())
    del proof["leaf_hash"]
    r = verify(
        saved,
        *inclusion_args(
            saved,
            **{
                "--entry": saved.write("forged.json", json.dumps(doc)),
                "--proof": saved.write("bare.json", json.dumps(proof)),
            },
        ),
    )
    assert_failed(r, "inclusion proof: RootMismatch")


def test_a_wrong_key_is_named(saved: Saved) -> None:
    _, other = note.generate_key("daihuo.local/log")
    r = verify(saved, *inclusion_args(saved, **{"--key": other.key_string()}))
    assert_failed(r, "no signature by the given key", f"{other.key_id:08x}")


def test_a_truncated_checkpoint_is_named(saved: Saved) -> None:
    text = Path(saved.path("checkpoint-12.txt")).read_text()
    r = verify(saved, *inclusion_args(saved, checkpoint=saved.write("cut.txt", text[:30])))
    assert_failed(r, "not a signed note")


def test_a_checkpoint_without_its_root_line_is_named(saved: Saved) -> None:
    """Re-signed by the log's own key, so only the checkpoint's shape can fail."""
    text = Path(saved.path("checkpoint-12.txt")).read_text()
    body, _ = text.split("\n\n", 1)
    origin, size, _root = body.split("\n")
    key = (Path(saved.folder.parent) / "var" / "ledger.key").read_text().splitlines()
    signer = note.parse_signer_key(next(k for k in key if k.startswith("PRIVATE")))
    short = note.sign_note(f"{origin}\n{size}\n", signer)
    r = verify(saved, *inclusion_args(saved, checkpoint=saved.write("short.txt", short)))
    assert_failed(r, "TruncatedCheckpoint")


def test_a_checkpoint_with_an_altered_size_fails_its_signature(saved: Saved) -> None:
    text = Path(saved.path("checkpoint-12.txt")).read_text().replace("\n12\n", "\n13\n", 1)
    r = verify(saved, *inclusion_args(saved, checkpoint=saved.write("altered.txt", text)))
    assert_failed(r, "bad signature")


def test_a_proof_for_another_tree_size_is_named(saved: Saved) -> None:
    r = verify(saved, *inclusion_args(saved, checkpoint=saved.path("checkpoint-7.txt")))
    assert_failed(r, "made for tree size 12, but the checkpoint signs size 7")


def test_a_malformed_proof_is_named(saved: Saved) -> None:
    proof = json.loads(Path(saved.path("inclusion-5-12.json")).read_text())
    proof["proof"] = proof["proof"][:-1]
    r = verify(
        saved, *inclusion_args(saved, **{"--proof": saved.write("p.json", json.dumps(proof))})
    )
    assert_failed(r, "inclusion proof: WrongProofLength")
    proof["proof"] = ["AAAA"]
    r = verify(
        saved, *inclusion_args(saved, **{"--proof": saved.write("p.json", json.dumps(proof))})
    )
    assert_failed(r, "proof: proof[0]: 3 bytes, not 32")


def test_an_index_past_the_tree_or_another_index_is_named(saved: Saved) -> None:
    proof = json.loads(Path(saved.path("inclusion-5-12.json")).read_text())
    r = verify(saved, *inclusion_args(saved, **{"--index": "6"}))
    assert_failed(r, "proof: made for leaf 5, not for the given index 6")
    proof["index"] = 12
    r = verify(
        saved, *inclusion_args(saved, **{"--proof": saved.write("p.json", json.dumps(proof))})
    )
    assert_failed(r, "inclusion proof: IndexOutOfRange")


def test_signatures_by_unknown_keys_are_ignored(saved: Saved) -> None:
    """A witness may co-sign a checkpoint; a verifier who does not know it just skips it."""
    text = Path(saved.path("checkpoint-12.txt")).read_text()
    body, own = text.split("\n\n", 1)
    witness, _ = note.generate_key("witness.example")
    cosigned = note.sign_note(body + "\n", witness).split("\n\n", 1)[1]
    both = saved.write("cosigned.txt", f"{body}\n\n{own}{cosigned}")
    r = verify(saved, *inclusion_args(saved, checkpoint=both))
    assert r.returncode == 0, r.stderr


def test_two_checkpoints_with_their_consistency_proof_verify(saved: Saved) -> None:
    r = verify(
        saved,
        saved.path("checkpoint-12.txt"),
        "--key",
        saved.key,
        "--old",
        saved.path("checkpoint-7.txt"),
        "--proof",
        saved.path("consistency-7-12.json"),
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("valid: the tree of size 12 extends the tree of size 7")


def test_a_rolled_back_log_is_named(saved: Saved) -> None:
    r = verify(
        saved,
        saved.path("checkpoint-7.txt"),
        "--key",
        saved.key,
        "--old",
        saved.path("checkpoint-12.txt"),
    )
    assert_failed(r, "rollback: the newer checkpoint signs 7 leaves, the older 12")


def test_a_forked_log_is_named(saved: Saved) -> None:
    """The same key signs a tree of 12 leaves that does not extend the saved tree of 7."""
    proof = json.loads(Path(saved.path("consistency-7-12.json")).read_text())
    proof["proof"][0] = base64.b64encode(b"\x01" * 32).decode()
    r = verify(
        saved,
        saved.path("checkpoint-12.txt"),
        "--key",
        saved.key,
        "--old",
        saved.path("checkpoint-7.txt"),
        "--proof",
        saved.write("forked.json", json.dumps(proof)),
    )
    assert_failed(r, "fork:", "RootMismatch")


def test_asking_for_nothing_to_verify_is_a_usage_error(saved: Saved) -> None:
    r = verify(saved, saved.path("checkpoint-12.txt"), "--key", saved.key)
    assert_failed(r, "give either --entry")


def test_the_verifier_loads_no_server_code() -> None:
    """``daihuo ledger verify`` runs without the database layer, the web framework or settings."""
    code = (
        "import sys\n"
        "from daihuo.ledger import verify\n"
        "from daihuo.ledger.monitor import Monitor\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi', 'pydantic')"
        " or m.startswith(('daihuo.core', 'daihuo.config', 'daihuo.ledger.service'))]\n"
        "print(bad)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


async def test_fsck_from_the_command_line_passes_then_names_a_rewrite(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    settings = ledger_settings(url, tmp_path)
    app = client_for(settings)
    async with app:
        await app.app.state.ledger.append_entries([entry(i) for i in range(10)])
    env = settings_env(settings)
    r = daihuo("ledger", "fsck", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("10 leaves, 8 nodes, 1 checkpoints")
    assert "ok: every stored hash" in r.stdout

    await drop_append_only_triggers(url)
    await sql(url, "UPDATE ledger_leaves SET entry = :e WHERE idx = 2", {"e": entry(2, x=1)})
    r = daihuo("ledger", "fsck", env=env)
    assert r.returncode == 1
    assert "leaf 2: its entry does not hash to its stored leaf hash" in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "Traceback" not in r.stderr


async def test_a_complete_rollback_passes_fsck_which_is_why_monitors_exist(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    """fsck checks storage against itself; only someone who saw the lost checkpoint can tell."""
    url = await databases.new()
    settings = ledger_settings(url, tmp_path)
    app = client_for(settings)
    async with app:
        await app.app.state.ledger.append_entries([entry(i) for i in range(6)])
        await app.app.state.ledger.append_entries([entry(i) for i in range(6, 9)])
    await roll_back_to(url, 6)
    r = daihuo("ledger", "fsck", env=settings_env(settings))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("6 leaves")


def test_keys_and_rotation_from_the_command_line(tmp_path: Path) -> None:
    env = {"DAIHUO_DATA_DIR": str(tmp_path / "var")}
    r = daihuo("ledger", "keys", env=env)
    assert r.returncode == 0, r.stderr
    (first,) = r.stdout.split()
    r = daihuo("ledger", "rotate-key", env=env)
    assert r.returncode == 0, r.stderr
    assert f"retired key  {first}" in r.stdout
    r = daihuo("ledger", "keys", env=env)
    assert r.stdout.split()[1] == first and len(r.stdout.split()) == 2
