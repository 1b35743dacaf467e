"""The room's triage state and what the host's screen reads from it (pure parts)."""

from __future__ import annotations

import asyncio

import pytest

from daihuo.assistant.room import (
    BUCKET_MS,
    QUEUE,
    MemoryTriage,
    Pin,
    RoomProduct,
    Triaged,
    TriageState,
    shape,
)

LIPSTICK = RoomProduct(1, "itm_lip", "prd_lip", "滋润保湿口红 正红色")
MASK = RoomProduct(2, "itm_mask", "prd_mask", "玻尿酸补水面膜")
T0 = 1_800_000_000_000 - 1_800_000_000_000 % BUCKET_MS  # a bucket boundary


def item(n: int, intent: str, text: str = "x", slot: int | None = None, ts: int = T0) -> Triaged:
    return Triaged(f"evt_{n}", ts, f"usr_{n}", text, intent, slot, 0.9)


def test_a_repeated_comment_id_counts_once() -> None:
    store = MemoryTriage()
    batch = [item(1, "question"), item(2, "purchase_intent", slot=2)]
    asyncio.run(store.apply("s", batch))
    asyncio.run(store.apply("s", batch))
    state = asyncio.run(store.read("s"))
    assert state.counts == {"question": 1, "purchase_intent": 1}
    assert len(state.questions) == 1 and state.slots == {2: 1}
    assert asyncio.run(store.read("other")) == TriageState()


def test_the_queues_keep_the_latest_newest_first() -> None:
    store = MemoryTriage()
    asyncio.run(store.apply("s", [item(n, "question", f"q{n}") for n in range(QUEUE + 5)]))
    asyncio.run(store.apply("s", [item(100, "after_sales", "坏了")]))
    state = asyncio.run(store.read("s"))
    assert [q["text"] for q in state.questions] == [f"q{n}" for n in range(QUEUE + 4, 4, -1)]
    assert [c["text"] for c in state.complaints] == ["坏了"]
    assert state.counts["question"] == QUEUE + 5


def test_questions_get_their_product_by_number_name_or_pin() -> None:
    state = TriageState(
        questions=[
            {"id": "a", "at_ms": T0, "text": "2号还有吗", "slot": 2},
            {"id": "b", "at_ms": T0, "text": "面膜能天天敷吗", "slot": None},
            {"id": "c", "at_ms": T0 + 5_000, "text": "多少钱", "slot": None},
            {"id": "d", "at_ms": T0 - 60_000, "text": "多少钱", "slot": None},  # before any pin
            {"id": "e", "at_ms": T0, "text": "9号还有吗", "slot": 9},  # no such link
        ],
        complaints=[{"id": "f", "at_ms": T0 + 5_000, "text": "收到是坏的", "slot": None}],
    )
    pins = [Pin("itm_lip", T0, None)]
    got = shape("s", state, [LIPSTICK, MASK], pins)
    products = [(q["product"] or {}).get("item_id") for q in got["questions"]]
    assert products == ["itm_mask", "itm_mask", "itm_lip", None, None]
    assert got["complaints"][0]["product"] is None  # complaints never fall back to the pin


def test_purchase_intents_go_to_the_link_named_or_the_product_pinned_most_of_the_bucket() -> None:
    bucket = T0 // BUCKET_MS
    state = TriageState(
        slots={1: 2, 2: 1, 7: 4},  # link 7 does not exist
        buckets={bucket: 3, bucket + 1: 5, bucket - 10: 6},  # the last: nothing pinned
    )
    # The lipstick until 3 s into the second bucket, the mask from then on.
    switch = T0 + BUCKET_MS + 3_000
    pins = [Pin("itm_lip", T0, switch), Pin("itm_mask", switch, None)]
    got = shape("s", state, [MASK, LIPSTICK], pins)
    meter = {p["item_id"]: p["count"] for p in got["purchase_intent"]}
    assert meter == {"itm_lip": 2 + 3, "itm_mask": 1 + 5}
    assert [p["position"] for p in got["purchase_intent"]] == [1, 2]
    assert got["purchase_intent_unattributed"] == 4 + 6


def test_the_warm_up_trains_the_model_off_the_calling_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from daihuo.assistant import room, triage

    monkeypatch.setattr(triage, "_model", None)
    thread = room.warm_up()
    assert thread.name == "triage-warm-up" and thread.daemon
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert triage._model is not None
    assert triage.model() is triage._model  # built once: the first comment reuses it
