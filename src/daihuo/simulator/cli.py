"""``daihuo simulate``: write simulated live sessions and their ground-truth labels.

Only typer is imported at module level; the generator loads when the command runs, so
``daihuo --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer


def simulate(
    sessions: int = typer.Option(1, help="Live sessions to simulate (1 to 10000)."),
    viewers: int = typer.Option(
        2000, help="Genuine viewers who enter each session (1 to 1000000); fakes come on top."
    ),
    seed: int = typer.Option(1, help="Random seed: the same seed writes the same bytes."),
    out: Path | None = typer.Option(
        None, help="PREFIX: writes PREFIX.events.jsonl and PREFIX.labels.jsonl (offline)."
    ),
    scenario: Path | None = typer.Option(
        None, help="TOML scenario file (docs/simulator.md lists the keys)."
    ),
    clean: bool = typer.Option(
        False, "--clean", help="No fake activity; the labels file is empty."
    ),
    live: bool = typer.Option(
        False, "--live", help="Drive one session through a running server instead of files."
    ),
    url: str = typer.Option("http://127.0.0.1:8000", help="--live: the server's base URL."),
    session: str | None = typer.Option(None, help="--live: the id of a live session."),
    speed: float = typer.Option(20.0, help="--live: times real time (20: 60 min in 3 min)."),
    minutes: float | None = typer.Option(
        None, help="--live: the simulated session's length (default: the scenario's)."
    ),
) -> None:
    """Simulate live sessions offline (events and labels as JSON Lines, shared/spec/events.md),
    or with --live through a running server: WebSocket viewers, HTTP orders and payments."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from daihuo.cli import err, fail
    from daihuo.cli import out as console
    from daihuo.simulator.run import MAX_SESSIONS, MAX_VIEWERS, generate
    from daihuo.simulator.scenario import ScenarioError, load_scenario
    from daihuo.simulator.session import SessionTooLarge

    if not 1 <= sessions <= MAX_SESSIONS:
        fail(f"--sessions must be an integer in [1, {MAX_SESSIONS}], got {sessions}")
    if not 1 <= viewers <= MAX_VIEWERS:
        fail(f"--viewers must be an integer in [1, {MAX_VIEWERS}], got {viewers}")
    if seed < 0:
        fail(f"--seed must be an integer >= 0, got {seed}")
    try:
        model = load_scenario(scenario)
    except ScenarioError as exc:
        fail(str(exc))
    if live:
        _live(model, viewers=viewers, seed=seed, url=url, session=session, speed=speed,
              minutes=minutes, clean=clean)  # fmt: skip
        return
    if out is None:
        fail("--out PREFIX is needed (or --live to drive a running server)")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        fail(f"cannot write {out}.events.jsonl: folder {folder} does not exist")

    progress = Progress(
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("sessions · {task.fields[events]:,} events"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        auto_refresh=False,  # no refresh thread: the writer forks, which wants one thread
    )
    with progress:
        task = progress.add_task("simulate", total=sessions, events=0)

        def step(done: int, events: int) -> None:
            progress.update(task, completed=done, events=events)
            progress.refresh()

        try:
            summary = generate(
                model, sessions=sessions, viewers=viewers, seed=seed, out=out,
                clean=clean, progress=step,
            )  # fmt: skip
        except OSError as exc:
            fail(f"cannot write {out}.events.jsonl: {exc.strerror or exc}")
        except SessionTooLarge as exc:
            fail(str(exc))

    table = Table(show_edge=False)
    for name in ("session", "min", "viewers", "bots", "cmt farm", "like farm", "brushed",
                 "events"):  # fmt: skip
        table.add_column(name, justify="left" if name == "session" else "right")
    for row in summary.sessions:
        table.add_row(
            row["session"], f"{row['duration_seconds'] / 60:.0f}", f"{row['genuine_viewers']:,}",
            f"{row['bot_viewer']:,}", f"{row['comment_farm']:,}", f"{row['like_farm']:,}",
            f"{row['brushing_orders']:,}", f"{row['events']:,}",
        )  # fmt: skip
    console.print(table)
    rate = summary.events / summary.seconds if summary.seconds else 0.0
    console.print(
        f"wrote {summary.events:,} events to {summary.events_path} and {summary.labels:,} "
        f"labels to {summary.labels_path} in {summary.seconds:.1f} s ({rate:,.0f} events/s)",
        highlight=False,
    )


def _live(
    model: object, *, viewers: int, seed: int, url: str, session: str | None, speed: float,
    minutes: float | None, clean: bool,
) -> None:  # fmt: skip
    """``--live``: one session from the model, through the server's room and API."""
    import asyncio
    import json
    import tempfile

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from daihuo.cli import err, fail
    from daihuo.cli import out as console
    from daihuo.simulator.live import LiveRunError, drive
    from daihuo.simulator.run import generate
    from daihuo.simulator.scenario import Scenario

    if session is None:
        fail("--live needs --session ID (a live session of the server)")
    if not 0 < speed <= 10_000:
        fail(f"--speed must be in (0, 10000], got {speed}")
    if minutes is not None and not 1 <= minutes <= 600:
        fail(f"--minutes must be in [1, 600], got {minutes}")
    assert isinstance(model, Scenario)
    if minutes is not None:
        model = Scenario({**model.values(), "sessions.duration_minutes": minutes})
    with tempfile.TemporaryDirectory(prefix="daihuo-live-") as tmp:
        made = generate(model, sessions=1, viewers=viewers, seed=seed, out=Path(tmp) / "s",
                        clean=clean)  # fmt: skip
        with open(made.events_path, encoding="utf-8") as f:
            events = [json.loads(line) for line in f if line.strip()]

    progress = Progress(
        TextColumn("live"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} events"),
        TimeElapsedColumn(), console=err, transient=True,
    )  # fmt: skip
    with progress:
        task = progress.add_task("live", total=len(events))

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            result = asyncio.run(drive(url, session, events, speed=speed, progress=step))
        except LiveRunError as exc:
            fail(str(exc))

    table = Table(show_edge=False)
    for name in ("event", "sent", "refused / skipped"):
        table.add_column(name, justify="left" if name == "event" else "right")
    for kind in sorted(set(result.sent) | set(result.skipped)):
        table.add_row(kind, f"{result.sent.get(kind, 0):,}", f"{result.skipped.get(kind, 0):,}")
    for reason, n in sorted(result.refused.items()):
        table.add_row(f"refused: {reason}", "", f"{n:,}")
    for reason, n in sorted(result.failed.items()):
        table.add_row(f"failed: {reason}", "", f"{n:,}")
    console.print(table)
    console.print(
        f"drove session {session} at {url}: {sum(result.sent.values()):,} events from "
        f"{len(events):,} simulated, {result.buyers:,} buyers signed up, in {result.seconds:.0f} s",
        highlight=False,
    )
