"""Evaluate comment triage: macro-F1 and per-intent F1, with a keyword baseline.

    python -m daihuo.assistant.triage_eval --out eval/results

* **held-out**: the model is trained on the seeds outside the held-out bucket (and their
  augmented variants) and scored on the held-out seeds, once as written and once as
  their augmented variants. The split is by seed, so no variant of a test seed is trained
  on (``triage_data``).
* **cross-validation**: 4 folds over the training seeds (by seed), as a second reading
  of the same question with more comments behind it.
* **hard set**: the shipped model (trained on every seed) on data/assistant/hard.jsonl,
  which no training ever sees; F1 overall and accuracy per kind (slang, typo, emoji,
  traditional, pinyin, mixed, punct).
* **baseline**: first-match keyword rules (``KEYWORDS``) over the same normalised text,
  so the comparison is between the classifiers and not the normaliser.
* **product reference**: accuracy of the link number read from the comments whose
  reference note names one.

Everything is deterministic; the JSON goes to ``OUT/triage.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from daihuo.assistant import triage, triage_data
from daihuo.assistant.triage import INTENTS

CV_FOLDS: Final = 4

# The keyword baseline: the first intent (in this order) with a keyword in the text wins;
# no keyword means praise_chat. The words are the examples and their obvious kin.
KEYWORDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("spam_abuse", ("微信", "扣扣", "网址", "电话", "加我", "私聊", "骗子", "垃圾", "滚",
                    "傻", "托", "兼职", "进群", "主页")),
    ("after_sales", ("退款", "退货", "换货", "坏", "破", "质量", "投诉", "过敏", "没收到",
                     "少发", "发错", "客服")),
    ("purchase_intent", ("想要", "上链接", "已拍", "怎么买", "拍了", "下单", "付款", "我要",
                         "抢到", "扣1", "冲")),
    ("question", ("吗", "多少", "什么", "几", "?", "怎么", "哪", "有没有", "能不能")),
)  # fmt: skip


def keyword_intent(text: str) -> str:
    norm = triage.normalise(text)
    for intent, words in KEYWORDS:
        if any(w in norm for w in words):
            return intent
    return "praise_chat"


def f1_report(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score

    per = f1_score(truth, predicted, labels=list(INTENTS), average=None, zero_division=0)
    return {
        "n": len(truth),
        "macro_f1": round(
            float(f1_score(truth, predicted, labels=list(INTENTS), average="macro")), 4
        ),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "per_intent_f1": {i: round(float(f), 4) for i, f in zip(INTENTS, per, strict=True)},
    }


def _predict(model: triage.TriageModel, texts: Sequence[str]) -> list[str]:
    # The same path as classify(), but with the given model instead of the shipped one.
    out = []
    for t in texts:
        p = triage._prepare(t)
        if isinstance(p, triage.Verdict):
            out.append(p.intent)
        else:
            probs = model.proba(p)
            out.append(model.classes[max(range(len(probs)), key=probs.__getitem__)])
    return out


def evaluate() -> dict[str, Any]:
    seeds = triage_data.seeds()
    train = [s for s in seeds if not s.held_out]
    test = [s for s in seeds if s.held_out]
    texts, labels = triage_data.training_set(train)
    # Warm up imports and OpenCC's table first, so the timings are training alone.
    import sklearn.linear_model  # noqa: F401

    triage.normalise("预热")
    started = time.perf_counter()
    held_model = triage.TriageModel(texts, labels)
    held_seconds = time.perf_counter() - started

    test_texts = [s.text for s in test]
    test_truth = [s.intent for s in test]
    var_texts = [v for s in test for v in triage_data.augment(s.text)]
    var_truth = [s.intent for s in test for _ in range(triage_data.VARIANTS)]

    # 4-fold cross-validation over the training seeds (folds by seed, variants with them).
    cv_truth: list[str] = []
    cv_pred: list[str] = []
    for fold in range(CV_FOLDS):
        fit = [s for i, s in enumerate(train) if i % CV_FOLDS != fold]
        check = [s for i, s in enumerate(train) if i % CV_FOLDS == fold]
        fold_model = triage.TriageModel(*triage_data.training_set(fit))
        cv_truth += [s.intent for s in check]
        cv_pred += _predict(fold_model, [s.text for s in check])

    shipped = triage.model()
    hard = triage_data.hard_set()
    hard_texts = [h.text for h in hard]
    hard_truth = [h.intent for h in hard]
    hard_pred = [v.intent for v in triage.classify(hard_texts)]
    kinds: dict[str, list[bool]] = {}
    for h, p in zip(hard, hard_pred, strict=True):
        kinds.setdefault(h.kind, []).append(h.intent == p)

    refs = [(s.text, int(s.ref[5:])) for s in seeds if s.ref.startswith("slot=")]
    refs += [(h.text, int(h.ref[5:])) for h in hard if h.ref.startswith("slot=")]
    slot_hits = sum(triage.find_slot(triage.normalise(t)) == n for t, n in refs)
    no_ref = [s.text for s in seeds if not s.ref and s.intent != "spam_abuse"]
    false_slots = sum(triage.find_slot(triage.normalise(t)) is not None for t in no_ref)

    return {
        "corpus": {
            "seeds": len(seeds),
            "train_seeds": len(train),
            "test_seeds": len(test),
            "variants_per_seed": triage_data.VARIANTS,
            "train_texts": len(texts),
            "hard_items": len(hard),
        },
        "model": {
            "features": f"character {triage.NGRAMS[0]}-{triage.NGRAMS[1]}-grams, TF-IDF",
            "classifier": f"LogisticRegression(C={triage.C}, newton-cg)",
            "vocabulary": len(shipped.vectorizer.vocabulary_),
            "train_seconds_held_out_model": round(held_seconds, 3),
            "train_seconds_shipped_model": round(shipped.train_seconds, 3),
        },
        "held_out": {
            "model": f1_report(test_truth, _predict(held_model, test_texts)),
            "baseline": f1_report(test_truth, [keyword_intent(t) for t in test_texts]),
        },
        "cross_validation_on_train_seeds": f1_report(cv_truth, cv_pred),
        "held_out_variants": {
            "model": f1_report(var_truth, _predict(held_model, var_texts)),
            "baseline": f1_report(var_truth, [keyword_intent(t) for t in var_texts]),
        },
        "hard_set": {
            "model": f1_report(hard_truth, hard_pred),
            "baseline": f1_report(hard_truth, [keyword_intent(t) for t in hard_texts]),
            "model_accuracy_by_kind": {
                k: {"n": len(v), "accuracy": round(sum(v) / len(v), 4)}
                for k, v in sorted(kinds.items())
            },
        },
        "product_reference": {
            "slot_comments": len(refs),
            "slot_accuracy": round(slot_hits / len(refs), 4) if refs else None,
            "comments_without_reference": len(no_ref),
            "false_slot_share": round(false_slots / len(no_ref), 4) if no_ref else None,
        },
    }


def table(result: dict[str, Any]) -> str:
    cols = ["macro_f1", *INTENTS]
    lines = [
        "| set | classifier | " + " | ".join(cols) + " |",
        "|---|---|" + "---:|" * len(cols),
    ]
    for name in ("held_out", "held_out_variants", "hard_set"):
        for who in ("model", "baseline"):
            r = result[name][who]
            cells = [f"{r['macro_f1']:.3f}"] + [f"{r['per_intent_f1'][i]:.3f}" for i in INTENTS]
            label = f"{name} (n={r['n']})"
            lines.append(f"| {label} | {who} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m daihuo.assistant.triage_eval")
    parser.add_argument("--out", default="eval/results", help="folder for the JSON results")
    args = parser.parse_args(argv)
    result = evaluate()
    print(table(result))
    m = result["model"]
    pr = result["product_reference"]
    print(
        f"training: {m['train_seconds_held_out_model']} s on {result['corpus']['train_texts']}"
        f" texts (held-out model), {m['train_seconds_shipped_model']} s (shipped model);"
        f" link numbers read right: {pr['slot_accuracy']:.3f} of"
        f" {pr['slot_comments']}; slot found where none was meant: {pr['false_slot_share']:.3f}"
    )
    cv = result["cross_validation_on_train_seeds"]
    print(f"{CV_FOLDS}-fold cross-validation on the training seeds: macro-F1 {cv['macro_f1']:.3f}")
    by_kind = result["hard_set"]["model_accuracy_by_kind"]
    print("hard set accuracy by kind: " + ", ".join(
        f"{k} {v['accuracy']:.2f} (n={v['n']})" for k, v in by_kind.items()
    ))  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "triage.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"results: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
