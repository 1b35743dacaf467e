"""``daihuo ledger``: verify and monitor the log from outside; fsck and keys from inside.

``verify`` and ``monitor`` use only the stand-alone verifier (``daihuo.ledger.verify``
and ``monitor``): no database, no settings. Exit codes: 0 valid, 1 failed or could
not check, 2 (monitor) the log forked or rolled back.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

ledger_app = typer.Typer(no_args_is_help=True, help="The transparency log.")

ALERT_EXIT = 2


@ledger_app.command("verify")
def verify_cmd(
    checkpoint: Path = typer.Argument(
        ..., help="Signed checkpoint file, as served by GET /api/v1/ledger/checkpoint."
    ),
    key: list[str] = typer.Option(
        ..., "--key", help="Verifier key (name+id+key), or a file of them. Repeatable."
    ),
    entry: Path | None = typer.Option(None, help="Entry file (its JSON) to prove included."),
    proof: Path | None = typer.Option(
        None, help="Proof JSON as served by /api/v1/ledger/proof/inclusion or /consistency."
    ),
    index: int | None = typer.Option(
        None, min=0, help="Leaf index of --entry (default: the proof's)."
    ),
    old: Path | None = typer.Option(
        None, help="An earlier signed checkpoint that CHECKPOINT must extend."
    ),
) -> None:
    """Verify a checkpoint and an entry's inclusion, or two checkpoints' consistency."""
    from daihuo.cli import fail, out
    from daihuo.ledger import verify

    if (entry is None) == (old is None):
        fail("give either --entry with --proof, or --old (with --proof unless sizes are equal)")
    try:
        verifiers = verify.load_verifiers(key)
        current = verify.read_checkpoint(checkpoint, verifiers, "checkpoint")
        proof_doc = verify.read_json(proof, "proof") if proof is not None else None
        if entry is not None:
            if proof_doc is None:
                fail("--entry needs --proof (GET /api/v1/ledger/proof/inclusion?index=&size=)")
            leaf = verify.entry_leaf(_read(entry, "entry"))
            message = verify.verify_inclusion(current, leaf, proof_doc, index)
        else:
            assert old is not None
            earlier = verify.read_checkpoint(old, verifiers, "old checkpoint")
            message = verify.verify_consistency(earlier, current, proof_doc)
    except verify.VerifyError as exc:
        fail(str(exc))
    out.print(message, highlight=False)


@ledger_app.command("monitor")
def monitor_cmd(
    url: str = typer.Argument(..., help="Base URL of a Daihuo server, e.g. https://example.com."),
    key: list[str] = typer.Option(
        ..., "--key", help="Verifier key (name+id+key), or a file of them. Repeatable."
    ),
    interval: float = typer.Option(60.0, min=0.0, help="Seconds between checks."),
    once: bool = typer.Option(False, "--once", help="Check once and exit."),
    checks: int = typer.Option(0, min=0, help="Stop after this many checks (0: never)."),
    state: Path | None = typer.Option(
        None, help="File keeping the last accepted checkpoint between runs."
    ),
) -> None:
    """Follow a running log; alert (exit 2) on a fork or a rollback."""
    import httpx

    from daihuo.cli import err, fail, out
    from daihuo.ledger.monitor import Alert, Monitor, MonitorError
    from daihuo.ledger.verify import VerifyError, load_verifiers

    try:
        monitor = Monitor(url, load_verifiers(key), state_file=state)
    except (VerifyError, MonitorError) as exc:
        fail(str(exc))
    done = 0
    with httpx.Client() as client:
        while True:
            try:
                message = monitor.check(client)
                out.print(f"{_now()} {message}", highlight=False)
            except Alert as exc:
                err.print(f"[bold red]ALERT:[/] {exc}", highlight=False, soft_wrap=True)
                raise typer.Exit(ALERT_EXIT) from None
            except MonitorError as exc:
                if once:
                    fail(str(exc))
                err.print(f"{_now()} warning: {exc}", highlight=False, soft_wrap=True)
            done += 1
            if once or (checks and done >= checks):
                return
            time.sleep(interval)


@ledger_app.command("fsck")
def fsck_cmd(
    chunk: int = typer.Option(65536, min=1, help="Leaves read per query."),
) -> None:
    """Recompute the tree from the stored entries and check every stored hash and checkpoint."""
    from daihuo.cli import err, fail, out, run
    from daihuo.config import get_settings
    from daihuo.core.db import Database
    from daihuo.ledger.keys import published_verifiers
    from daihuo.ledger.service import FsckReport, fsck_database

    settings = get_settings()

    async def go() -> FsckReport:
        db = Database(settings.database_url)
        try:
            verifiers = published_verifiers(settings)
            return await fsck_database(db, verifiers, settings.ledger_origin, chunk=chunk)
        finally:
            await db.dispose()

    report = run(go())
    out.print(
        f"{report.size} leaves, {report.nodes_checked} nodes, {report.checkpoints} checkpoints; "
        f"root {_b64(report.root)}",
        highlight=False,
    )
    for problem in report.problems:
        err.print(problem, highlight=False, soft_wrap=True)
    if report.more_problems:
        err.print(f"... and {report.more_problems} more", highlight=False)
    if not report.ok:
        fail(f"{len(report.problems) + report.more_problems} problem(s) in the log")
    out.print("ok: every stored hash and checkpoint matches the stored entries")


@ledger_app.command("keys")
def keys_cmd() -> None:
    """Print the log's verifier keys (signing key first), one per line."""
    from daihuo.cli import out, run
    from daihuo.config import get_settings
    from daihuo.ledger.keys import load_keyring

    async def go() -> list[str]:
        return [v.key_string() for v in load_keyring(get_settings()).published]

    for line in run(go()):
        out.print(line, highlight=False)


@ledger_app.command("rotate-key")
def rotate_key_cmd() -> None:
    """Start signing with a new key; the old one stays published. Restart the server after."""
    from daihuo.cli import out, run
    from daihuo.config import get_settings
    from daihuo.ledger.keys import rotate_key

    async def go() -> Any:
        return rotate_key(get_settings())

    new, retired = run(go())
    out.print(f"signing key  {new.key_string()}", highlight=False)
    for v in retired:
        out.print(f"retired key  {v.key_string()}", highlight=False)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _read(path: Path, what: str) -> bytes:
    from daihuo.cli import fail

    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"{what} {path}: {exc.strerror or exc}")
