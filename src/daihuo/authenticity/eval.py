"""``python -m daihuo.authenticity.eval``: the detectors against simulator ground truth.

Each run simulates fresh sessions (new seeds unless ``--seed``) at three camouflage
levels with every fake kind on, plus genuine-only runs that stress the traps
(flash-sale stampedes, big households and campuses, a chanting room, many loyal fans),
a default clean run and a tiny room; and two runs with four times the default share of
brushed orders (blatant and careful rings), so order-level figures rest on more orders.
It scans every session and prints, per scenario:

* user-level precision / recall / F1 per kind (a user counts for kind K when labelled K
  and flagged K) and for "any fake" (labelled fake, flagged with any kind);
* order-level precision / recall / F1 for brushing;
* the share of genuine users flagged;
* the error of verified GMV and verified viewers against the truth (the report without
  the labelled users and orders), relative, averaged over sessions;

and the same user/order figures for the baselines of :mod:`baselines` on the same data.
Results go to ``eval/results/eval-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from daihuo.analytics.reference import session_report
from daihuo.authenticity import baselines
from daihuo.authenticity.features import build
from daihuo.authenticity.model import KINDS, LABEL_KIND
from daihuo.authenticity.scan import detect, group, verified_events
from daihuo.events.parse import load_events
from daihuo.simulator.run import generate
from daihuo.simulator.scenario import Scenario

FAKE = ("bot_viewer", "comment_farm", "like_farm", "brushing")
TRAPS: dict[str, Any] = {
    "flash_sales.count": 4,
    "flash_sales.stock": 500,
    "places.household_share": 0.6,
    "places.campus_share": 0.2,
    "engagement.chorus_per_hour": 20,
    "engagement.chorus_join": 0.5,
    "audience.fans_share": 0.3,
}


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    values: dict[str, Any]
    clean: bool
    sessions: int
    viewers: int


def cases(sessions: int, viewers: int) -> list[Case]:
    out = []
    for level in ("blatant", "moderate", "careful"):
        levels: dict[str, Any] = {f"fake.{k}.camouflage": level for k in FAKE}
        out.append(Case(level, levels, False, sessions, viewers))
    for level in ("blatant", "careful"):
        rings: dict[str, Any] = {"fake.brushing.camouflage": level, "fake.brushing.share": 0.2}
        out.append(Case(f"rings x4 ({level})", rings, False, sessions, viewers))
    out.append(Case("traps (clean)", TRAPS, True, sessions, viewers))
    out.append(Case("clean", {}, True, sessions, viewers))
    out.append(Case("tiny room (clean)", {}, True, 2, 12))
    return out


def prf(tp: int, flagged: int, truth: int) -> dict[str, float | None]:
    p = tp / flagged if flagged else None
    r = tp / truth if truth else None
    f = 2 * p * r / (p + r) if p and r else (0.0 if truth and flagged else None)
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "flagged": flagged, "truth": truth}


class Tally:
    """Counts summed over the sessions of one case, for one method."""

    def __init__(self) -> None:
        self.c: dict[str, int] = defaultdict(int)

    def add(self, key: str, n: int) -> None:
        self.c[key] += n

    def users(
        self, truth: Mapping[str, str], flagged: Mapping[str, str], genuine: set[str]
    ) -> None:
        for kind in (*KINDS, "any"):
            t = {u for u, k in truth.items() if kind == "any" or k == kind}
            f = {u for u, k in flagged.items() if kind == "any" or k == kind}
            self.add(f"{kind}.tp", len(t & f))
            self.add(f"{kind}.flagged", len(f))
            self.add(f"{kind}.truth", len(t))
        self.add("genuine", len(genuine))
        self.add("genuine_flagged", len(genuine & set(flagged)))

    def orders(self, truth: set[str], flagged: set[str]) -> None:
        self.add("orders.tp", len(truth & flagged))
        self.add("orders.flagged", len(flagged))
        self.add("orders.truth", len(truth))

    def result(self, kinds: tuple[str, ...]) -> dict[str, Any]:
        c = self.c
        out: dict[str, Any] = {
            k: prf(c[f"{k}.tp"], c[f"{k}.flagged"], c[f"{k}.truth"]) for k in kinds
        }
        out["orders"] = prf(c["orders.tp"], c["orders.flagged"], c["orders.truth"])
        out["genuine_users"] = c["genuine"]
        out["genuine_flagged_share"] = c["genuine_flagged"] / c["genuine"] if c["genuine"] else None
        return out


def rel_error(value: float | None, truth: float | None) -> float | None:
    if value is None or truth is None:
        return None
    if truth == 0:
        return 0.0 if value == 0 else 1.0
    return abs(value - truth) / truth


def run_case(case: Case, seed: int, workdir: Path) -> dict[str, Any]:
    scenario = Scenario(case.values)
    prefix = workdir / f"c{seed}"
    generate(
        scenario, sessions=case.sessions, viewers=case.viewers, seed=seed, out=prefix,
        clean=case.clean, parallel=False,
    )  # fmt: skip
    events, _ = load_events(f"{prefix}.events.jsonl")
    labels = [
        json.loads(line)
        for line in Path(f"{prefix}.labels.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    ours, forest, ecod, rules, shopee = Tally(), Tally(), Tally(), Tally(), Tally()
    errors: dict[str, list[float]] = defaultdict(list)
    events_total, seconds = 0, 0.0
    inverse = {v: k for k, v in LABEL_KIND.items()}
    for sid, evs in group(events).items():
        truth_users = {
            lab["user"]: inverse[lab["kind"]]
            for lab in labels
            if lab["session"] == sid and "user" in lab
        }
        truth_orders = {lab["order"] for lab in labels if lab["session"] == sid and "order" in lab}
        data = build(sid, evs)
        genuine = set(data.users) - set(truth_users)
        events_total += len(evs)
        began = time.perf_counter()
        flags = detect(data)
        flagged_users = {f.id: f.kind for f in flags if f.subject == "user"}
        flagged_orders = {f.id for f in flags if f.subject == "order"}
        raw = session_report(evs)
        verified = session_report(verified_events(evs, set(flagged_users), flagged_orders))
        seconds += time.perf_counter() - began
        truth = session_report(verified_events(evs, set(truth_users), truth_orders))
        ours.users(truth_users, flagged_users, genuine)
        ours.orders(truth_orders, flagged_orders)
        for key in ("gmv", "viewer_uv"):
            err = rel_error(verified[key], truth[key])
            if err is not None:
                errors[f"verified_{key}"].append(err)
            raw_err = rel_error(raw[key], truth[key])
            if raw_err is not None:
                errors[f"raw_{key}"].append(raw_err)
        any_truth = dict.fromkeys(truth_users, "any")
        forest.users(any_truth, dict.fromkeys(baselines.isolation_forest(data), "any"), genuine)
        ecod.users(any_truth, dict.fromkeys(baselines.ecod(data), "any"), genuine)
        r_users, r_orders = baselines.rules_of_thumb(data)
        rules.users(any_truth, dict.fromkeys(r_users, "any"), genuine)
        rules.orders(truth_orders, r_orders)
        s_users, s_orders = baselines.shopee_rule(data)
        shopee.users(any_truth, dict.fromkeys(s_users, "any"), genuine)
        shopee.orders(truth_orders, s_orders)
    return {
        "case": case.name,
        "seed": seed,
        "sessions": case.sessions,
        "viewers": case.viewers,
        "events": events_total,
        "scan_seconds": round(seconds, 2),
        "ours": ours.result((*KINDS, "any")),
        "verified_error": {k: sum(v) / len(v) for k, v in errors.items() if v},
        "baselines": {
            "isolation_forest": forest.result(("any",)),
            "ecod": ecod.result(("any",)),
            "rules_of_thumb": rules.result(("any",)),
            "shopee_rule": shopee.result(("any",)),
        },
    }


def _f(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "—"
    return f"{x:.2%}" if pct else f"{x:.2f}"


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "case               method   kind          P     R     F1   (tp/flag/truth)",
    ]
    for res in results:
        name = res["case"]
        for kind in (*KINDS, "any"):
            m = res["ours"][kind]
            if m["truth"] or m["flagged"]:
                lines.append(
                    f"{name:18} ours     {kind:12} {_f(m['precision'])}  {_f(m['recall'])}  "
                    f"{_f(m['f1'])}  ({m['tp']}/{m['flagged']}/{m['truth']})"
                )
        m = res["ours"]["orders"]
        if m["truth"] or m["flagged"]:
            lines.append(
                f"{name:18} ours     orders       {_f(m['precision'])}  {_f(m['recall'])}  "
                f"{_f(m['f1'])}  ({m['tp']}/{m['flagged']}/{m['truth']})"
            )
        for base, short in (
            ("isolation_forest", "iforest"), ("ecod", "ecod"), ("rules_of_thumb", "rules"),
            ("shopee_rule", "shopee"),
        ):  # fmt: skip
            b = res["baselines"][base]
            for key in ("any", "orders"):
                m = b[key]
                if (m["truth"] or m["flagged"]) and not (
                    base == "isolation_forest" and key == "orders"
                ):
                    lines.append(
                        f"{name:18} {short:8} {key:12} {_f(m['precision'])}  {_f(m['recall'])}  "
                        f"{_f(m['f1'])}  ({m['tp']}/{m['flagged']}/{m['truth']})"
                    )
        err = res["verified_error"]
        lines.append(
            f"{name:18} genuine flagged: ours {_f(res['ours']['genuine_flagged_share'], True)}, "
            f"iforest {_f(res['baselines']['isolation_forest']['genuine_flagged_share'], True)}, "
            f"ecod {_f(res['baselines']['ecod']['genuine_flagged_share'], True)}, "
            f"rules {_f(res['baselines']['rules_of_thumb']['genuine_flagged_share'], True)} "
            f"of {res['ours']['genuine_users']}; verified GMV error "
            f"{_f(err.get('verified_gmv'), True)} (raw {_f(err.get('raw_gmv'), True)}), "
            f"viewers {_f(err.get('verified_viewer_uv'), True)} "
            f"(raw {_f(err.get('raw_viewer_uv'), True)}); "
            f"{res['events']:,} events scanned in {res['scan_seconds']} s"
        )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m daihuo.authenticity.eval")
    parser.add_argument("--sessions", type=int, default=4, help="sessions per case")
    parser.add_argument("--viewers", type=int, default=2000, help="genuine viewers per session")
    parser.add_argument("--seed", type=int, default=None, help="first seed (default: new)")
    parser.add_argument("--out", default="eval/results", help="folder for the JSON results")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "big")
    results = []
    with tempfile.TemporaryDirectory(prefix="daihuo-eval-") as tmp:
        for k, case in enumerate(cases(args.sessions, args.viewers)):
            results.append(run_case(case, seed + k, Path(tmp)))
            print(f"done: {case.name}", file=sys.stderr, flush=True)
    text = table(results)
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"eval-{stamp}.json"
    body = {
        "first_seed": seed,
        "sessions": args.sessions,
        "viewers": args.viewers,
        "cases": results,
    }
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"results: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
