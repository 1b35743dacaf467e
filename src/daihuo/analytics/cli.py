"""``daihuo analytics``: the report of shared/spec/metrics.md, from a file or the store.

Heavy imports (DuckDB, the engine) happen inside the command, so ``daihuo --help`` stays
fast; ``daihuo.cli`` is imported there too, as it imports this module.
"""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="Live-session analytics.")


class ReportFormat(enum.StrEnum):
    json = "json"
    table = "table"
    csv = "csv"
    html = "html"


@app.command("report")
def report_command(
    events: Path | None = typer.Option(
        None, "--events", help="JSON Lines file to report straight from disk (no import)."
    ),
    session: list[str] = typer.Option(
        [], "--session", help="Only this session (repeatable; default: all)."
    ),
    fmt: ReportFormat = typer.Option(
        ReportFormat.json, "--format", help="json, table, or a review export: csv or html."
    ),
    show_rejects: int = typer.Option(20, "--show-rejects", min=0, help="Rejected lines to list."),
) -> None:
    """Every figure of the metric dictionary, per session: of --events FILE or of the store."""
    from daihuo.analytics import engine
    from daihuo.analytics.cli_report import format_table
    from daihuo.analytics.export import to_csv, to_html
    from daihuo.cli import err, fail
    from daihuo.core.warehouse import WarehouseError
    from daihuo.events.cli import open_warehouse, print_rejects

    if events is not None:
        if not events.is_file():
            fail(f"no such file: {events}")
        try:
            report, summary = engine.report_file(events, max_rejects=max(show_rejects, 1))
        except OSError as exc:
            fail(f"cannot read {events}: {exc.strerror or exc}")
        except WarehouseError as exc:
            fail(str(exc))
        if summary.rejected:
            print_rejects(summary, show_rejects)
            err.print(f"{events}: {summary}", highlight=False, markup=False)
        if session:
            wanted = set(session)
            report = {"sessions": {k: v for k, v in report["sessions"].items() if k in wanted}}
    else:
        with open_warehouse() as warehouse:
            report = engine.report(warehouse, session or None)
    missing = [s for s in session if s not in report["sessions"]]
    if missing:
        fail(f"no events for session {', '.join(repr(s) for s in missing)}")
    if fmt is ReportFormat.json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    elif fmt is ReportFormat.csv:
        sys.stdout.write(to_csv(report))
    elif fmt is ReportFormat.html:
        sys.stdout.write(to_html(report) + "\n")
    else:
        sys.stdout.write(format_table(report) + "\n")
