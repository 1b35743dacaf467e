"""Scenario files: defaults, validation with one-line errors naming the key and its range."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daihuo.simulator.scenario import (
    BY_KEY,
    CAMOUFLAGE_LEVELS,
    PARAMS,
    Param,
    Scenario,
    ScenarioError,
    load_scenario,
    markdown_table,
    parse_scenario,
)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "simulator.md"
NUMERIC = [p for p in PARAMS if p.kind in ("float", "int")]
PARTNERS = {
    "audience.quick_share": "audience.long_share",
    "audience.long_share": "audience.quick_share",
}


def toml_for(key: str, value: str) -> str:
    section, name = key.rsplit(".", 1)
    return f"[{section}]\n{name} = {value}\n"


def test_an_empty_file_is_the_default_scenario() -> None:
    assert parse_scenario("").values() == Scenario().values()
    assert load_scenario(None).values() == Scenario().values()


def test_every_default_lies_in_its_own_range() -> None:
    for p in NUMERIC:
        assert p.lo is not None and p.hi is not None
        assert p.lo <= p.default <= p.hi, p.key
    assert len(BY_KEY) == len(PARAMS)


def test_a_file_sets_nested_keys_and_keeps_the_other_defaults(tmp_path: Path) -> None:
    path = tmp_path / "room.toml"
    path.write_text(
        '[audience]\nfans_share = 0.3\n[fake.bot_viewer]\nshare = 0.4\ncamouflage = "careful"\n'
        "[traffic.share]\nads = 0.5\n",
        encoding="utf-8",
    )
    sc = load_scenario(path)
    assert sc.f("audience.fans_share") == 0.3
    assert sc.f("fake.bot_viewer.share") == 0.4
    assert sc.f("fake.bot_viewer.camouflage") == 1.0
    assert sc.f("traffic.share.ads") == 0.5
    assert sc.f("traffic.share.feed") == BY_KEY["traffic.share.feed"].default


@pytest.mark.parametrize("param", NUMERIC, ids=lambda p: p.key)
def test_a_value_above_the_range_is_refused_naming_key_and_range(param: Param) -> None:
    assert param.hi is not None
    too_big = param.hi + 1
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(toml_for(param.key, str(too_big)))
    message = str(caught.value)
    assert param.key in message
    assert f"[{_num(param.lo)}, {_num(param.hi)}]" in message
    assert "\n" not in message


@pytest.mark.parametrize("param", NUMERIC, ids=lambda p: p.key)
def test_a_value_below_the_range_is_refused(param: Param) -> None:
    assert param.lo is not None
    with pytest.raises(ScenarioError, match=param.key.replace(".", r"\.")):
        parse_scenario(toml_for(param.key, str(param.lo - 1)))


def _num(value: float | None) -> str:
    assert value is not None
    return str(int(value)) if float(value).is_integer() else str(value)


@given(st.sampled_from(NUMERIC), st.floats(allow_nan=False, allow_infinity=False))
def test_any_number_is_accepted_exactly_when_it_is_in_range(param: Param, value: float) -> None:
    assert param.lo is not None and param.hi is not None
    if param.kind == "int":
        value = float(math.floor(value)) if abs(value) < 1e15 else 0.0
    raw = int(value) if param.kind == "int" else value
    inside = param.lo <= raw <= param.hi
    values: dict[str, float] = {param.key: raw}
    partner = PARTNERS.get(param.key)
    if partner:  # checked together: leave room for this one
        values[partner] = 0.0
    try:
        sc = Scenario(values)
    except ScenarioError as exc:
        assert not inside
        assert param.key in str(exc) and param.allowed() in str(exc)
    else:
        assert inside
        assert sc.values()[param.key] == raw


@pytest.mark.parametrize(
    ("text", "key", "allowed"),
    [
        ('[audience]\nfans_share = "many"\n', "audience.fans_share", "a number in [0, 1]"),
        ("[products]\ncount = 2.5\n", "products.count", "an integer in [1, 200]"),
        ("[fake.like_farm]\nenabled = 1\n", "fake.like_farm.enabled", "true or false"),
        ('[fake.brushing]\ncamouflage = "sneaky"\n', "fake.brushing.camouflage", "blatant"),
        ("[fake.brushing]\ncamouflage = 1.5\n", "fake.brushing.camouflage", "[0, 1]"),
        ('[sessions]\nstart = "tomorrow"\n', "sessions.start", "RFC 3339"),
        ('[sessions]\nstart = "2026-02-30T12:00:00Z"\n', "sessions.start", "RFC 3339"),
        ('[sessions]\nid_prefix = "直播"\n', "sessions.id_prefix", "A-Z a-z 0-9"),
        ("[traffic]\nshare = 3\n", "traffic.share", "table"),
        ("[audience.fans_share]\nx = 1\n", "audience.fans_share", "a number"),
        ("[products]\nctr = nan\n", "products.ctr", "[0, 1]"),
    ],
)
def test_wrong_types_are_refused_naming_the_key(text: str, key: str, allowed: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    assert key in str(caught.value)
    assert allowed in str(caught.value)


def test_an_unknown_key_is_refused_and_the_known_ones_are_listed() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario("[audience]\nfans_shar = 0.2\n")
    assert "unknown scenario key audience.fans_shar" in str(caught.value)
    assert "fans_share" in str(caught.value)
    with pytest.raises(ScenarioError, match="known sections"):
        parse_scenario("[audiences]\nx = 1\n")


def test_camouflage_levels_by_name() -> None:
    for name, level in CAMOUFLAGE_LEVELS.items():
        sc = parse_scenario(f'[fake.comment_farm]\ncamouflage = "{name}"\n')
        assert sc.f("fake.comment_farm.camouflage") == level


def test_keys_that_only_make_sense_together_are_checked_together() -> None:
    with pytest.raises(ScenarioError, match=r"quick_share \+ audience\.long_share"):
        parse_scenario("[audience]\nquick_share = 0.7\nlong_share = 0.5\n")
    zero = "".join(f"{s} = 0\n" for s in ("feed", "follow", "search", "share", "ads", "other"))
    with pytest.raises(ScenarioError, match=r"traffic\.share"):
        parse_scenario("[traffic.share]\n" + zero)


def test_bad_toml_and_missing_files_are_one_line_errors(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[audience\nfans_share = 1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid TOML") as caught:
        load_scenario(path)
    assert "\n" not in str(caught.value)
    with pytest.raises(ScenarioError, match="cannot read scenario file"):
        load_scenario(tmp_path / "absent.toml")


def test_clean_switches_every_fake_kind_off() -> None:
    sc = Scenario().clean()
    for kind in ("bot_viewer", "comment_farm", "like_farm", "brushing"):
        assert not sc.fake_enabled(kind)
        assert Scenario().fake_enabled(kind)


def test_a_toml_datetime_is_accepted_as_the_start() -> None:
    sc = parse_scenario("[sessions]\nstart = 2026-12-01T12:00:00Z\n")
    assert sc.s("sessions.start") == "2026-12-01T12:00:00.000Z"
    assert sc.start_ms() == 1_796_126_400_000


def test_the_docs_list_every_key_with_its_default_and_range() -> None:
    assert markdown_table() in DOCS.read_text(encoding="utf-8")
