"""``daihuo events``: import a JSON Lines file into the warehouse, export a session.

Heavy imports (DuckDB, the importer) happen inside the commands, so ``daihuo --help``
stays fast; ``daihuo.cli`` is imported there too, as it imports this module.
"""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(no_args_is_help=True, help="Live-room events: import and export JSON Lines.")


class ExportFormat(enum.StrEnum):
    jsonl = "jsonl"
    parquet = "parquet"


def open_warehouse() -> Any:
    """The configured warehouse, or one readable error line."""
    from daihuo.cli import fail
    from daihuo.config import get_settings
    from daihuo.core.warehouse import WarehouseError, make_warehouse

    try:
        return make_warehouse(get_settings().warehouse_url)
    except WarehouseError as exc:
        fail(str(exc))


def print_rejects(summary: Any, shown: int) -> None:
    """The first ``shown`` rejected lines, with their numbers, on stderr."""
    from daihuo.cli import err

    for reject in summary.rejects[:shown]:
        err.print(str(reject), highlight=False, markup=False, soft_wrap=True)
    more = summary.rejected - min(shown, len(summary.rejects))
    if more > 0:
        err.print(f"… and {more:,} more rejected lines", highlight=False, markup=False)


@app.command("import")
def import_events(
    file: Path = typer.Argument(..., help="JSON Lines file of events (shared/spec/events.md)."),
    show_rejects: int = typer.Option(20, "--show-rejects", min=0, help="Rejected lines to list."),
) -> None:
    """Store the events of FILE; repeated ids (in the file or already stored) are skipped."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from daihuo.cli import err, fail, out
    from daihuo.core.warehouse import WarehouseError
    from daihuo.events.store import import_file

    if not file.is_file():
        fail(f"no such file: {file}")
    warehouse = open_warehouse()
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    try:
        with warehouse, progress:
            task = progress.add_task(f"importing {file.name}", total=os.path.getsize(file))
            summary = import_file(
                warehouse,
                file,
                max_rejects=max(show_rejects, 1),
                progress=lambda n: progress.advance(task, n),
            )
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    except WarehouseError as exc:
        fail(str(exc))
    print_rejects(summary, show_rejects)
    out.print(
        f"{file}: {summary.lines:,} lines, kept {summary.kept:,}, rejected {summary.rejected:,}, "
        f"duplicates {summary.duplicates:,}, blank {summary.blank:,}",
        highlight=False,
        markup=False,
    )


@app.command("export")
def export_events(
    session: str = typer.Option(..., "--session", help="Session id."),
    fmt: ExportFormat = typer.Option(ExportFormat.jsonl, "--format", help="jsonl or parquet."),
    out_file: Path | None = typer.Option(
        None, "--out", help="Output file (default: stdout for jsonl; required for parquet)."
    ),
) -> None:
    """Write a stored session's events, by time, as JSON Lines (the contract) or Parquet."""
    from daihuo.cli import fail
    from daihuo.events.store import export_jsonl

    if fmt is ExportFormat.parquet and out_file is None:
        fail("--out FILE is required for --format parquet")
    with open_warehouse() as warehouse:
        if warehouse.count(session) == 0:
            fail(f"no events stored for session {session!r}")
        try:
            if fmt is ExportFormat.parquet:
                assert out_file is not None
                _write_atomically(out_file, lambda tmp: warehouse.export_parquet(session, tmp))
            elif out_file is None:
                export_jsonl(warehouse, session, sys.stdout)
            else:

                def write(tmp: Path) -> None:
                    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
                        export_jsonl(warehouse, session, handle)

                _write_atomically(out_file, write)
        except OSError as exc:
            fail(f"cannot write {out_file}: {exc.strerror or exc}")


def _write_atomically(path: Path, write: Any) -> None:
    """Write to a sibling temp file, then rename: a failed export leaves no half file."""
    tmp = path.with_name(f".{path.name}.part")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
