"""The scenario: every parameter of the simulated live room, with defaults and ranges.

A scenario file is TOML whose tables mirror the dotted keys of :data:`PARAMS`, e.g.::

    [audience]
    fans_share = 0.2

    [fake.bot_viewer]
    share = 0.3
    camouflage = "careful"

Anything left out keeps its default, so an empty file is the default scenario. Every
value is checked against its type and range, and the first problem is raised as a
:class:`ScenarioError` whose one-line text names the key and the allowed range; an
unknown key is an error too (a typo must not silently fall back to the default).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

SOURCES: Final = ("feed", "follow", "search", "share", "ads", "other")
FAKE_KINDS: Final = ("bot_viewer", "comment_farm", "like_farm", "brushing")
CAMOUFLAGE_LEVELS: Final = {"blatant": 0.0, "moderate": 0.5, "careful": 1.0}


class ScenarioError(ValueError):
    """An invalid scenario; ``str(exc)`` is one line naming the key and its allowed range."""


@dataclass(frozen=True, slots=True)
class Param:
    key: str
    default: Any
    kind: str  # "float" | "int" | "bool" | "camouflage" | "time" | "name"
    lo: float | None
    hi: float | None
    help: str

    def allowed(self) -> str:
        """The allowed values, as the error messages and the docs say them."""
        if self.kind == "float":
            return f"a number in [{_num(self.lo)}, {_num(self.hi)}]"
        if self.kind == "int":
            return f"an integer in [{_num(self.lo)}, {_num(self.hi)}]"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "camouflage":
            return "a number in [0, 1] or one of blatant, moderate, careful"
        if self.kind == "time":
            return "an RFC 3339 UTC time such as 2026-11-20T12:00:00Z"
        return "1 to 32 of the characters A-Z a-z 0-9 _ -"


def _num(value: float | None) -> str:
    if value is None:  # pragma: no cover - numeric params always have bounds
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)


def _f(key: str, default: float, lo: float, hi: float, help: str) -> Param:
    return Param(key, float(default), "float", lo, hi, help)


def _i(key: str, default: int, lo: int, hi: int, help: str) -> Param:
    return Param(key, default, "int", lo, hi, help)


_SOURCE_SHARE: Final = {
    "feed": 0.5, "follow": 0.12, "search": 0.08, "share": 0.08, "ads": 0.07, "other": 0.15,
}  # fmt: skip
_ENTRY_RATE: Final = {
    "feed": 0.15, "follow": 0.6, "search": 0.45, "share": 0.55, "ads": 0.08, "other": 0.35,
}  # fmt: skip
_FAKE_DEFAULTS: Final = {
    "bot_viewer": 0.15,
    "comment_farm": 0.06,
    "like_farm": 0.2,
    "brushing": 0.05,
}
_FAKE_SHARE_OF: Final = {
    "bot_viewer": "viewers (viewer_uv)",
    "comment_farm": "comments (comment_count)",
    "like_farm": "likes (like_count)",
    "brushing": "paid orders (order_count)",
}


def _params() -> tuple[Param, ...]:
    p: list[Param] = [
        Param("sessions.start", "2026-11-20T12:00:00Z", "time", None, None,
              "start of the first session (20:00 Beijing time by default)"),
        _f("sessions.every_hours", 24, 0, 720, "hours between the starts of two sessions"),
        _f("sessions.duration_minutes", 120, 10, 720, "mean length of a session"),
        _f("sessions.duration_jitter", 0.1, 0, 0.5, "relative spread of session lengths"),
        Param("sessions.id_prefix", "live", "name", None, None,
              "session ids are PREFIX-SEED-N"),
    ]  # fmt: skip
    for source in SOURCES:
        p.append(_f(f"traffic.share.{source}", _SOURCE_SHARE[source], 0, 1,
                    f"weight of {source} among casual (non-fan) viewers' sources"))  # fmt: skip
    for source in SOURCES:
        p.append(_f(f"traffic.entry_rate.{source}", _ENTRY_RATE[source], 0.01, 1,
                    f"share of users shown the room via {source} who enter it"))  # fmt: skip
    p += [
        _f("traffic.ramp_minutes", 5, 0, 120, "the feed sends few viewers until the room warms up"),
        _f("traffic.opening_boost", 6, 0, 100,
           "follower notifications at the start: peak arrival rate over the steady rate"),
        _f("traffic.opening_minutes", 6, 0.5, 120, "decay time of the opening notifications"),
        _f("traffic.waves_per_hour", 1.5, 0, 30, "feed recommendation waves (流量推送) per hour"),
        _f("traffic.wave_strength", 3, 0, 50, "peak of a wave over the steady feed rate"),
        _f("traffic.wave_minutes", 4, 0.5, 60, "decay time of a wave"),
        _f("traffic.flash_pull", 4, 0, 50, "extra arrivals drawn by a flash sale, at its peak"),
        _f("traffic.ending_decline", 0.5, 0, 1, "how far the arrival rate falls by the end"),
        _f("traffic.repeat_impression_prob", 0.2, 0, 1,
           "users who do not enter and are shown the room once more"),
        _f("audience.fans_share", 0.08, 0, 1, "share of genuine viewers who are loyal fans"),
        _f("audience.fan_pool", 1.6, 1, 100,
           "fan pool size as a multiple of the fans per session (fans come back)"),
        _f("audience.quick_share", 0.45, 0, 1, "casual stays that swipe away within seconds"),
        _f("audience.quick_median_seconds", 6, 1, 3600, "median of a quick stay"),
        _f("audience.quick_sigma", 0.8, 0.05, 3, "log-normal sigma of a quick stay"),
        _f("audience.browse_median_seconds", 45, 1, 36000, "median of a browsing stay"),
        _f("audience.browse_sigma", 1.1, 0.05, 3, "log-normal sigma of a browsing stay"),
        _f("audience.long_share", 0.08, 0, 1, "casual stays that last long"),
        _f("audience.long_median_seconds", 480, 1, 36000, "median of a long stay"),
        _f("audience.long_sigma", 0.8, 0.05, 3, "log-normal sigma of a long stay"),
        _f("audience.fan_median_seconds", 900, 1, 36000, "median stay of a fan"),
        _f("audience.fan_sigma", 0.9, 0.05, 3, "log-normal sigma of a fan's stay"),
        _f("audience.reenter_prob", 0.15, 0, 0.95, "a casual viewer comes back after leaving"),
        _f("audience.fan_reenter_prob", 0.45, 0, 0.95, "a fan comes back after leaving"),
        _f("audience.reenter_gap_median_seconds", 150, 1, 7200, "median time away"),
        _f("engagement.commenter_share", 0.12, 0, 1, "casual viewers who comment at all"),
        _f("engagement.fan_commenter_share", 0.65, 0, 1, "fans who comment at all"),
        _f("engagement.comments_per_minute", 0.25, 0, 10,
           "mean comment rate of a commenter in the room (heavy-tailed across users)"),
        _f("engagement.liker_share", 0.3, 0, 1, "casual viewers who like at all"),
        _f("engagement.fan_liker_share", 0.8, 0, 1, "fans who like at all"),
        _f("engagement.like_streaks_per_minute", 0.3, 0, 10, "tapping streaks of a liker"),
        _f("engagement.likes_per_batch", 8, 1, 100, "mean taps batched in one like event"),
        _f("engagement.share_prob", 0.012, 0, 1, "casual viewers who share the room"),
        _f("engagement.fan_share_prob", 0.06, 0, 1, "fans who share the room"),
        _f("engagement.follow_prob", 0.03, 0, 1,
           "casual viewers staying 30 s or more who follow (they join the fan pool)"),
        _f("engagement.chorus_per_hour", 4, 0, 120,
           "moments when the room types the same text (刷屏 of 666, 来了, 扣1)"),
        _f("engagement.chorus_join", 0.2, 0, 1, "viewers in the room who join a chorus (fans x2)"),
        _i("products.count", 10, 1, 200, "products featured in a session"),
        _f("products.warmup_minutes", 3, 0, 120, "talk before the first product is pinned"),
        _f("products.segment_minutes", 9, 1, 240, "mean time a product stays pinned (讲解)"),
        _f("products.card_prob", 0.6, 0, 1, "viewers in the room who see a pinned card"),
        _f("products.bag_prob", 0.08, 0, 1, "stays in which the viewer opens the shopping bag"),
        _f("products.ctr", 0.06, 0, 1, "product card click rate of a casual viewer"),
        _f("products.fan_ctr_factor", 2.5, 0, 20, "fans click this many times more often"),
        _f("products.cart_prob", 0.3, 0, 1, "clickers who add to the cart"),
        _f("products.order_prob", 0.18, 0, 1, "clickers who place an order"),
        _f("products.pay_prob", 0.88, 0, 1, "orders that are paid"),
        _f("products.multi_qty_prob", 0.15, 0, 1, "orders of more than one unit"),
        _i("products.max_qty", 5, 1, 99, "most units in one order"),
        _f("products.refund_factor", 1, 0, 10, "multiplies the catalogue's refund rates"),
        _f("products.late_refund_share", 0.8, 0, 1, "refunds that come after the session"),
        _f("products.refund_days", 7, 0.1, 90, "latest refund, in days after the session"),
        _i("flash_sales.count", 2, 0, 50, "flash sales (秒杀) per session"),
        _i("flash_sales.stock", 50, 1, 1_000_000, "units on sale in one flash sale"),
        _f("flash_sales.discount", 0.4, 0.01, 1, "flash price as a share of the list price"),
        _f("flash_sales.click_prob", 0.4, 0, 1, "viewers in the room who click the flash card"),
        _f("flash_sales.order_prob", 0.6, 0, 1, "flash clickers who try to order"),
        _f("flash_sales.stampede_seconds", 3, 0.5, 600, "mean delay of a flash click"),
        _f("flash_sales.announce_minutes", 3, 0, 60,
           "the host announces the flash sale this long before it"),
        _f("places.household_share", 0.3, 0, 1,
           "genuine users in households sharing one address and IP"),
        _i("places.household_max", 5, 2, 20, "largest household"),
        _f("places.shared_device_prob", 0.15, 0, 1, "household members sharing one phone"),
        _f("places.campus_share", 0.05, 0, 1,
           "genuine users on a campus behind a few exits and one parcel point"),
        _i("places.campus_size", 200, 2, 100_000, "users per campus"),
        _i("places.campus_exits", 4, 1, 1000, "public addresses of a campus"),
    ]  # fmt: skip
    for kind in FAKE_KINDS:
        p += [
            Param(f"fake.{kind}.enabled", True, "bool", None, None, f"{kind} is simulated"),
            _f(f"fake.{kind}.share", _FAKE_DEFAULTS[kind], 0, 0.95,
               f"share of the session's {_FAKE_SHARE_OF[kind]} that is {kind}"),
            Param(f"fake.{kind}.camouflage", 0.5, "camouflage", 0, 1,
                  "0 = blatant, 1 = careful"),
        ]  # fmt: skip
    p += [
        _i("fake.bot_viewer.wave_size", 150, 1, 100_000, "blatant bots entering together"),
        _f("fake.bot_viewer.stay_minutes", 10, 0.5, 720, "a bought package's stay (blatant)"),
        _i("fake.comment_farm.accounts", 10, 1, 10_000, "accounts of a comment farm"),
        _i("fake.like_farm.accounts", 6, 1, 10_000, "accounts of a like farm"),
        _i("fake.brushing.ring_size", 8, 1, 10_000, "colluding accounts in a brushing ring"),
        _f("fake.brushing.refund_prob", 0.85, 0, 1, "brushed orders refunded after the session"),
    ]
    return tuple(p)


PARAMS: Final = _params()
BY_KEY: Final = {p.key: p for p in PARAMS}
_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,32}")
_TIME: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?Z")


class Scenario:
    """Validated parameter values by dotted key; ``sc.f(key)`` etc. read them typed."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        merged = {p.key: p.default for p in PARAMS}
        for key, value in (values or {}).items():
            param = BY_KEY.get(key)
            if param is None:
                raise ScenarioError(_unknown(key))
            merged[key] = _check(param, value)
        _check_together(merged)
        self._values = merged

    def f(self, key: str) -> float:
        return float(self._values[key])

    def i(self, key: str) -> int:
        return int(self._values[key])

    def b(self, key: str) -> bool:
        return bool(self._values[key])

    def s(self, key: str) -> str:
        return str(self._values[key])

    def start_ms(self) -> int:
        """``sessions.start`` in milliseconds since the epoch."""
        text = self.s("sessions.start")
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return round(moment.timestamp() * 1000)

    def values(self) -> dict[str, Any]:
        return dict(self._values)

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some values changed; keys use ``__`` for dots (``fake__x``)."""
        values = self.values()
        values.update({k.replace("__", "."): v for k, v in changes.items()})
        return Scenario(values)

    def clean(self) -> Scenario:
        """The same scenario without any fake activity."""
        values = self.values()
        for kind in FAKE_KINDS:
            values[f"fake.{kind}.enabled"] = False
        return Scenario(values)

    def fake_enabled(self, kind: str) -> bool:
        return self.b(f"fake.{kind}.enabled") and self.f(f"fake.{kind}.share") > 0


def _unknown(key: str) -> str:
    section = key.rsplit(".", 1)[0] if "." in key else ""
    siblings = sorted(
        {k[len(section) + 1 :].split(".")[0] for k in BY_KEY if k.startswith(section + ".")}
    )
    if siblings:
        return f"unknown scenario key {key} (known under {section}: {', '.join(siblings)})"
    tops = sorted({k.split(".")[0] for k in BY_KEY})
    return f"unknown scenario key {key} (known sections: {', '.join(tops)})"


def _check(param: Param, value: Any) -> Any:
    bad = ScenarioError(f"scenario key {param.key} must be {param.allowed()}, got {_show(value)}")
    kind = param.kind
    if kind == "bool":
        if type(value) is not bool:
            raise bad
        return value
    if kind == "camouflage" and isinstance(value, str):
        if value not in CAMOUFLAGE_LEVELS:
            raise bad
        return CAMOUFLAGE_LEVELS[value]
    if kind in ("float", "camouflage"):
        if type(value) not in (int, float) or not math.isfinite(value):
            raise bad
        assert param.lo is not None and param.hi is not None
        if not param.lo <= value <= param.hi:
            raise bad
        return float(value)
    if kind == "int":
        if type(value) is not int:
            raise bad
        assert param.lo is not None and param.hi is not None
        if not param.lo <= value <= param.hi:
            raise bad
        return value
    if kind == "time":
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        if type(value) is not str or _TIME.fullmatch(value) is None:
            raise bad
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise bad from None
        return value
    if type(value) is not str or _NAME.fullmatch(value) is None:
        raise bad
    return value


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    text = repr(value) if not isinstance(value, bool) else str(value).lower()
    return text if len(text) <= 40 else text[:37] + "..."


def _check_together(values: Mapping[str, Any]) -> None:
    if sum(values[f"traffic.share.{s}"] for s in SOURCES) <= 0:
        raise ScenarioError(
            "scenario keys traffic.share.* must not all be 0: viewers need a source"
        )
    quick, long = values["audience.quick_share"], values["audience.long_share"]
    if quick + long > 1:
        raise ScenarioError(
            "scenario keys audience.quick_share + audience.long_share must be in [0, 1], "
            f"got {quick} + {long}"
        )


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            if dotted in BY_KEY:  # a value that should be a number, given as a table
                yield dotted, value
            else:
                yield from _flatten(value, dotted + ".")
        else:
            if dotted not in BY_KEY and any(k.startswith(dotted + ".") for k in BY_KEY):
                raise ScenarioError(f"scenario key {dotted} must be a table, got {_show(value)}")
            yield dotted, value


def parse_scenario(text: str, origin: str = "scenario") -> Scenario:
    """A scenario from TOML text; :class:`ScenarioError` (one line) when it is invalid."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{origin} is not valid TOML: {exc}") from None
    return Scenario(dict(_flatten(table)))


def load_scenario(path: str | Path | None) -> Scenario:
    """The scenario of a TOML file, or the defaults when ``path`` is None."""
    if path is None:
        return Scenario()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScenarioError(f"cannot read scenario file {path}: {reason}") from None
    return parse_scenario(text, f"scenario file {path}")


def markdown_table() -> str:
    """The scenario keys as a Markdown table (docs/simulator.md embeds it)."""
    rows = ["| key | default | allowed | meaning |", "|---|---|---|---|"]
    for p in PARAMS:
        default = p.default
        if p.kind == "camouflage":
            shown = "moderate (0.5)"
        elif p.kind == "bool":
            shown = str(default).lower()
        elif p.kind in ("time", "name"):
            shown = f'"{default}"'
        else:
            shown = _num(default)
        rows.append(f"| `{p.key}` | {shown} | {p.allowed()} | {p.help} |")
    return "\n".join(rows)
