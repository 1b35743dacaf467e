"""The clean-Chinese check. Traditional samples are built from escapes so that this
file itself stays clean."""

from __future__ import annotations

from pathlib import Path

from daihuo.core.zhlint import ALLOW_MARKER, check_line, check_text, scan

FA_TRAD = "\u767c"  # the traditional form of 发
HUO_TRAD = "\u8ca8"  # the traditional form of 货
REPO = Path(__file__).resolve().parents[3]


def test_clean_simplified_text_passes() -> None:
    assert check_text("直播带货，上链接！已拍，主播好。发货很快") == []


def test_words_that_look_traditional_but_are_simplified_pass() -> None:
    # t2s is phrase-aware: these keep their characters in simplified Chinese.
    assert check_text("乾隆年间 著名 显著 乾坤") == []


def test_traditional_characters_are_found_with_their_simplified_form() -> None:
    [problem] = check_line(f"今天{FA_TRAD}{HUO_TRAD}了", path="a.md", lineno=3)
    assert problem.kind == "traditional"
    assert (problem.path, problem.line, problem.column) == ("a.md", 3, 3)
    assert problem.found == FA_TRAD + HUO_TRAD and problem.suggestion == "发货"


def test_a_pinyin_gloss_after_a_character_is_found() -> None:
    samples = ("发(fā)货", "发（fā）货", "发 (fa1)货", "货(huò)")  # zh-lint: allow
    for text in samples:
        kinds = [p.kind for p in check_line(text)]
        assert kinds == ["pinyin"], text


def test_the_corruption_seen_in_generated_text_gives_both_problems() -> None:
    kinds = sorted(p.kind for p in check_line(FA_TRAD + "(f\u0101)货"))
    assert kinds == ["pinyin", "traditional"]


def test_parenthesised_english_is_not_pinyin() -> None:
    assert check_text("成交金额(GMV) 曝光(impression) 价格(price) 商品(a)") == []


def test_the_allow_marker_silences_a_line() -> None:
    assert check_line(f"{FA_TRAD} # {ALLOW_MARKER}") == []


def test_scan_reports_files_and_skips_binary(tmp_path: Path) -> None:
    (tmp_path / "ok.md").write_text("上链接\n", encoding="utf-8")
    (tmp_path / "bad.json").write_text(f'{{"t": "{FA_TRAD}"}}\n', encoding="utf-8")
    (tmp_path / "blob.txt").write_bytes(b"\xff\xfe\x00")
    found = list(scan(tmp_path))
    assert [(p.path, p.kind) for p in found] == [("bad.json", "traditional")]


def test_the_repository_is_clean() -> None:
    problems = [str(p) for p in scan(REPO)]
    assert problems == []
