"""Run the benchmarks, print one table, write JSON under bench/results/.

A benchmark module defines ``run(quick: bool) -> list[dict]``; each row has ``bench``,
``case``, ``value``, ``unit`` and, where it has one, ``baseline`` (a ceiling or
reference measured in the same run) and ``ratio`` (value ÷ baseline). Ratios, not
absolute numbers, are what to quote: the machine is noisy.

    python -m bench                 # all benchmarks
    python -m bench ledger analytics
    python -m bench --quick         # small sizes, for a smoke run
    python -m bench --markdown      # the README's table from the stored full runs
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def discover() -> list[str]:
    return sorted(
        p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_") and p.stem != "common"
    )


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def markdown(names: list[str]) -> str:
    """The README's table: every row of each benchmark's last full run, with its date."""
    lines = [
        "| bench | case | value | unit | baseline | ratio | run |",
        "|---|---|---:|---|---:|---:|---|",
    ]
    for name in names:
        path = RESULTS / f"{name}.json"
        if not path.exists():
            continue
        stored = json.loads(path.read_text())
        day = stored["meta"]["at"][:10]
        for r in stored["rows"]:
            cells = [name, r["case"], fmt(r["value"]), r.get("unit", ""),
                     fmt(r.get("baseline")), fmt(r.get("ratio")), day]  # fmt: skip
            lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument(
        "--markdown", action="store_true", help="print the stored full runs as a Markdown table"
    )
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(args.names or discover()))
        return 0
    names = args.names or discover()
    unknown = set(names) - set(discover())
    if unknown:
        print(f"error: no benchmark named {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    rows: list[dict[str, Any]] = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        got = module.run(quick=args.quick)
        for row in got:
            row.setdefault("bench", name)
        rows += got
        meta = {
            "bench": name,
            "quick": args.quick,
            "seconds": round(time.perf_counter() - started, 2),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        }
        out = RESULTS / f"{name}{'-quick' if args.quick else ''}.json"
        out.write_text(json.dumps({"meta": meta, "rows": got}, indent=1, ensure_ascii=False))
    header = ["bench", "case", "value", "unit", "baseline", "ratio"]
    table = [[fmt(r.get(k)) for k in header] for r in rows]
    widths = [
        max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(header)
    ]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for t in table:
        print(" | ".join(c.ljust(w) for c, w in zip(t, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
