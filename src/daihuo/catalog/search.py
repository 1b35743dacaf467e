"""Chinese full-text search without the database's help: jieba splits the words.

A product's searchable text (title, category, description, attribute values, SKU
specs) is segmented with jieba's search mode, which adds the shorter dictionary words
inside long ones (连衣裙 → 连衣, 衣裙, 连衣裙), and the distinct terms are stored in
``product_terms``. A query is segmented in precise mode and a product matches when it
has *every* query word — or, for a word longer than the pieces search mode stores
(人民共和国 inside 中华人民共和国 is stored as 人民, 共和, 共和国), all of that word's
dictionary pieces, provided they cover each of its characters. Both sides use the
dictionary only (``HMM=False``): jieba's HMM guesses new words from context, so the
same word could be split differently in a product and in a query. Latin letters are
lower-cased and full-width forms folded (NFKC), so ``ＩＰＨＯＮＥ`` finds ``iPhone``. The
same terms and the same SQL work on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable

import jieba  # type: ignore[import-untyped]

MAX_TERM_LENGTH = 32
MAX_QUERY_TERMS = 10
MAX_TERMS = 2000

_ready = threading.Lock()
_initialized = False


def _init() -> None:
    global _initialized
    if _initialized:
        return
    with _ready:
        if not _initialized:
            jieba.setLogLevel(60)
            jieba.initialize()
            _initialized = True


def _normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _keep(token: str) -> bool:
    # Whitespace and punctuation are not words; anything with a letter or digit is.
    return any(ch.isalnum() for ch in token)


def _clean(tokens: Iterable[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for raw in tokens:
        token = raw.strip()[:MAX_TERM_LENGTH]
        if token and _keep(token) and token not in seen:
            seen.add(token)
            out.append(token)
    return out


def document_terms(*texts: str) -> list[str]:
    """The distinct search terms of a product's texts."""
    _init()
    tokens: list[str] = []
    for text in texts:
        if text:
            tokens += jieba.lcut_for_search(_normalize(text), HMM=False)
    return _clean(tokens)[:MAX_TERMS]


def query_terms(query: str) -> list[str]:
    """The words of ``query`` (empty: the query matches everything)."""
    _init()
    return _clean(jieba.lcut(_normalize(query), HMM=False))[:MAX_QUERY_TERMS]


QueryGroup = tuple[str, tuple[str, ...]]


def _pieces(word: str) -> tuple[str, ...]:
    """Shorter dictionary words inside ``word`` that together cover all its characters."""
    if len(word) < 3:
        return ()
    found = [t for t in _clean(jieba.lcut_for_search(word, HMM=False)) if t != word]
    covered: set[int] = set()
    for piece in found:
        start = word.find(piece)
        while start != -1:
            covered.update(range(start, start + len(piece)))
            start = word.find(piece, start + 1)
    return tuple(found) if covered == set(range(len(word))) else ()


def query_groups(query: str) -> list[QueryGroup]:
    """Per query word: the word itself and its covering pieces (see the module doc)."""
    return [(word, _pieces(word)) for word in query_terms(query)]


def matches(terms: set[str], groups: list[QueryGroup]) -> bool:
    """Whether a product with ``terms`` matches: the rule the SQL applies, in Python."""
    return all(w in terms or (pieces and set(pieces) <= terms) for w, pieces in groups)


def warm_up() -> None:
    """Load jieba's dictionary now (about a second) rather than on the first search."""
    _init()
