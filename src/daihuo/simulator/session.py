"""One simulated live session: the genuine audience, then each fake kind, as event bodies.

The output of :func:`simulate_session` is two parallel lists, ``keys`` and ``bodies``:
``bodies[i]`` is an event's JSON text after its ``id`` and ``ts`` (which the writer adds
once the session is sorted) and ``keys[i]`` is ``2 * t`` for a ``leave`` and ``2 * t + 1``
otherwise, ``t`` being milliseconds from ``live_start`` — so sorting by key puts a
leave before an enter of the same instant, as events.md processes them.

Genuine behaviour (see docs/simulator.md for the numbers):

* Arrivals per traffic source follow the plan's curves (opening notifications, feed
  waves, flash-sale pulls); most users shown the room never enter.
* Stays are a log-normal mixture (quick swipes, browsing, long stays; fans stay long),
  cut at ``live_end``; viewers come back with some probability.
* Comments and likes are heavy-tailed across users: most never do either, a few do a
  lot. Like taps come in streaks of batched ``count`` events.
* A pinned product's card shows to viewers in the room; clicks, carts, orders,
  payments and refunds follow it. A flash sale is a stampede on limited stock.
* Households and campuses share addresses, IPs and sometimes phones; whole rooms type
  the same "666": all genuine, all things a naive fraud rule would flag.

Fake activity is generated after the genuine audience, so each kind's volume can be set
as a share of the session's total (``share = fake / (fake + everything else)``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Final

from daihuo.simulator.corpus import Product, corpus, encode, render
from daihuo.simulator.ids import Mint, in_subnet, residential_ip, residential_ips, subnet
from daihuo.simulator.plan import Plan, arrivals, make_plan
from daihuo.simulator.scenario import SOURCES, Scenario

_LN = math.log
_EXP = math.exp
# standard normal quantiles at the midpoints of 8192 equal-probability bins
_Z: Final = tuple(NormalDist().inv_cdf((k + 0.5) / 8192) for k in range(8192))
# One session is held in memory to be sorted (about 250 bytes an event).
MAX_SESSION_EVENTS: Final = 20_000_000
SRC: Final = {s: f', "source": "{s}"' for s in SOURCES}


class SessionTooLarge(ValueError):
    """A scenario whose session would not fit in memory; the text says what to lower."""


class Home:
    """A household or a campus: the addresses, IPs and phones its people share."""

    __slots__ = ("addrs", "device", "ips", "slots")

    def __init__(self, ips: list[str], addrs: list[str], device: str | None, slots: int) -> None:
        self.ips = ips
        self.addrs = addrs
        self.device = device
        self.slots = slots


class Account:
    """A user id with its phone, address and place; ``up`` is its ready ``"user"`` key."""

    __slots__ = ("addr", "device", "fan", "home", "ip", "mobile", "uid", "up")

    def __init__(self, uid: str, device: str, ip: str, home: Home | None = None) -> None:
        self.uid = uid
        self.up = f'"user": "{uid}"'
        self.device = device
        self.ip = ip
        self.home = home
        self.mobile = home is None
        self.addr: str | None = None
        self.fan = False

    def tail(self) -> str:
        return f', "device": "{self.device}", "ip": "{self.ip}"}}'


@dataclass(slots=True)
class Population:
    """Everyone across the sessions of one run: fans come back, bots and rings are reused.

    Fake activity draws its ids from forks of the genuine mints (same look, disjoint
    counters), so switching fakes off leaves every genuine id and event unchanged.
    """

    seed: int
    users: Mint
    devices: Mint
    addrs: Mint
    orders: Mint
    fake_users: Mint
    fake_devices: Mint
    fake_addrs: Mint
    fake_orders: Mint
    fans: list[Account] = field(default_factory=list)
    open_homes: list[Home] = field(default_factory=list)
    campuses: list[Home] = field(default_factory=list)
    bots: list[Account] = field(default_factory=list)
    farmers: list[Account] = field(default_factory=list)
    likers: list[Account] = field(default_factory=list)
    rings: list[list[Account]] = field(default_factory=list)

    @classmethod
    def new(cls, seed: int) -> Population:
        users, devices, addrs, orders = (Mint(seed, prefix) for prefix in "udao")
        return cls(
            seed, users, devices, addrs, orders,
            users.fork(), devices.fork(), addrs.fork(), orders.fork(),
        )  # fmt: skip


@dataclass(slots=True)
class SessionResult:
    session: str
    start_ms: int
    duration_ms: int
    keys: list[int]
    bodies: list[str]
    labels: list[tuple[str, str, str]]  # (kind, "user" | "order", id)
    counts: dict[str, int]


def simulate_session(
    sc: Scenario, pop: Population, *, index: int, viewers: int, session: str, start_ms: int,
    clean: bool = False,
) -> SessionResult:  # fmt: skip
    """Generate one session; ``index`` (0-based) and the population's seed fix its stream."""
    rng = random.Random(f"session:{pop.seed}:{index}")  # noqa: S311 - a simulation
    jitter = sc.f("sessions.duration_jitter")
    minutes = sc.f("sessions.duration_minutes") * (1 + jitter * (2 * rng.random() - 1))
    duration = max(600_000, round(minutes * 60_000) + rng.randrange(1000))
    gen = _Session(sc, pop, rng, session, duration)
    gen.genuine(viewers)
    if not clean:
        gen.fakes()
    gen.close()
    return SessionResult(session, start_ms, duration, gen.keys, gen.bodies, gen.labels, gen.counts)


