"""The Aho-Corasick word filter agrees with the obvious quadratic scan, masks every
character of every listed word and nothing else, and keeps the text's length."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from daihuo.live.wordfilter import MASK, WordFilter


def naive_mask(words: list[str], text: str) -> str:
    low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    hidden = [False] * len(text)
    for w in {w.lower() for w in words if w}:
        start = low.find(w)
        while start >= 0:
            for i in range(start, start + len(w)):
                hidden[i] = True
            start = low.find(w, start + 1)
    return "".join(MASK if h else c for c, h in zip(text, hidden, strict=True))


def test_masks_chinese_words_and_keeps_the_rest() -> None:
    f = WordFilter(["加微信", "刷单"])
    assert f.mask("主播好！加微信领红包，不刷单") == "主播好！***领红包，不**"
    assert "想刷单吗" in f
    assert "今天的口红真好看" not in f


def test_overlapping_and_nested_words_are_all_masked() -> None:
    f = WordFilter(["abc", "bcd", "c", "abcdef"])
    assert f.mask("xabcdefx") == "x******x"
    assert f.mask("abcd") == "****"
    assert f.mask("xcx") == "x*x"


def test_case_is_ignored_for_latin_letters() -> None:
    f = WordFilter(["VX"])
    assert f.mask("加vx聊, Vx, vX") == "加**聊, **, **"


def test_an_empty_list_or_empty_word_changes_nothing() -> None:
    assert WordFilter([]).mask("任何文字") == "任何文字"
    assert WordFilter([""]).mask("abc") == "abc"


ALPHABET = st.sampled_from("ab微信刷单Aé")


@given(
    words=st.lists(st.text(ALPHABET, min_size=1, max_size=4), max_size=6),
    text=st.text(ALPHABET, max_size=40),
)
def test_agrees_with_the_naive_scan(words: list[str], text: str) -> None:
    f = WordFilter(words)
    masked = f.mask(text)
    assert len(masked) == len(text)
    assert masked == naive_mask(words, text)
    assert (masked != text) == (text in f) or MASK in text
