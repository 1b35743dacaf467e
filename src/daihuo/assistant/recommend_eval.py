"""Offline evaluation of selection recommendations on simulated history, with a time split.

``python -m daihuo.assistant.recommend_eval --out eval/results`` writes
``assistant_selection.json`` there and prints a table.

Protocol (per seed, several seeds; the mean and the spread are reported, nothing is
tuned to one seed):

* history from :func:`daihuo.assistant.history.simulate`;
* **train** on sales before week ``split``; **test** on the products each merchant first
  sold in week ``split`` or later (never sold in train by it), the relevance of such a
  product its test GMV;
* each ranker returns 10 eligible products the merchant had not sold in train; two
  baselines, measured in the same run: **popularity** ranks by platform GMV in train
  (the ``recommend.popularity`` baseline), **reach** by how many merchants sold it;
* **NDCG@10** with graded gain ``log2(1 + test GMV in yuan)`` (scikit-learn's
  ``ndcg_score``), **recall@10** the share of the merchant's new products in the ten;
  averaged over merchants with at least one new product in test;
* merchants with sales in train are scored with the production ranker (ALS candidates
  re-ranked by LambdaRank, trained on the last 21 days of the *training* weeks only)
  and, for comparison, with plain ALS; merchants that join after the split (no train
  sales) with the cold-start rule, given their preferred categories.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import ndcg_score

from daihuo.assistant import history, recommend

K = 10
RANKERS = ("model", "als", "pop", "reach")
SEEDS = (1, 2, 3, 4, 5)
SPLIT = 9


def _metrics(ranked: Sequence[str], gains: dict[str, float]) -> tuple[float, float]:
    """(NDCG@K, recall@K) of a ranking against the merchant's test products."""
    names = list(dict.fromkeys([*ranked, *sorted(gains)]))
    y_true = np.array([[gains.get(p, 0.0) for p in names]])
    y_score = np.array(
        [[float(len(ranked) - ranked.index(p)) if p in ranked else 0.0 for p in names]]
    )
    ndcg = float(ndcg_score(y_true, y_score, k=K))
    recall = len(set(ranked[:K]) & set(gains)) / len(gains)
    return ndcg, recall


def evaluate_seed(seed: int, *, split: int = SPLIT, **kwargs: Any) -> dict[str, Any]:
    """One seed's figures: model vs popularity, warm and cold-start merchants."""
    h = history.simulate(seed, **kwargs)
    train = [s for s in h.sales if h.week_of(s) < split]
    test = [s for s in h.sales if h.week_of(s) >= split]
    sold_before: dict[str, set[str]] = {}
    for s in train:
        sold_before.setdefault(s.merchant, set()).add(s.product)
    gains: dict[str, dict[str, float]] = {}
    for s in test:
        if s.product in sold_before.get(s.merchant, set()):
            continue
        g = gains.setdefault(s.merchant, {})
        g[s.product] = g.get(s.product, 0.0) + s.gmv
    for per_product in gains.values():
        for p in per_product:
            per_product[p] = math.log2(1 + per_product[p] / 100)
    model = recommend.fit(train, h.products)
    plain = recommend.fit(train, h.products, recommend.Config(rerank=False))
    out: dict[str, dict[str, list[float]]] = {
        group: {f"{name}_{m}": [] for name in RANKERS for m in ("ndcg", "recall")}
        for group in ("warm", "cold")
    }
    reach: dict[str, set[str]] = {}
    for s in train:
        reach.setdefault(s.product, set()).add(s.merchant)
    for who in h.merchants:
        got = gains.get(who.id)
        if not got:
            continue
        group = "warm" if who.id in sold_before else "cold"
        picks = [r.product_id for r in model.recommend(who.id, limit=K, categories=who.categories)]
        base = recommend.popularity(train, h.products, who.id, limit=K)
        unsold = [
            p.product_id
            for p in h.products
            if p.eligible and p.product_id not in sold_before.get(who.id, set())
        ]
        unsold.sort(key=lambda p: (-len(reach.get(p, ())), p))
        als = [r.product_id for r in plain.recommend(who.id, limit=K, categories=who.categories)]
        rankings = {"model": picks, "als": als, "pop": base, "reach": unsold[:K]}
        for name, ranked in rankings.items():
            ndcg, recall = _metrics(ranked, got)
            out[group][f"{name}_ndcg"].append(ndcg)
            out[group][f"{name}_recall"].append(recall)
    result: dict[str, Any] = {
        "seed": seed,
        "train_rows": len(train),
        "test_rows": len(test),
        "reranked": model.reranked,
    }
    for group, figures in out.items():
        result[group] = {k: float(np.mean(v)) if v else None for k, v in figures.items()}
        result[group]["merchants"] = len(figures["model_ndcg"])
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and population standard deviation over seeds of every figure."""
    out: dict[str, Any] = {}
    for group in ("warm", "cold"):
        out[group] = {}
        keys = [f"{n}_{m}" for m in ("ndcg", "recall") for n in RANKERS] + ["merchants"]
        for key in keys:
            values = [r[group][key] for r in runs if r[group][key] is not None]
            out[group][key] = {
                "mean": round(statistics.fmean(values), 4) if values else None,
                "std": round(statistics.pstdev(values), 4) if values else None,
                "min": round(min(values), 4) if values else None,
                "max": round(max(values), 4) if values else None,
            }
        wins = [r[group]["model_ndcg"] > max(r[group]["pop_ndcg"], r[group]["reach_ndcg"])
                for r in runs if r[group]["model_ndcg"] is not None]  # fmt: skip
        out[group]["model_beats_both_baselines"] = f"{sum(wins)}/{len(wins)} seeds"
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("eval/results"))
    parser.add_argument("--seeds", type=int, nargs="*", default=list(SEEDS))
    args = parser.parse_args(argv)
    runs = [evaluate_seed(s) for s in args.seeds]
    report: dict[str, Any] = {
        "protocol": {"k": K, "split_week": SPLIT, "seeds": args.seeds, "config": "default"},
        "runs": runs,
        "summary": summarise(runs),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "assistant_selection.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    s = report["summary"]
    print(f"selection (选品), {len(runs)} seeds, NDCG@{K} / recall@{K}: mean ± std")
    for group in ("warm", "cold"):
        g = s[group]
        label = "ALS + LambdaRank" if group == "warm" else "cold-start rule"
        print(
            f"  {group:4} ({g['merchants']['mean']:.0f} merchants/seed): "
            f"{label} {g['model_ndcg']['mean']:.3f} ± {g['model_ndcg']['std']:.3f} / "
            f"{g['model_recall']['mean']:.3f}   popularity {g['pop_ndcg']['mean']:.3f} "
            f"± {g['pop_ndcg']['std']:.3f} / {g['pop_recall']['mean']:.3f}   reach "
            f"{g['reach_ndcg']['mean']:.3f} ± {g['reach_ndcg']['std']:.3f} / "
            f"{g['reach_recall']['mean']:.3f}   (beats both: {g['model_beats_both_baselines']})"
        )
        if group == "warm":
            print(
                f"       plain ALS (no re-ranker) {g['als_ndcg']['mean']:.3f} ± "
                f"{g['als_ndcg']['std']:.3f} / {g['als_recall']['mean']:.3f}"
            )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