class _Session:
    def __init__(
        self, sc: Scenario, pop: Population, rng: random.Random, session: str, duration: int
    ) -> None:
        self.sc = sc
        self.pop = pop
        self.rng = rng
        self.session = session
        self.end = duration
        self.plan: Plan = make_plan(sc, rng, duration)
        self.keys: list[int] = []
        self.bodies: list[str] = []
        self.labels: list[tuple[str, str, str]] = []
        self.counts: dict[str, int] = {
            "genuine_viewers": 0, "genuine_comments": 0, "genuine_likes": 0,
            "genuine_paid_orders": 0, "other_viewers": 0, "other_likes": 0,
            "bot_viewer": 0, "comment_farm": 0, "like_farm": 0, "brushing": 0,
            "brushing_orders": 0, "flash_clicks": 0, "flash_orders": 0,
        }  # fmt: skip
        pre = f'"session": "{session}", "type": '
        self.p = {
            t: f'{pre}"{t}", '
            for t in (
                "impression", "enter", "leave", "comment", "like", "share", "follow",
                "product_impression", "product_click", "cart_add", "order_created",
                "order_paid", "order_refunded",
            )
        }  # fmt: skip
        self.p_system = pre
        self.attempts: list[tuple[int, int, Account, bool]] = []
        f = sc.f
        self.p_quick = f("audience.quick_share")
        self.p_long = self.p_quick + f("audience.long_share")
        self.watch = {
            key: (_LN(f(f"audience.{key}_median_seconds") * 1000), f(f"audience.{key}_sigma"))
            for key in ("quick", "browse", "long", "fan")
        }
        cpm, lpm = f("engagement.comments_per_minute"), f("engagement.like_streaks_per_minute")
        join = f("engagement.chorus_join")
        # commenter share, liker share, comment rate, like streak rate, re-entry, share,
        # follow, greeting on entry, chorus join
        self.casual_params = (
            f("engagement.commenter_share"), f("engagement.liker_share"), cpm, lpm,
            f("audience.reenter_prob"), f("engagement.share_prob"), f("engagement.follow_prob"),
            0.35, join,
        )  # fmt: skip
        self.fan_params = (
            f("engagement.fan_commenter_share"), f("engagement.fan_liker_share"), 2 * cpm,
            1.5 * lpm, f("audience.fan_reenter_prob"), f("engagement.fan_share_prob"), 0.0,
            0.6, min(1.0, 2 * join),
        )  # fmt: skip
        self.batch = f("engagement.likes_per_batch")
        self.reenter_gap = _LN(f("audience.reenter_gap_median_seconds") * 1000)
        self.n_viewers = 0
        announce = round(f("flash_sales.announce_minutes") * 60_000)
        self.waits = [(fl.at, fl.at - announce) for fl in self.plan.flashes]
        rand, z, nz = rng.random, _Z, len(_Z)

        def lognorm(mu: float, sigma: float) -> float:
            # a log-normal through a table of normal quantiles: several times cheaper
            # than random.lognormvariate, and the cut tails (|z| > 3.8) do not matter here
            return _EXP(mu + sigma * z[int(rand() * nz)])

        self.lognorm = lognorm
        self.card = f("products.card_prob")
        self.ctr = f("products.ctr")
        self.fan_ctr = self.ctr * f("products.fan_ctr_factor")
        self.bag = f("products.bag_prob")
        self.campus_share = f("places.campus_share")
        self.home_share = self.campus_share + f("places.household_share")
        self.like_crew: list[tuple[Account, tuple[int, int]]] = []

    # --- emission ------------------------------------------------------------------

    def emit(self, t: int, body: str) -> None:
        self.keys.append(2 * t + 1)
        self.bodies.append(body)

    def close(self) -> None:
        self.keys.append(0)  # before anything else at the same instant
        self.bodies.append(f'{self.p_system}"live_start"}}')
        self.keys.append(2 * self.end + 1)
        self.bodies.append(f'{self.p_system}"live_end"}}')

    # --- people --------------------------------------------------------------------

    def new_account(self, genuine: bool = True) -> Account:
        """A fresh account; genuine ones may live in a household or on a campus."""
        sc, rng, pop = self.sc, self.rng, self.pop
        if not genuine:
            return Account(pop.fake_users.next(), pop.fake_devices.next(), residential_ip(rng))
        uid = pop.users.next()
        r = rng.random()
        if r < self.campus_share:
            campus = self._campus()
            acc = Account(uid, pop.devices.next(), campus.ips[rng.randrange(len(campus.ips))],
                          campus)  # fmt: skip
            acc.addr = campus.addrs[rng.randrange(len(campus.addrs))]
            return acc
        if r < self.home_share:
            homes = pop.open_homes
            if homes and rng.random() < 0.6:
                k = rng.randrange(len(homes))
                home = homes[k]
                home.slots -= 1
                if home.slots <= 0:
                    homes[k] = homes[-1]
                    homes.pop()
            else:
                size = rng.randint(2, sc.i("places.household_max"))
                home = Home([residential_ip(rng)], [pop.addrs.next()], pop.devices.next(),
                            size - 1)  # fmt: skip
                homes.append(home)
            shared = home.device is not None and rng.random() < sc.f("places.shared_device_prob")
            device = home.device if shared and home.device else pop.devices.next()
            acc = Account(uid, device, home.ips[0], home)
            acc.addr = home.addrs[0]
            return acc
        return Account(uid, pop.devices.next(), residential_ip(rng))

    def _campus(self) -> Home:
        pop, rng, sc = self.pop, self.rng, self.sc
        wanted = max(
            1, round(self.n_viewers * sc.f("places.campus_share") / sc.i("places.campus_size"))
        )
        if len(pop.campuses) < wanted or not pop.campuses:
            net = subnet(rng)
            ips = [in_subnet(rng, net) for _ in range(sc.i("places.campus_exits"))]
            pop.campuses.append(Home(ips, [pop.addrs.next() for _ in range(2)], None, 0))
        return pop.campuses[rng.randrange(len(pop.campuses))]

    def refresh(self, acc: Account) -> None:
        """A returning account's address for this session (phones change IP, homes do not)."""
        if acc.mobile:
            acc.ip = residential_ip(self.rng)
        elif acc.home is not None and len(acc.home.ips) > 1:
            acc.ip = acc.home.ips[self.rng.randrange(len(acc.home.ips))]

    # --- the genuine audience ------------------------------------------------------

    def genuine(self, viewers: int) -> None:
        sc, rng, plan, pop = self.sc, self.rng, self.plan, self.pop
        self.n_viewers = viewers
        n_fans = round(viewers * sc.f("audience.fans_share"))
        pool_size = math.ceil(n_fans * sc.f("audience.fan_pool"))
        while len(pop.fans) < pool_size:
            acc = self.new_account()
            acc.fan = True
            pop.fans.append(acc)
        fans = rng.sample(pop.fans, n_fans) if n_fans else []
        casual = viewers - n_fans
        # viewers per source, by largest remainder so that they add up to `casual`
        shares = {s: sc.f(f"traffic.share.{s}") for s in SOURCES}
        total = sum(shares.values())
        exact = {s: casual * shares[s] / total for s in SOURCES}
        per_source = {s: int(exact[s]) for s in SOURCES}
        for s in sorted(SOURCES, key=lambda s: per_source[s] - exact[s])[
            : casual - sum(per_source.values())
        ]:
            per_source[s] += 1

        fan_sources = ("follow",) * 14 + ("feed",) * 3 + ("other",) * 2 + ("share",)
        for acc, t in zip(fans, arrivals(rng, plan.fan_profile, n_fans), strict=True):
            self.refresh(acc)
            self.viewer(acc, fan_sources[rng.randrange(len(fan_sources))], t, True)
        self.check_size()
        for source in SOURCES:
            for k, t in enumerate(arrivals(rng, plan.profiles[source], per_source[source])):
                self.viewer(self.new_account(), source, t, False)
                if k % 1024 == 0:
                    self.check_size()
        # exposure that does not convert; notified fans who did not come are part of it
        attending = {id(f) for f in fans}
        absent = [f for f in pop.fans if id(f) not in attending]
        rng.shuffle(absent)
        for source in SOURCES:
            rate = sc.f(f"traffic.entry_rate.{source}")
            came = per_source[source] + (n_fans * 14 // 20 if source == "follow" else 0)
            extra = came * (1 - rate) / rate
            n = int(extra) + (rng.random() < extra - int(extra))
            self.exposures(source, n, absent if source == "follow" else [])
        self.flash_results()

    def check_size(self, coming: int = 0) -> None:
        if len(self.keys) + coming > MAX_SESSION_EVENTS:
            raise SessionTooLarge(
                f"session {self.session} passed {MAX_SESSION_EVENTS:,} events; "
                "lower --viewers or the scenario's engagement rates"
            )

    def exposures(self, source: str, n: int, known: list[Account]) -> None:
        rng, pop, plan, end = self.rng, self.pop, self.plan, self.end
        rand = rng.random
        p_imp = self.p["impression"]
        src = SRC[source]
        repeat = self.sc.f("traffic.repeat_impression_prob")
        keys, bodies = self.keys.append, self.bodies.append
        users, devices = pop.users, pop.devices
        self.check_size(n)
        times = arrivals(rng, plan.profiles[source], n)
        strangers = n - min(n, len(known))
        uids, devs, ips = (
            users.many(strangers),
            devices.many(strangers),
            residential_ips(rng, strangers),
        )
        j = 0  # next stranger
        for t in times:
            if known:
                acc = known.pop()
                self.refresh(acc)
                body = f"{p_imp}{acc.up}{src}{acc.tail()}"
            else:
                body = f'{p_imp}"user": "{uids[j]}"{src}, "device": "{devs[j]}", "ip": "{ips[j]}"}}'
                j += 1
            keys(2 * t + 1)
            bodies(body)
            if rand() < repeat:
                again = t + 60_000 + int(rand() * 1_140_000)
                if again < end:
                    keys(2 * again + 1)
                    bodies(body)

    def stay_length(self, fan: bool) -> int:
        """Milliseconds of one stay: a log-normal mixture, heavy-tailed."""
        if fan:
            key = "fan"
        else:
            r = self.rng.random()
            key = "quick" if r < self.p_quick else "long" if r < self.p_long else "browse"
        mu, sigma = self.watch[key]
        return max(1000, int(self.lognorm(mu, sigma)))

    def viewer(self, acc: Account, source: str, t: int, fan: bool) -> None:
        """One genuine viewer's whole session: stays, talk, likes, shopping."""
        rng, plan, end = self.rng, self.plan, self.end
        rand = rng.random
        lognorm = self.lognorm
        keys, bodies = self.keys.append, self.bodies.append
        p = self.p
        up = acc.up
        tail = acc.tail()
        src = SRC[source]
        if source in ("share", "other") and rand() < 0.4:
            pass  # opened from a chat link or a bookmark: no impression in the app
        else:
            keys(2 * t + 1)
            bodies(f"{p['impression']}{up}{src}{tail}")
        a = t + int(1000 * lognorm(0.9, 0.6))
        if a >= end:
            return
        counts = self.counts
        counts["genuine_viewers"] += 1
        (commenter_share, liker_share, c_base, l_base, reenter, share_prob, follow_prob,
         greet_prob, join) = self.fan_params if fan else self.casual_params  # fmt: skip
        commenter = rand() < commenter_share
        # how chatty this viewer is: log-normal across viewers (mean 1), capped at 20x
        c_rate = c_base * min(20.0, lognorm(-0.5, 1.0)) if commenter else 0.0
        l_rate = l_base * min(20.0, lognorm(-0.5, 1.0)) if rand() < liker_share else 0.0
        batch = self.batch
        gap = self.reenter_gap
        shares = rand() < share_prob
        follows = rand() < follow_prob
        greet = commenter and rand() < greet_prob
        chorus = plan.chorus
        waits = self.waits
        greeting = plan.greeting
        pool_at = plan.pool_at
        nsec = len(pool_at)
        says = f'{p["comment"]}{up}, "text": '  # + text + tail
        taps = f'{p["like"]}{up}, "count": '  # + count + tail
        enter, leave = f"{p['enter']}{up}{src}{tail}", f"{p['leave']}{up}{tail}"
        n_comments = n_likes = 0
        stays = 0
        while True:
            stays += 1
            b = a + self.stay_length(fan)
            for at, wait_from in waits:
                # came for an announced flash sale: most wait for the countdown (蹲秒杀)
                if wait_from <= a < at and rand() < 0.7:
                    b = max(b, at + 5000 + int(rand() * 55_000))
            keys(2 * a + 1)
            bodies(enter)
            if b >= end:
                b = end
            span = b - a
            minutes = span / 60_000
            # comments
            if greet and stays == 1:
                g = a + 3000 + int(rand() * 12_000)
                if g < b:
                    keys(2 * g + 1)
                    text = greeting[int(rand() * len(greeting))]
                    bodies(f"{says}{text}{tail}")
                    n_comments += 1
            if c_rate:
                for _ in range(_poisson(rand, c_rate * minutes)):
                    tc = a + int(rand() * span)
                    pool = pool_at[min(nsec - 1, tc // 1000)]
                    keys(2 * tc + 1)
                    bodies(f"{says}{pool[int(rand() * len(pool))]}{tail}")
                    n_comments += 1
            for at, text in chorus:
                if a <= at < b and rand() < join:
                    tc = at + int(rng.expovariate(0.0004))
                    if tc < b:
                        keys(2 * tc + 1)
                        bodies(f"{says}{text}{tail}")
                        n_comments += 1
            # likes: streaks of batched taps
            if l_rate:
                for _ in range(_poisson(rand, l_rate * minutes)):
                    tl = a + int(rand() * span)
                    for _ in range(1 + int(rng.expovariate(0.5))):
                        if tl >= b:
                            break
                        n = max(1, int(batch * lognorm(-0.32, 0.8) + 0.5))
                        keys(2 * tl + 1)
                        bodies(f"{taps}{n}{tail}")
                        n_likes += n
                        tl += 800 + int(rand() * 1700)
            if shares and span > 10_000:
                shares = False
                ts = a + int(rand() * span)
                keys(2 * ts + 1)
                bodies(f"{p['share']}{up}{tail}")
            if follows and span > 30_000:
                follows = False
                tf = a + 10_000 + int(rand() * (span - 10_000))
                keys(2 * tf + 1)
                bodies(f"{p['follow']}{up}{tail}")
                if not acc.fan:
                    acc.fan = True
                    self.pop.fans.append(acc)
            self.shop(acc, up, tail, a, b, fan)
            if b >= end:
                keys(2 * (end + int(rand() * 3000)))  # the stream ends; clients drop off
                bodies(leave)
                break
            keys(2 * b)
            bodies(leave)
            if rand() >= reenter or stays >= 5:
                break
            a = b + int(lognorm(gap, 1.0))
            if a >= end - 5000:
                break
        counts["genuine_comments"] += n_comments
        counts["genuine_likes"] += n_likes

    def shop(self, acc: Account, up: str, tail: str, a: int, b: int, fan: bool) -> None:
        """Product cards seen during a stay [a, b), and what the viewer does with them."""
        rng, plan = self.rng, self.plan
        rand = rng.random
        segs = plan.segments
        if not segs:
            return
        p_pi, p_pc = self.p["product_impression"], self.p["product_click"]
        card = self.card
        ctr = self.fan_ctr if fan else self.ctr
        si = plan.seg_at[min(len(plan.seg_at) - 1, a // 1000)]
        if si < 0:
            si = 0
        while si < len(segs):
            seg = segs[si]
            si += 1
            if seg.start >= b:
                break
            if seg.end <= a:
                continue
            if seg.flash >= 0:
                self.flash_viewer(acc, up, tail, a, b, fan, seg.flash)
                continue
            tc = seg.start + int(rand() * 3000) if seg.start >= a else a + 500 + int(rand() * 7500)
            if tc >= b or tc >= seg.end or rand() >= card:
                continue
            pid = seg.product.id
            self.emit(tc, f'{p_pi}{up}, "product": "{pid}"{tail}')
            if rand() < ctr:
                tk = tc + int(1000 * self.lognorm(1.8, 0.8))
                if tk < b:
                    self.emit(tk, f'{p_pc}{up}, "product": "{pid}"{tail}')
                    self.after_click(acc, up, tail, seg.product, seg.product.price, tk)
        if b - a > 20_000 and rand() < self.bag:
            # the viewer opens the shopping bag and scrolls past a few cards
            t = a + 5000 + int(rand() * (b - a - 5000))
            shown = rng.sample(plan.products, min(len(plan.products), rng.randint(3, 6)))
            for k, product in enumerate(shown):
                self.emit(
                    t + 400 * k + int(rand() * 300), f'{p_pi}{up}, "product": "{product.id}"{tail}'
                )
            if rand() < ctr * 1.5:
                product = shown[rng.randrange(len(shown))]
                tk = t + 400 * len(shown) + int(1000 * self.lognorm(1.5, 0.7))
                self.emit(tk, f'{p_pc}{up}, "product": "{product.id}"{tail}')
                self.after_click(acc, up, tail, product, product.price, tk)

    def after_click(
        self, acc: Account, up: str, tail: str, product: Product, price: int, t: int
    ) -> None:
        sc, rng = self.sc, self.rng
        rand = rng.random
        if rand() < sc.f("products.cart_prob"):
            qty = self.qty()
            tc = t + int(1000 * self.lognorm(2.5, 0.7))
            if tc < self.end:
                self.emit(
                    tc, f'{self.p["cart_add"]}{up}, "product": "{product.id}", "qty": {qty}{tail}'
                )
        if rand() < sc.f("products.order_prob"):
            to = t + int(1000 * self.lognorm(3.6, 0.7))  # choosing size, colour, coupon
            if to < self.end - 1000:
                self.order(acc, up, tail, product, price, to, self.qty())

    def qty(self) -> int:
        sc, rng = self.sc, self.rng
        if rng.random() >= sc.f("products.multi_qty_prob"):
            return 1
        return min(sc.i("products.max_qty"), 2 + int(rng.expovariate(1.2)))

    def address(self, acc: Account) -> str:
        if acc.addr is None:
            acc.addr = self.pop.addrs.next()
        return acc.addr

    def order(
        self, acc: Account, up: str, tail: str, product: Product, price: int, t: int, qty: int,
        *, pay_prob: float | None = None, pay_median_s: float = 25.0,
    ) -> None:  # fmt: skip
        """A genuine order: created, usually paid, sometimes refunded (some after the end)."""
        sc, rng, p = self.sc, self.rng, self.p
        rand = rng.random
        oid = self.pop.orders.next()
        amount = price * qty
        line = (
            f'{up}, "product": "{product.id}", "order": "{oid}", "qty": {qty}, "amount": {amount}'
        )
        meta = f'{tail[:-1]}, "meta": {{"addr": "{self.address(acc)}"}}}}'
        self.emit(t, f"{p['order_created']}{line}{meta}")
        if rand() >= (sc.f("products.pay_prob") if pay_prob is None else pay_prob):
            return
        tp = t + int(1000 * self.lognorm(_LN(pay_median_s), 0.6))
        self.emit(tp, f"{p['order_paid']}{line}{tail}")
        self.counts["genuine_paid_orders"] += 1
        if rand() >= min(1.0, product.refund * sc.f("products.refund_factor")):
            return
        if rand() < sc.f("products.late_refund_share"):
            days = sc.f("products.refund_days")
            tr = self.end + 3_600_000 + int(rand() * max(1.0, days * 86_400_000 - 3_600_000))
        else:
            tr = tp + int(1000 * self.lognorm(_LN(600), 1.0))
        refund = amount
        if qty > 1 and rand() < 0.4:
            refund = price * rng.randint(1, qty - 1)
        self.emit(tr, f'{p["order_refunded"]}{up}, "order": "{oid}", "amount": {refund}{tail}')

    # --- flash sales ---------------------------------------------------------------

    def flash_viewer(
        self, acc: Account, up: str, tail: str, a: int, b: int, fan: bool, fi: int
    ) -> None:
        sc, rng = self.sc, self.rng
        rand = rng.random
        fl = self.plan.flashes[fi]
        seg = self.plan.segments[fl.segment]
        pid = fl.product.id
        p_pi = self.p["product_impression"]
        if a <= fl.at < b:
            # in the room when the link goes up: the card pops up for everyone
            tc = fl.at + int(rand() * 1500)
            click = sc.f("flash_sales.click_prob") * (1.4 if fan else 1.0)
        elif fl.at <= a < seg.end:
            tc = a + 500 + int(rand() * 2500)
            click = sc.f("flash_sales.click_prob") * 0.4
            if rand() >= sc.f("products.card_prob"):
                return
        elif a < fl.at and b > seg.start:
            tc = max(a, seg.start) + int(rand() * 3000)  # the card before the countdown
            if tc >= b or rand() >= sc.f("products.card_prob"):
                return
            self.emit(tc, f'{p_pi}{up}, "product": "{pid}"{tail}')
            return
        else:
            return
        if tc >= b:
            return
        self.emit(tc, f'{p_pi}{up}, "product": "{pid}"{tail}')
        if rand() >= min(0.95, click):
            return
        tk = tc + int(rng.expovariate(1 / (sc.f("flash_sales.stampede_seconds") * 1000)))
        if tk >= self.end:
            return
        self.emit(tk, f'{self.p["product_click"]}{up}, "product": "{pid}"{tail}')
        self.counts["flash_clicks"] += 1
        if rand() < sc.f("flash_sales.order_prob"):
            to = tk + int(1000 * self.lognorm(_LN(3.5), 0.5))  # checkout is one tap
            if to < self.end - 1000:
                self.attempts.append((to, fi, acc, fan))

    def flash_results(self) -> None:
        """Stock goes to the earliest orders; the rest are told it is sold out."""
        rng = self.rng
        stock = [fl.stock for fl in self.plan.flashes]
        missed = [encode(x) for x in corpus().missed]
        self.attempts.sort(key=lambda x: x[0])
        for to, fi, acc, _fan in self.attempts:
            fl = self.plan.flashes[fi]
            tail = acc.tail()
            if stock[fi] > 0:
                stock[fi] -= 1
                self.order(acc, acc.up, tail, fl.product, fl.price, to, 1,
                           pay_prob=0.95, pay_median_s=6.0)  # fmt: skip
                self.counts["flash_orders"] += 1
            elif rng.random() < 0.3:
                tc = to + 2000 + rng.randrange(8000)
                if tc >= self.end:  # the stream is over: nowhere to complain
                    continue
                text = missed[rng.randrange(len(missed))]
                self.emit(tc, f'{self.p["comment"]}{acc.up}, "text": {text}{tail}')
                self.counts["genuine_comments"] += 1
        self.attempts.clear()

    # --- fake activity -------------------------------------------------------------

    def fakes(self) -> None:
        sc = self.sc
        if sc.fake_enabled("comment_farm"):
            self.comment_farm()
        if sc.fake_enabled("brushing"):
            self.brushing()
        if sc.fake_enabled("like_farm"):
            self.like_crew_enters()  # they are viewers too: in the room before bots are sized
        if sc.fake_enabled("bot_viewer"):
            self.bot_viewers()
        if sc.fake_enabled("like_farm"):
            self.like_farm()

    def _target(self, kind: str, others: int) -> int:
        share = self.sc.f(f"fake.{kind}.share")
        return round(share / (1 - share) * others)

    def _label(self, kind: str, acc: Account) -> None:
        self.labels.append((kind, "user", acc.uid))
        self.counts[kind] += 1

    def _pick(self, pool: list[Account], n: int, reuse: float) -> list[Account]:
        """``n`` accounts, some (``reuse``) from earlier sessions' pool, the rest new."""
        rng = self.rng
        old = rng.sample(pool, min(len(pool), round(n * reuse)))
        new = [self.new_account(genuine=False) for _ in range(n - len(old))]
        pool.extend(new)
        return old + new

    def _fake_stay(
        self, acc: Account, a: int, b: int, source: str, impression: bool
    ) -> tuple[int, int]:
        """Enter at ``a`` (an impression first when asked), leave at ``b`` (cut at the end)."""
        p, up, tail = self.p, acc.up, acc.tail()
        if impression:
            self.emit(
                max(0, a - 1000 - self.rng.randrange(4000)),
                f"{p['impression']}{up}{SRC[source]}{tail}",
            )
        self.emit(a, f"{p['enter']}{up}{SRC[source]}{tail}")
        if b >= self.end:
            b = self.end
            self.keys.append(2 * (self.end + self.rng.randrange(3000)))
        else:
            self.keys.append(2 * b)
        self.bodies.append(f"{p['leave']}{up}{tail}")
        return a, b

    def _camouflage(self, kind: str) -> float:
        return self.sc.f(f"fake.{kind}.camouflage")

    def _devices_ips(self, accounts: list[Account], c: float, hosting: bool, pool: int) -> None:
        """Blatant fakes share a few phones and one or two address ranges; careful ones not."""
        rng, pop = self.rng, self.pop
        devices = [pop.fake_devices.next() for _ in range(max(1, pool))]
        nets = [subnet(rng, hosting) for _ in range(2)]
        for acc in accounts:
            if rng.random() >= c:
                acc.device = devices[rng.randrange(len(devices))]
            acc.ip = (
                in_subnet(rng, nets[rng.randrange(2)]) if rng.random() >= c else residential_ip(rng)
            )

    def bot_viewers(self) -> None:
        """Bought audience: waves entering together, shared phones and ranges, silent."""
        sc, rng, plan, end = self.sc, self.rng, self.plan, self.end
        c = self._camouflage("bot_viewer")
        others = self.counts["genuine_viewers"] + self.counts["other_viewers"]
        n = self._target("bot_viewer", others)
        if n <= 0:
            return
        bots = self._pick(self.pop.bots, n, 0.5)
        self._devices_ips(bots, c, True, max(1, n // 25))
        wave_size = sc.i("fake.bot_viewer.wave_size")
        package = sc.f("fake.bot_viewer.stay_minutes") * 60_000
        in_wave: list[Account] = []
        spread_out: list[Account] = []
        for acc in bots:
            (in_wave if rng.random() >= c else spread_out).append(acc)
        spread = 2000 + int(120_000 * c)
        for k in range(0, len(in_wave), wave_size):
            wave = in_wave[k : k + wave_size]
            at = rng.randrange(0, 120_000) if k == 0 else rng.randrange(0, int(end * 0.8))
            leave = at + spread + int(package * (1 + 0.04 * (rng.random() - 0.5)))
            for acc in wave:
                a = at + rng.randrange(spread)
                b = leave + rng.randrange(1 + int(package * 0.5 * c))
                self._bot(acc, a, b, c, "other" if rng.random() >= c else "feed")
        times = arrivals(rng, plan.profiles["feed"], len(spread_out))
        for acc, a in zip(spread_out, times, strict=True):
            self._bot(acc, a, a + self.stay_length(False), c, "feed")

    def _bot(self, acc: Account, a: int, b: int, c: float, source: str) -> None:
        rng = self.rng
        a = min(a, self.end - 1000)
        self._fake_stay(acc, a, b, source, rng.random() < c)
        self._label("bot_viewer", acc)
        b = min(b, self.end)
        if rng.random() < 0.4 * c and b - a > 5000:  # careful bots tap like a little
            tail = acc.tail()
            for _ in range(rng.randint(1, 3)):
                t = a + rng.randrange(b - a)
                n = rng.randint(1, 5)
                self.emit(t, f'{self.p["like"]}{acc.up}, "count": {n}{tail}')
                self.counts["other_likes"] += n

    def _crew_stays(self, accounts: list[Account], c: float) -> list[tuple[int, int]]:
        """Farm accounts: blatant ones all enter at the start and stay to the end."""
        rng, end = self.rng, self.end
        stays = []
        for acc in accounts:
            a = int((1 - c) * rng.randrange(60_000) + c * rng.randrange(max(1, int(end * 0.3))))
            b = end + 1 if rng.random() >= c else end - rng.randrange(max(1, int(end * 0.2)))
            source = "other" if rng.random() >= c else "feed"
            stays.append(self._fake_stay(acc, a, max(a + 60_000, b), source, rng.random() < c))
        return stays

    def comment_farm(self) -> None:
        """Scripted praise: verbatim lines (blatant) or template variations (careful)."""
        sc, rng, plan = self.sc, self.rng, self.plan
        c = self._camouflage("comment_farm")
        n = self._target("comment_farm", self.counts["genuine_comments"])
        if n <= 0:
            return
        texts = corpus()
        accounts = self._pick(self.pop.farmers, min(n, sc.i("fake.comment_farm.accounts")), 0.7)
        self._devices_ips(accounts, c, False, 2)
        stays = self._crew_stays(accounts, c)
        for acc in accounts:
            self._label("comment_farm", acc)
        self.counts["other_viewers"] += len(accounts)
        scripted = [encode(x) for x in texts.farm_scripted]
        p_comment = self.p["comment"]
        for k, (acc, (a, b)) in enumerate(zip(accounts, stays, strict=True)):
            share = n // len(accounts) + (k < n % len(accounts))
            if share <= 0:
                continue
            tail = acc.tail()
            step = (b - a) / share
            for j in range(share):
                if rng.random() >= c:  # on a timer
                    t = a + int(step * j + step / 2) + rng.randrange(-1500, 1501)
                else:
                    t = a + rng.randrange(max(1, b - a))
                t = min(max(t, a), b - 1)
                if rng.random() >= c:
                    text = scripted[rng.randrange(len(scripted))]
                else:
                    si = plan.seg_at[min(len(plan.seg_at) - 1, t // 1000)]
                    product = plan.segments[si].product if si >= 0 else None
                    raw = (texts.farm_opener[rng.randrange(len(texts.farm_opener))]
                           + texts.farm_body[rng.randrange(len(texts.farm_body))]
                           + texts.farm_closer[rng.randrange(len(texts.farm_closer))])  # fmt: skip
                    text = encode(render(raw, product, 0))
                self.emit(t, f'{p_comment}{acc.up}, "text": {text}{tail}')
            if rng.random() < c:  # careful farm accounts also tap like now and then
                for _ in range(rng.randint(1, 4)):
                    likes = rng.randint(1, 10)
                    self.emit(
                        a + rng.randrange(max(1, b - a)),
                        f'{self.p["like"]}{acc.up}, "count": {likes}{tail}',
                    )
                    self.counts["other_likes"] += likes

    def like_crew_enters(self) -> None:
        c = self._camouflage("like_farm")
        accounts = self._pick(self.pop.likers, self.sc.i("fake.like_farm.accounts"), 0.7)
        self._devices_ips(accounts, c, True, 1)
        stays = self._crew_stays(accounts, c)
        for acc in accounts:
            self._label("like_farm", acc)
        self.counts["other_viewers"] += len(accounts)
        self.like_crew = list(zip(accounts, stays, strict=True))

    def like_farm(self) -> None:
        """Scripted likes: a fixed beat of equal batches (blatant) or streaks (careful)."""
        rng = self.rng
        c = self._camouflage("like_farm")
        n = self._target("like_farm", self.counts["genuine_likes"] + self.counts["other_likes"])
        crew = self.like_crew
        if n <= 0 or not crew:
            return
        p_like = self.p["like"]
        for k, (acc, (a, b)) in enumerate(crew):
            left = n // len(crew) + (k < n % len(crew))
            tail = acc.tail()
            beat = 40  # taps per batch when blatant
            events = max(1, -(-left // beat))
            step = (b - a) / events
            j = 0
            while left > 0:
                if rng.random() >= c:
                    t = a + int(step * j) + rng.randrange(0, 200)
                    count = beat
                else:
                    t = a + rng.randrange(max(1, b - a))
                    count = rng.randint(3, 60)
                count = min(count, left)
                self.emit(min(max(t, a), b - 1), f'{p_like}{acc.up}, "count": {count}{tail}')
                left -= count
                j += 1

    def brushing(self) -> None:
        """Rings of colluding accounts ordering the same product fast, refunded afterwards."""
        sc, rng, plan, end = self.sc, self.rng, self.plan, self.end
        c = self._camouflage("brushing")
        n = self._target("brushing", self.counts["genuine_paid_orders"])
        if n <= 0 or not plan.products:
            return
        ring_size = sc.i("fake.brushing.ring_size")
        per_account = 1 if c >= 0.75 else (3 if c < 0.25 else 2)
        made = ring_no = 0
        earlier = len(self.pop.rings)  # rings of earlier sessions; this one's are new
        while made < n:
            size = min(ring_size, -(-(n - made) // per_account))
            if ring_no < earlier and rng.random() < 0.6:  # the ring comes back
                ring = self.pop.rings[ring_no][:size]
                ring += [self.new_account(genuine=False) for _ in range(size - len(ring))]
            else:
                ring = [self.new_account(genuine=False) for _ in range(size)]
                self.pop.rings.append(ring)
            ring_no += 1
            self._devices_ips(ring, c, False, 2)
            drops = [self.pop.fake_addrs.next() for _ in range(1 if c < 0.5 else max(1, size // 3))]
            for acc in ring:
                shared = rng.random() >= c * 0.5
                acc.addr = (
                    drops[rng.randrange(len(drops))] if shared else self.pop.fake_addrs.next()
                )
            # blatant rings push the dearest product (GMV), careful ones any product
            if rng.random() >= c:
                target = max(plan.products, key=lambda x: (x.price, x.id))
            else:
                target = plan.products[rng.randrange(len(plan.products))]
            qty = rng.randint(1, 3)
            window = rng.randrange(0, max(1, end - 600_000))
            for acc in ring:
                if made >= n:
                    break
                self._label("brushing", acc)
                self.counts["other_viewers"] += 1
                blatant = rng.random() >= c
                if blatant:
                    a = window + rng.randrange(180_000)  # the ring acts together
                    source = "search"
                else:
                    a = rng.randrange(0, max(1, end - 600_000))
                    source = SOURCES[rng.randrange(len(SOURCES))]
                t = a + 2000 + rng.randrange(5000)
                for _ in range(min(per_account, n - made)):
                    t = self._brush_order(acc, target, qty, t, blatant)
                    made += 1
                stay = 10_000 + rng.randrange(50_000) if blatant else self.stay_length(False)
                leave = t + stay
                self._fake_stay(acc, a, leave, source, not blatant)

    def _brush_order(self, acc: Account, target: Product, qty: int, t: int, fast: bool) -> int:
        """Card, click, order, payment and maybe a refund; returns when the account is done."""
        rng, p, up, tail = self.rng, self.p, acc.up, acc.tail()

        def wait(fast_ms: int, median_s: float, cap_s: float) -> int:
            if fast:
                return fast_ms + rng.randrange(fast_ms * 2)
            return min(int(cap_s * 1000), int(1000 * self.lognorm(_LN(median_s), 0.6)))

        pid = target.id
        self.emit(t, f'{p["product_impression"]}{up}, "product": "{pid}"{tail}')
        t += wait(1000, 6, 60)
        self.emit(t, f'{p["product_click"]}{up}, "product": "{pid}"{tail}')
        t += wait(1000, 36, 120)  # blatant: one to three seconds from click to order
        q = qty if fast else self.qty()
        oid = self.pop.fake_orders.next()
        amount = target.price * q
        line = f'{up}, "product": "{pid}", "order": "{oid}", "qty": {q}, "amount": {amount}'
        meta = f'{tail[:-1]}, "meta": {{"addr": "{acc.addr}"}}}}'
        self.emit(t, f"{p['order_created']}{line}{meta}")
        self.labels.append(("brushing", "order", oid))
        self.counts["brushing_orders"] += 1
        t += wait(2000, 20, 120)
        self.emit(t, f"{p['order_paid']}{line}{tail}")
        if rng.random() < self.sc.f("fake.brushing.refund_prob"):
            if fast:  # refunded as soon as the session is over
                tr = self.end + 600_000 + rng.randrange(3 * 3_600_000)
            else:
                tr = self.end + 6 * 3_600_000 + rng.randrange(5 * 86_400_000)
            refund = f'{p["order_refunded"]}{up}, "order": "{oid}", "amount": {amount}{tail}'
            self.emit(tr, refund)
        return t + 3000 + rng.randrange(20_000)


def _poisson(draw: Callable[[], float], lam: float) -> int:
    """A Poisson draw from ``random.random`` (products of uniforms; normal when large)."""
    if lam <= 0:
        return 0
    if lam > 30:  # rare: very long, very chatty stays
        u1, u2 = draw(), draw()
        z = math.sqrt(-2 * math.log(max(u1, 1e-300))) * math.cos(2 * math.pi * u2)
        return max(0, round(lam + z * math.sqrt(lam)))
    limit = math.exp(-lam)
    k = 0
    p = draw()
    while p > limit:
        k += 1
        p *= draw()
    return k
