"""The assistant: how fast comment triage keeps up with a room, on one core, and how long
selection (选品) takes on a pool of 100,000 products (``bench/_assistant_select.py``).

Comment triage (target ≥ 20,000 comments/s, so one core keeps up with the busiest room):

* ``triage, batch of 1,000``: ``classify`` on batches (one sparse product per batch),
  against bare normalisation (``normalise`` alone: the floor every comment pays);
* ``triage, one at a time``: ``classify_one`` per comment (what a room's event path does),
  against scikit-learn's own pipeline per comment (``transform`` + ``predict_proba``:
  what scoring would cost without the hot path that reads the coefficients directly);
* ``keyword rules``: the evaluation's keyword baseline, for scale;
* ``train at first use``: seconds to fit the shipped model from the corpus.

The comments are the corpus's seeds, its hard set and augmented variants, shuffled with a
fixed seed (``--quick``: 20,000 comments; full: 200,000). The process is pinned to one CPU
for the measurements and rates are comments per second of that process's CPU time (the
best of three passes): on a shared machine the wall clock counts other processes' turns
on the core too. Each row also carries ``wall_per_s``, the same pass by the wall clock.

To add a case, write a ``_something_rows(quick) -> list[dict]`` and add it to ``CASES``.

    python -m bench assistant --quick
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from daihuo.assistant import triage, triage_data
from daihuo.assistant.triage_eval import keyword_intent

from bench._assistant_select import run as _selection_rows

BATCH = 1_000
PASSES = 3


@contextmanager
def one_core() -> Iterator[None]:
    """Pin this process (and BLAS) to a single CPU while measuring."""
    from threadpoolctl import threadpool_limits

    getter = getattr(os, "sched_getaffinity", None)
    before = getter(0) if getter else None
    if before:
        os.sched_setaffinity(0, {min(before)})
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        if before:
            os.sched_setaffinity(0, before)


def comments(n: int) -> list[str]:
    """``n`` comments: seeds, hard items and their variants, shuffled deterministically."""
    pool = [s.text for s in triage_data.seeds()] + [h.text for h in triage_data.hard_set()]
    pool += [v for t in list(pool) for v in triage_data.augment(t)]
    rng = random.Random(20261127)
    return [rng.choice(pool) for _ in range(n)]


def rate(fn: Callable[[Sequence[str]], Any], texts: Sequence[str]) -> tuple[float, float]:
    """Items per CPU second and per wall-clock second: the best of ``PASSES`` passes."""
    cpu = wall = float("inf")
    for _ in range(PASSES):
        c, w = time.process_time(), time.perf_counter()
        fn(texts)
        cpu = min(cpu, time.process_time() - c)
        wall = min(wall, time.perf_counter() - w)
    return len(texts) / cpu, len(texts) / wall


def _triage_rows(quick: bool) -> list[dict[str, Any]]:
    started = time.perf_counter()
    model = triage.model()  # includes imports and the corpus: a cold start
    cold = time.perf_counter() - started
    texts = comments(20_000 if quick else 200_000)
    few = texts[: len(texts) // 10]  # scikit-learn per comment is slow: a tenth is enough

    def batched(xs: Sequence[str]) -> None:
        for i in range(0, len(xs), BATCH):
            triage.classify(xs[i : i + BATCH])

    def one_by_one(xs: Sequence[str]) -> None:
        for x in xs:
            triage.classify_one(x)

    def normalise_only(xs: Sequence[str]) -> None:
        for x in xs:
            triage.normalise(x)

    def sklearn_one_by_one(xs: Sequence[str]) -> None:
        vec, clf = model.vectorizer, model.classifier
        for x in xs:
            clf.predict_proba(vec.transform([triage.normalise(x)]))

    def keywords(xs: Sequence[str]) -> None:
        for x in xs:
            keyword_intent(x)

    with one_core():
        batch = rate(batched, texts)
        floor = rate(normalise_only, texts)
        single = rate(one_by_one, texts)
        sk = rate(sklearn_one_by_one, few)
        kw = rate(keywords, texts)
    unit = "comments/s (CPU)"
    return [
        {"case": f"triage, batch of {BATCH:,}", "value": batch[0], "unit": unit,
         "baseline": floor[0], "ratio": batch[0] / floor[0], "comments": len(texts),
         "baseline_is": "normalisation alone", "wall_per_s": batch[1]},
        {"case": "triage, one at a time", "value": single[0], "unit": unit,
         "baseline": sk[0], "ratio": single[0] / sk[0], "comments": len(texts),
         "baseline_is": "scikit-learn transform + predict_proba per comment",
         "wall_per_s": single[1]},
        {"case": "keyword rules (evaluation baseline)", "value": kw[0], "unit": unit,
         "wall_per_s": kw[1]},
        {"case": "triage: train at first use", "value": model.train_seconds, "unit": "s",
         "cold_start_s": cold, "train_texts": len(triage_data.training_set(
             triage_data.seeds())[0])},
    ]  # fmt: skip


CASES: list[Callable[[bool], list[dict[str, Any]]]] = [_triage_rows, _selection_rows]


def run(quick: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for case in CASES:
        rows += case(quick)
    return rows
