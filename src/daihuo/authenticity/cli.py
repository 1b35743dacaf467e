"""``daihuo authenticity scan``: suspicious users and orders, raw and verified figures.

Heavy imports (numpy, scipy, scikit-learn, datasketch) happen inside the command, so
``daihuo --help`` stays fast.
"""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="Data authenticity: fake audiences, farms, brushing.")


class ScanFormat(enum.StrEnum):
    json = "json"
    table = "table"


@app.command("scan")
def scan_command(
    events: Path = typer.Option(..., "--events", help="JSON Lines file (shared/spec/events.md)."),
    fmt: ScanFormat = typer.Option(ScanFormat.json, "--format", help="json or table."),
    show_rejects: int = typer.Option(20, "--show-rejects", min=0, help="Rejected lines to list."),
) -> None:
    """Scan every session of --events: flags with reasons, raw and verified figures."""
    from daihuo.authenticity.report import format_table
    from daihuo.authenticity.scan import scan
    from daihuo.cli import err, fail
    from daihuo.events.cli import print_rejects
    from daihuo.events.parse import ParseSummary, parse_file

    if not events.is_file():
        fail(f"no such file: {events}")
    summary = ParseSummary(max_rejects=max(show_rejects, 1))
    try:
        report = scan(parse_file(events, summary))
    except OSError as exc:
        fail(f"cannot read {events}: {exc.strerror or exc}")
    if summary.rejected:
        print_rejects(summary, show_rejects)
        err.print(f"{events}: {summary}", highlight=False, markup=False)
    if fmt is ScanFormat.json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(format_table(report) + "\n")
