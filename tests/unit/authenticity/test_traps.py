"""The traps: genuine behaviour that naive fraud rules flag must stay unflagged.

Every test runs genuine-only rooms (``clean``) built to stress one trap and requires
that no user of the trap is flagged — and at most 1 % of all users.
"""

from __future__ import annotations

from collections import defaultdict

from daihuo.authenticity.audience import stampedes

from tests.unit.authenticity.sims import simulate

TRAPS = (
    ("flash_sales.count", 4),
    ("flash_sales.stock", 500),
    ("places.household_share", 0.6),
    ("places.campus_share", 0.2),
    ("engagement.chorus_per_hour", 20),
    ("engagement.chorus_join", 0.5),
    ("audience.fans_share", 0.3),
)


def flagged_users(sim) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.id for f in sim.flags() if f.subject == "user"}


def trap_rooms():  # type: ignore[no-untyped-def]
    return simulate(TRAPS, clean=True, sessions=2, viewers=1000, seed=23)


def test_trap_rooms_flag_at_most_one_percent() -> None:
    for sim in trap_rooms():
        assert len(flagged_users(sim)) <= 0.01 * len(sim.data.users)


def test_flash_sale_stampede_is_not_flagged() -> None:
    checked = 0
    for sim in trap_rooms():
        data = sim.data
        flashes = stampedes(data)
        assert flashes, "the trap room has flash sales"
        fast_buyers = {
            o.user
            for o in data.orders.values()
            if any(p == o.product and 0 <= o.created - f <= 120_000 for f, p, _ in flashes)
        }
        checked += len(fast_buyers)
        assert not fast_buyers & flagged_users(sim)
    assert checked >= 20


def test_households_and_campuses_sharing_addresses_are_not_flagged() -> None:
    checked = 0
    for sim in trap_rooms():
        data = sim.data
        by_ip: dict[str, set[str]] = defaultdict(set)
        for u in data.users.values():
            for ip in u.ips:
                by_ip[ip].add(u.id)
        shared = {uid for who in by_ip.values() if len(who) >= 2 for uid in who}
        by_addr: dict[str, set[str]] = defaultdict(set)
        for o in data.orders.values():
            if o.addr:
                by_addr[o.addr].add(o.user)
        shared |= {uid for who in by_addr.values() if len(who) >= 2 for uid in who}
        checked += len(shared)
        assert not shared & flagged_users(sim)
    assert checked >= 100


def test_a_room_typing_666_together_is_not_a_comment_farm() -> None:
    checked = 0
    for sim in trap_rooms():
        chorus = {
            u.id
            for u in sim.data.users.values()
            if any(t in ("666", "来了", "扣1") for _, t in u.comments)
        }
        checked += len(chorus)
        assert not chorus & flagged_users(sim)
    assert checked >= 50


def test_loyal_fans_who_stay_for_hours_are_not_flagged() -> None:
    checked = 0
    for sim in trap_rooms():
        loyal = {u.id for u in sim.data.users.values() if u.watch_ms >= 30 * 60_000}
        checked += len(loyal)
        assert not loyal & flagged_users(sim)
    assert checked >= 10


def test_a_small_session_where_every_number_is_small_is_not_flagged() -> None:
    for sim in simulate((), clean=True, sessions=3, viewers=15, seed=5):
        assert flagged_users(sim) == set()


def test_a_clean_default_room_flags_at_most_one_percent() -> None:
    for sim in simulate((), clean=True, sessions=2, viewers=1500, seed=31):
        assert len(flagged_users(sim)) <= 0.01 * len(sim.data.users)


def test_a_greeting_shared_by_a_few_people_is_not_a_farm() -> None:
    from daihuo.authenticity import comments
    from daihuo.authenticity.features import build

    from tests.unit.authenticity.test_edges import ev, room_events

    stays = [(f"u{i}", i, 3000) for i in range(40)]
    events = room_events(stays)
    for i in range(6):
        events.append(ev(100 + i, "comment", user=f"u{i}", text="来了来了"))
    for i in range(6, 40):
        events.append(ev(200 + i, "comment", user=f"u{i}", text=f"第{i}号多少钱，有没有优惠"))
    assert comments.detect(build("s", events)) == []
