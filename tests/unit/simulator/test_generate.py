"""The offline simulator's output: valid per events.md, deterministic, labelled at the
configured rates, shaped like a live room, and with the traps that must stay genuine.

Tolerances. Each fake kind's volume is computed from what the session already holds
(``fake = round(share / (1 - share) * others)``), so the measured share differs from the
configured one by rounding alone: ``|fake / (fake + others) - share| <= 0.5 / (fake +
others)``. The shape checks use wide bands taken from public dashboard figures of
Chinese live commerce (entry rate 10-40 %, conversion 0.3-10 %, product CTR 2-40 %), not
from this generator's own output.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from daihuo.analytics.reference import report
from daihuo.events.model import Event, event_to_obj
from daihuo.events.parse import ParseSummary, load_events
from daihuo.simulator.corpus import catalogue
from daihuo.simulator.plan import flash_price
from daihuo.simulator.run import generate
from daihuo.simulator.scenario import FAKE_KINDS, Scenario

KINDS = FAKE_KINDS


@dataclass
class Run:
    prefix: Path
    events: list[Event]
    summary: ParseSummary
    labels: list[dict[str, str]]
    lines: list[str]

    @property
    def fake_users(self) -> dict[tuple[str, str], str]:
        return {(r["session"], r["user"]): r["kind"] for r in self.labels if "user" in r}

    @property
    def fake_orders(self) -> set[tuple[str, str]]:
        return {(r["session"], r["order"]) for r in self.labels if "order" in r}

    def sessions(self) -> dict[str, list[Event]]:
        out: dict[str, list[Event]] = collections.defaultdict(list)
        for e in self.events:
            out[e.session].append(e)
        return out


def make_run(
    folder: Path, name: str, scenario: Scenario | None = None, *, sessions: int = 2,
    viewers: int = 3000, seed: int = 11, clean: bool = False,
) -> Run:  # fmt: skip
    prefix = folder / name
    generate(
        scenario or Scenario(), sessions=sessions, viewers=viewers, seed=seed, out=prefix,
        clean=clean,
    )  # fmt: skip
    events, summary = load_events(f"{prefix}.events.jsonl")
    labels_text = Path(f"{prefix}.labels.jsonl").read_text(encoding="utf-8")
    labels = [json.loads(line) for line in labels_text.splitlines()]
    lines = Path(f"{prefix}.events.jsonl").read_text(encoding="utf-8").splitlines()
    return Run(prefix, events, summary, labels, lines)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sim")


@pytest.fixture(scope="module")
def run(folder: Path) -> Run:
    return make_run(folder, "default")


@pytest.fixture(scope="module")
def big(folder: Path) -> Run:
    """One larger session: the traps need a full room."""
    return make_run(folder, "big", sessions=1, viewers=10_000, seed=5)


@pytest.fixture(scope="module")
def figures(run: Run) -> dict[str, Any]:
    sessions: dict[str, Any] = report(run.events)["sessions"]
    return sessions


def watch_seconds(
    events: list[Event], skip: frozenset[str] | set[str] = frozenset()
) -> dict[str, float]:
    """Seconds in the room per user, by the events.md presence rules."""
    ordered = sorted(events, key=lambda e: (e.ts_ms, e.type != "leave"))
    end = next(e.ts_ms for e in ordered if e.type == "live_end")
    inside: dict[str, int] = {}
    total: collections.Counter[str] = collections.Counter()
    for e in ordered:
        if e.user is None or e.user in skip:
            continue
        if e.type == "enter" and e.user not in inside and e.ts_ms <= end:
            inside[e.user] = e.ts_ms
        elif e.type == "leave" and e.user in inside:
            total[e.user] += min(e.ts_ms, end) - inside.pop(e.user)
    for user, since in inside.items():
        total[user] += end - since
    return {u: ms / 1000 for u, ms in total.items()}


def max_in_window(times: list[int], width_ms: int) -> int:
    times = sorted(times)
    return max(
        (bisect.bisect_right(times, t + width_ms) - i for i, t in enumerate(times)), default=0
    )


# --- the contract ---------------------------------------------------------------------


def test_every_line_is_accepted_by_the_event_validator(run: Run) -> None:
    assert run.summary.rejected == 0, run.summary.rejects[:5]
    assert run.summary.duplicates == 0 and run.summary.blank == 0
    assert run.summary.kept == len(run.lines) > 50_000


def test_every_line_has_id_and_ts_first_and_amounts_in_integer_fen(run: Run) -> None:
    for line in run.lines[:2000]:
        obj = json.loads(line)
        assert list(obj)[:4] == ["id", "ts", "session", "type"]
        for key in ("amount", "qty", "count"):
            assert key not in obj or type(obj[key]) is int


def test_each_session_has_its_own_id_and_one_live_start_and_live_end(run: Run) -> None:
    sessions = run.sessions()
    assert len(sessions) == 2
    for events in sessions.values():
        kinds = collections.Counter(e.type for e in events)
        assert kinds["live_start"] == 1 and kinds["live_end"] == 1
        start = next(e for e in events if e.type == "live_start")
        end = next(e for e in events if e.type == "live_end")
        assert 10 * 60_000 <= end.ts_ms - start.ts_ms <= 720 * 60_000
        assert all(e.ts_ms >= start.ts_ms for e in events)
        assert events[0].type == "live_start"  # each session's block opens with it
    assert len({e.id for e in run.events}) == len(run.events)


def test_inside_a_session_events_are_in_time_order_with_leaves_first_at_a_tie(run: Run) -> None:
    previous: Event | None = None
    for e in run.events:
        if previous is not None and previous.session == e.session:
            assert (previous.ts_ms, previous.type != "leave") <= (e.ts_ms, e.type != "leave")
        previous = e


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes(folder: Path) -> None:
    def files(name: str, seed: int) -> tuple[bytes, bytes]:
        generate(Scenario(), sessions=2, viewers=300, seed=seed, out=folder / name)
        return (
            (folder / f"{name}.events.jsonl").read_bytes(),
            (folder / f"{name}.labels.jsonl").read_bytes(),
        )

    first, again, other = files("d1", 3), files("d2", 3), files("d3", 4)
    assert first == again
    assert first[0] != other[0] and first[1] != other[1]


def test_ids_say_nothing_about_who_is_fake(run: Run) -> None:
    fake = run.fake_users
    users = {(e.session, e.user) for e in run.events if e.user}
    shapes = {len(u) for _, u in users}
    assert shapes == {13}  # "u" + 12 hex digits for everyone
    genuine = sorted(u for s, u in users if (s, u) not in fake)
    labelled = sorted(u for s, u in users if (s, u) in fake)
    # fake ids are spread over the same range as genuine ones, not in a block of their own
    assert labelled[0] < genuine[len(genuine) // 2] < labelled[-1]


# --- labels ---------------------------------------------------------------------------


def test_labels_name_users_and_orders_of_their_session(run: Run) -> None:
    entered = {(e.session, e.user) for e in run.events if e.type == "enter"}
    order_events: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for e in run.events:
        if e.order:
            order_events[e.session, e.order].add(e.type)
    for row in run.labels:
        assert set(row) in ({"session", "user", "kind"}, {"session", "order", "kind"})
        assert row["kind"] in KINDS
        if "user" in row:
            assert (row["session"], row["user"]) in entered
        else:
            assert row["kind"] == "brushing"
            assert {"order_created", "order_paid"} <= order_events[row["session"], row["order"]]
    assert {r["kind"] for r in run.labels} == set(KINDS)


def shares(run: Run) -> dict[str, dict[str, tuple[int, int]]]:
    """Per session and kind: (fake volume, total volume) as the reference report counts."""
    fake, fake_orders = run.fake_users, run.fake_orders
    figures = report(run.events)["sessions"]
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for sid, events in run.sessions().items():
        f = figures[sid]
        viewers = {e.user or "" for e in events if e.type == "enter"}
        paid = {e.order for e in events if e.type == "order_paid"}
        out[sid] = {
            "bot_viewer": (
                sum(fake.get((sid, u)) == "bot_viewer" for u in viewers), f["viewer_uv"]
            ),
            "comment_farm": (
                sum(fake.get((sid, e.user or "")) == "comment_farm" for e in events
                    if e.type == "comment"),
                f["comment_count"],
            ),
            "like_farm": (
                sum(e.count or 1 for e in events
                    if e.type == "like" and fake.get((sid, e.user or "")) == "like_farm"),
                f["like_count"],
            ),
            "brushing": (sum((sid, o) in fake_orders for o in paid), f["order_count"]),
        }  # fmt: skip
        assert len(paid) == f["order_count"]  # every paid order was created in the window
    return out


def assert_shares(run: Run, scenario: Scenario) -> None:
    for sid, measured in shares(run).items():
        for kind, (fake, total) in measured.items():
            want = scenario.f(f"fake.{kind}.share") if scenario.fake_enabled(kind) else 0.0
            assert total > 0, (sid, kind)
            if want:
                assert fake > 0, (sid, kind)
            assert abs(fake / total - want) <= 0.5 / total + 1e-12, (sid, kind, fake, total)


def test_each_fake_kind_is_present_at_its_configured_share(run: Run) -> None:
    assert_shares(run, Scenario())


SHARES: dict[str, Any] = {
    "fake.bot_viewer.share": 0.4, "fake.comment_farm.share": 0.25,
    "fake.like_farm.share": 0.5, "fake.brushing.share": 0.2,
}  # fmt: skip


def camouflaged(level: str) -> Scenario:
    return Scenario({**SHARES, **{f"fake.{kind}.camouflage": level for kind in KINDS}})


@pytest.fixture(scope="module")
def blatant(folder: Path) -> Run:
    return make_run(folder, "blatant", camouflaged("blatant"), viewers=1500, seed=2)


@pytest.fixture(scope="module")
def careful(folder: Path) -> Run:
    return make_run(folder, "careful", camouflaged("careful"), viewers=1500, seed=2)


def test_configured_shares_hold_from_blatant_to_careful(blatant: Run, careful: Run) -> None:
    assert_shares(blatant, camouflaged("blatant"))
    assert_shares(careful, camouflaged("careful"))


def of_kind(run: Run, kind: str) -> list[Event]:
    fake = run.fake_users
    return [e for e in run.events if fake.get((e.session, e.user or "")) == kind]


def test_blatant_bots_come_in_silent_waves_on_shared_phones_careful_ones_do_not(
    blatant: Run, careful: Run
) -> None:
    def signals(run: Run) -> tuple[float, float, int, int]:
        events = of_kind(run, "bot_viewer")
        bots = {e.user for e in events if e.type == "enter"}
        seen = {e.user for e in events if e.type == "impression"}
        accounts: dict[str, set[str]] = collections.defaultdict(set)
        for e in events:
            if e.type == "enter":
                accounts[e.device or ""].add(e.user or "")
        on_shared = len({u for users in accounts.values() if len(users) > 1 for u in users})
        wave = max_in_window([e.ts_ms for e in events if e.type == "enter"], 10_000)
        likes = sum(1 for e in events if e.type == "like")
        return len(seen) / len(bots), on_shared / len(bots), wave, likes

    seen, shared, wave, likes = signals(blatant)
    assert seen == 0 and shared > 0.9 and wave >= 100 and likes == 0
    seen, shared, wave, likes = signals(careful)
    assert seen == 1 and shared < 0.05 and wave < 50 and likes > 0


def test_blatant_farms_repeat_their_script_careful_ones_vary_it(blatant: Run, careful: Run) -> None:
    def distinct_texts(run: Run) -> float:
        texts = [e.text for e in of_kind(run, "comment_farm") if e.type == "comment"]
        return len(set(texts)) / len(texts)

    assert distinct_texts(blatant) < 0.05
    assert distinct_texts(careful) > 0.3

    def modal_share(run: Run) -> float:
        counts = collections.Counter(e.count for e in of_kind(run, "like_farm") if e.type == "like")
        return counts.most_common(1)[0][1] / counts.total()

    assert modal_share(blatant) > 0.9  # 40 taps a batch, but for each account's remainder
    assert modal_share(careful) < 0.2


def test_blatant_rings_order_in_seconds_to_shared_addresses_careful_ones_take_time(
    blatant: Run, careful: Run
) -> None:
    def signals(run: Run) -> tuple[float, float]:
        events = of_kind(run, "brushing")
        clicks: dict[str, list[int]] = collections.defaultdict(list)
        delays, addrs = [], []
        for e in events:
            if e.type == "product_click":
                clicks[e.user or ""].append(e.ts_ms)
            elif e.type == "order_created":
                last = max(t for t in clicks[e.user or ""] if t <= e.ts_ms)
                delays.append(e.ts_ms - last)
                addrs.append((e.meta or {})["addr"])
        return statistics.median(delays), len(set(addrs)) / len(addrs)

    delay, spread = signals(blatant)
    assert delay <= 4000 and spread < 0.2
    delay, spread = signals(careful)
    assert delay >= 10_000 and spread > 0.4


def test_a_switched_off_kind_leaves_no_labels_and_the_others_stay(folder: Path) -> None:
    sc = Scenario({"fake.comment_farm.enabled": False, "fake.brushing.share": 0.0})
    got = make_run(folder, "some-off", sc, viewers=800)
    assert {r["kind"] for r in got.labels} == {"bot_viewer", "like_farm"}
    assert_shares(got, sc)


def test_clean_is_the_same_run_without_exactly_the_labelled_activity(folder: Path) -> None:
    full = make_run(folder, "full", viewers=700, sessions=3, seed=9)
    clean = make_run(folder, "clean", viewers=700, sessions=3, seed=9, clean=True)
    assert clean.labels == []
    assert clean.summary.rejected == 0

    def content(e: Event) -> str:
        # everything but the id, which numbers the session's events in time order
        return json.dumps({**event_to_obj(e), "id": None}, sort_keys=True, ensure_ascii=False)

    fake_users, fake_orders = full.fake_users, full.fake_orders
    kept = collections.Counter(
        content(e) for e in full.events
        if (e.session, e.user) not in fake_users and (e.session, e.order) not in fake_orders
    )  # fmt: skip
    assert kept == collections.Counter(content(e) for e in clean.events)
    assert len(full.events) > len(clean.events)


# --- a live room ----------------------------------------------------------------------


def test_the_reference_report_looks_like_a_live_room(figures: dict[str, Any]) -> None:
    for f in figures.values():
        assert 0 < f["pcu"] <= f["viewer_uv"]
        assert f["acu"] < f["pcu"]
        assert 0.1 <= f["entry_rate"] <= 0.4
        assert 0.003 <= f["conversion_rate"] <= 0.1
        assert 0.02 <= f["product_ctr"] <= 0.4
        assert 0.05 <= f["interaction_rate"] <= 0.6
        assert 30 <= f["avg_watch_seconds"] <= 900
        assert f["views_pv"] > f["viewer_uv"]  # people come back
        assert f["comment_count"] > 0 and f["like_count"] > f["comment_count"]
        assert f["share_count"] > 0 and f["follow_uv"] > 0
        assert 0 < f["refund_rate"] < 0.6
        exposure, viewers, card, click, cart, buyers = f["funnel"]
        assert exposure > viewers > card > click > cart and click > buyers > 0
        assert set(f["sources"]) == {"feed", "follow", "search", "share", "ads", "other"}
        assert all(row["viewer_uv"] <= row["exposure_uv"] for row in f["sources"].values()
                   if row["exposure_uv"])  # fmt: skip
        online = f["online_per_minute"]
        assert online[0] == 0 and min(online[5:-1]) > 0
        assert sum(1 for g in f["gmv_per_minute"] if g) > 10


def test_watch_times_are_heavy_tailed_with_quick_swipes_and_long_stays(run: Run) -> None:
    events = next(iter(run.sessions().values()))
    sid = events[0].session
    fake = {u for s, u in run.fake_users if s == sid}
    seconds = sorted(watch_seconds(events, fake).values())
    median = statistics.median(seconds)
    p99 = seconds[int(0.99 * (len(seconds) - 1))]
    assert 5 <= median <= 180
    assert sum(s < 5 for s in seconds) / len(seconds) >= 0.05  # swiped away at once
    assert p99 >= 20 * median and seconds[-1] >= 3600  # a few stay for hours
    assert statistics.mean(seconds) > 2 * median


def test_loyal_fans_come_back_stay_long_and_talk_a_lot(run: Run) -> None:
    sessions = list(run.sessions().values())
    users = [{e.user or "" for e in s if e.type == "enter"} for s in sessions]
    returning = users[0] & users[1]
    fake = {u for _, u in run.fake_users}
    returning -= fake
    assert len(returning) >= 50
    watch = watch_seconds(sessions[1], fake)
    comments = collections.Counter(e.user for e in sessions[1] if e.type == "comment")
    others = [u for u in watch if u not in returning]
    assert statistics.mean(watch[u] for u in returning) > 3 * statistics.mean(
        watch[u] for u in others
    )
    assert statistics.mean(comments[u] for u in returning) > 3 * statistics.mean(
        comments[u] for u in others
    )


def test_arrivals_come_in_waves(figures: dict[str, Any]) -> None:
    for f in figures.values():
        per_minute = f["new_viewers_per_minute"][5:-5]
        assert max(per_minute) > 2 * statistics.median(per_minute)


def test_most_users_shown_the_room_do_not_enter(figures: dict[str, Any]) -> None:
    for f in figures.values():
        assert f["exposure_uv"] > 2 * f["viewer_uv"]


def test_likes_come_in_batched_bursts(run: Run) -> None:
    likes = [e for e in run.events if e.type == "like"]
    assert sum(1 for e in likes if (e.count or 1) > 1) > 0.7 * len(likes)
    by_user: dict[str, list[int]] = collections.defaultdict(list)
    for e in likes:
        by_user[f"{e.session}/{e.user}"].append(e.ts_ms)
    gaps = [b - a for ts in by_user.values() for a, b in itertools.pairwise(ts)]
    assert sum(g <= 3000 for g in gaps) > 0.3 * len(gaps)  # taps in streaks


def test_orders_are_one_catalogue_line_with_amount_price_times_qty(run: Run) -> None:
    prices = {p.id: p.price for p in catalogue()}
    created: dict[str, Event] = {}
    for e in run.events:
        if e.type == "order_created":
            assert e.order not in created
            created[e.order or ""] = e
            assert e.product in prices and e.qty and e.amount is not None
            unit = e.amount // e.qty
            assert e.amount == unit * e.qty
            allowed = {prices[e.product]}
            allowed |= {flash_price(prices[e.product], d / 100) for d in range(1, 101)}
            assert unit in allowed
            assert e.meta and e.meta.get("addr")
    paid = refunded = late = 0
    ends = {e.session: e.ts_ms for e in run.events if e.type == "live_end"}
    for e in run.events:
        if e.type == "order_paid":
            made = created[e.order or ""]
            assert (e.amount, e.qty, e.product, e.user) == (
                made.amount,
                made.qty,
                made.product,
                made.user,
            )
            assert e.ts_ms >= made.ts_ms
            paid += 1
        elif e.type == "order_refunded":
            made = created[e.order or ""]
            assert e.amount is not None and made.amount is not None
            assert 0 < e.amount <= made.amount and e.user == made.user
            refunded += 1
            late += e.ts_ms > ends[e.session]
    assert paid < len(created)  # some orders are never paid
    assert 0 < late < refunded  # refunds both during and after the session


def test_product_cards_and_clicks_follow_the_pinned_product(run: Run) -> None:
    for events in run.sessions().values():
        shown: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for e in events:
            if e.type == "product_impression":
                shown[e.ts_ms // 60_000][e.product or ""] += 1
        clicks = [e for e in events if e.type == "product_click"]
        on_pinned = sum(
            1 for e in clicks if shown[e.ts_ms // 60_000].most_common(1)[0][0] == e.product
        )
        assert on_pinned > 0.7 * len(clicks)
        assert len({p for c in shown.values() for p in c}) >= 5


# --- the traps: genuine behaviour a naive fraud rule would flag -----------------------


def test_a_flash_sale_is_a_stampede_of_hundreds_of_genuine_clicks(big: Run) -> None:
    fake = big.fake_users
    clicks: dict[str, list[int]] = collections.defaultdict(list)
    for e in big.events:
        if e.type == "product_click" and (e.session, e.user) not in fake:
            clicks[e.product or ""].append(e.ts_ms)
    assert max(max_in_window(ts, 10_000) for ts in clicks.values()) >= 200
    fast = [
        e for e in big.events
        if e.type == "order_created" and (e.session, e.order) not in big.fake_orders
    ]  # fmt: skip
    assert len(fast) >= 50  # genuine orders in the flash minutes too


def test_households_and_campuses_share_addresses_and_ips_and_stay_genuine(big: Run) -> None:
    fake = big.fake_users
    by_addr: dict[str, set[str]] = collections.defaultdict(set)
    by_ip: dict[str, set[str]] = collections.defaultdict(set)
    by_device: dict[str, set[str]] = collections.defaultdict(set)
    for e in big.events:
        if e.user is None or (e.session, e.user) in fake:
            continue
        if e.type == "order_created" and e.meta:
            by_addr[e.meta["addr"]].add(e.user)
        if e.type == "enter":
            by_ip[e.ip or ""].add(e.user)
            by_device[e.device or ""].add(e.user)
    assert max(len(u) for u in by_addr.values()) >= 2
    assert sum(1 for u in by_ip.values() if len(u) >= 20) >= 1  # a campus exit
    assert sum(1 for u in by_ip.values() if 2 <= len(u) <= 5) >= 20  # households
    assert sum(1 for u in by_device.values() if len(u) >= 2) >= 5  # a shared family phone


def test_whole_rooms_of_genuine_fans_type_the_same_text_within_seconds(big: Run) -> None:
    fake = big.fake_users
    said: dict[str, list[int]] = collections.defaultdict(list)
    for e in big.events:
        if e.type == "comment" and (e.session, e.user) not in fake:
            said[e.text or ""].append(e.ts_ms)
    assert max(max_in_window(ts, 30_000) for ts in said.values()) >= 20
    assert max_in_window(said["666"], 30_000) >= 10 or max_in_window(said["1"], 30_000) >= 10


# --- any small run --------------------------------------------------------------------


@st.composite
def small_scenarios(draw: st.DrawFn) -> Scenario:
    values: dict[str, Any] = {"sessions.duration_minutes": 10.0, "products.count": 3}
    for kind in KINDS:
        values[f"fake.{kind}.share"] = draw(st.sampled_from([0.0, 0.05, 0.3, 0.9]))
        values[f"fake.{kind}.camouflage"] = draw(st.floats(0, 1))
        values[f"fake.{kind}.enabled"] = draw(st.booleans())
    values["audience.fans_share"] = draw(st.sampled_from([0.0, 0.1, 1.0]))
    values["flash_sales.count"] = draw(st.integers(0, 3))
    return Scenario(values)


# Cases found by a wider random search, kept as regressions: a brushing ring reused twice
# within one session (its accounts counted twice), a flash-sale complaint after the end.
_RING_AGAIN = Scenario({
    "sessions.duration_minutes": 10.0, "products.count": 3, "audience.fans_share": 0.0,
    "flash_sales.count": 3, "fake.bot_viewer.share": 0.05,
    "fake.bot_viewer.camouflage": 0.5127105009158898,
    "fake.comment_farm.enabled": False, "fake.like_farm.enabled": False,
    "fake.brushing.share": 0.9, "fake.brushing.camouflage": 0.9967072779247954,
})  # fmt: skip
_LATE_COMPLAINT = Scenario({
    "sessions.duration_minutes": 10.0, "products.count": 3, "audience.fans_share": 1.0,
    "flash_sales.count": 3, "fake.bot_viewer.enabled": False, "fake.comment_farm.share": 0.9,
    "fake.comment_farm.camouflage": 0.18546967135033454, "fake.like_farm.share": 0.05,
    "fake.like_farm.camouflage": 0.5378276915670362, "fake.brushing.share": 0.0,
})  # fmt: skip


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(small_scenarios(), st.integers(1, 300), st.integers(0, 2**31), st.booleans())
@example(scenario=_RING_AGAIN, viewers=147, seed=134625481, clean=False)
@example(scenario=_LATE_COMPLAINT, viewers=294, seed=233192557, clean=False)
def test_any_small_run_is_valid_and_keeps_its_rates(
    tmp_path: Path, scenario: Scenario, viewers: int, seed: int, clean: bool
) -> None:
    got = make_run(tmp_path, f"h{seed}", scenario, sessions=2, viewers=viewers, seed=seed,
                   clean=clean)  # fmt: skip
    assert got.summary.rejected == 0 and got.summary.duplicates == 0
    report(got.events)
    if clean:
        assert got.labels == []
        return
    for sid, measured in shares(got).items():
        for kind, (fake, total) in measured.items():
            want = scenario.f(f"fake.{kind}.share") if scenario.fake_enabled(kind) else 0.0
            if total:
                assert abs(fake / total - want) <= 0.5 / total + 1e-12, (sid, kind)


def test_a_returning_ring_is_labelled_once_per_session(folder: Path) -> None:
    sc = Scenario({"fake.brushing.share": 0.9, "fake.brushing.ring_size": 2,
                   "sessions.duration_minutes": 20.0})  # fmt: skip
    got = make_run(folder, "rings", sc, sessions=3, viewers=150, seed=6)
    rows = [tuple(sorted(r.items())) for r in got.labels]
    assert len(rows) == len(set(rows))
    assert_shares(got, sc)
