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
    out: Path = typer.Option(
        ..., help="PREFIX: writes PREFIX.events.jsonl and PREFIX.labels.jsonl."
    ),
    scenario: Path | None = typer.Option(
        None, help="TOML scenario file (docs/simulator.md lists the keys)."
    ),
    clean: bool = typer.Option(
        False, "--clean", help="No fake activity; the labels file is empty."
    ),
) -> None:
    """Simulate live sessions offline: events and labels as JSON Lines (shared/spec/events.md)."""
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
