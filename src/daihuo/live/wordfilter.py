"""A sensitive-word filter: Aho-Corasick over characters, pure Python, no I/O.

Building the automaton costs O(total length of the words); scanning a comment costs
O(length of the comment), however many words there are. Matching ignores case for the
characters whose lower case is a single character (Latin, Greek, Cyrillic…); Chinese has
no case. :meth:`WordFilter.mask` replaces every character that lies inside any match —
overlapping and nested matches included — with ``*``, so the masked text has exactly the
length of the original and every listed word in it is hidden completely.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

MASK = "*"


def _fold(c: str) -> str:
    low = c.lower()
    return low if len(low) == 1 else c


class WordFilter:
    __slots__ = ("_fail", "_goto", "_longest", "words")

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(w for w in ("".join(map(_fold, w)) for w in words) if w)
        self._goto: list[dict[str, int]] = [{}]
        self._fail: list[int] = [0]
        # The length of the longest word that ends at each state (0: none).
        self._longest: list[int] = [0]
        for word in self.words:
            state = 0
            for c in word:
                nxt = self._goto[state].get(c)
                if nxt is None:
                    nxt = len(self._goto)
                    self._goto[state][c] = nxt
                    self._goto.append({})
                    self._fail.append(0)
                    self._longest.append(0)
                state = nxt
            self._longest[state] = max(self._longest[state], len(word))
        queue = deque(self._goto[0].values())
        while queue:
            state = queue.popleft()
            for c, nxt in self._goto[state].items():
                queue.append(nxt)
                f = self._fail[state]
                while f and c not in self._goto[f]:
                    f = self._fail[f]
                self._fail[nxt] = self._goto[f].get(c, 0)
                self._longest[nxt] = max(self._longest[nxt], self._longest[self._fail[nxt]])

    def spans(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` of the longest match ending at each position that has one."""
        out = []
        state = 0
        goto, fail, longest = self._goto, self._fail, self._longest
        for i, ch in enumerate(text):
            c = _fold(ch)
            while state and c not in goto[state]:
                state = fail[state]
            state = goto[state].get(c, 0)
            if longest[state]:
                out.append((i + 1 - longest[state], i + 1))
        return out

    def mask(self, text: str) -> str:
        """``text`` with every character of every listed word replaced by ``*``."""
        spans = self.spans(text)
        if not spans:
            return text
        chars = list(text)
        # Spans come in order of their end, but a later one may start earlier. Walking
        # them backwards, everything from `lowest` to the end of the span that set it is
        # masked already, so each character is written at most once.
        lowest = len(text)
        for start, end in reversed(spans):
            for i in range(start, min(end, lowest)):
                chars[i] = MASK
            lowest = min(lowest, start)
        return "".join(chars)

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and bool(self.spans(text))
