"""The clean-Chinese check: zh-CN text must be simplified Chinese without pinyin glosses.

Chinese produced by copying or generating text often comes out corrupted in two
ways this check catches:

* **traditional characters** — a line whose OpenCC ``t2s`` conversion (phrase-aware,
  so 乾隆 or 著名 stay as they are) differs from the line itself;
* **pinyin annotations** — a Chinese character followed by a parenthesised
  syllable carrying a tone mark or a tone number (a tone-marked "fa" or "fa1" in
  parentheses right after the character).

A line may opt out with the marker ``zh-lint: allow`` (for instance test data that
is traditional on purpose); whole files are excluded by the globs in
``[tool.daihuo.zh-lint] exclude`` in pyproject.toml.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

TEXT_SUFFIXES = {
    ".py", ".md", ".txt", ".html", ".jinja", ".j2", ".json", ".jsonl", ".toml", ".yaml",
    ".yml", ".csv", ".tsv", ".po", ".js", ".ts", ".css", ".cfg", ".ini", ".sql", ".sh",
}  # fmt: skip
ALLOW_MARKER = "zh-lint: allow"

_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_SYLLABLE_TONE_MARK = rf"[a-zü{_TONED}]*[{_TONED}][a-zü{_TONED}]*"
_SYLLABLE_TONE_NUMBER = r"[a-zü]{1,6}[1-5]"
_SYLLABLE = rf"(?:{_SYLLABLE_TONE_MARK}|{_SYLLABLE_TONE_NUMBER})"
PINYIN_GLOSS = re.compile(
    rf"({_CJK})\s?[(（]\s*({_SYLLABLE}(?:[\s'\-]{_SYLLABLE})*)\s*[)）]", re.IGNORECASE
)
_HAS_CJK = re.compile(_CJK)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    column: int
    kind: str  # "traditional" | "pinyin"
    found: str
    suggestion: str

    def __str__(self) -> str:
        what = (
            f"traditional character(s) {self.found!r}, simplified: {self.suggestion!r}"
            if self.kind == "traditional"
            else f"pinyin annotation {self.found!r}, write {self.suggestion!r}"
        )
        return f"{self.path}:{self.line}:{self.column}: {what}"


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return str(_converter().convert(text))


def check_line(line: str, *, path: str = "<text>", lineno: int = 1) -> list[Problem]:
    if ALLOW_MARKER in line or not _HAS_CJK.search(line):
        return []
    problems = []
    for m in PINYIN_GLOSS.finditer(line):
        fixed = to_simplified(m.group(1))
        problems.append(Problem(path, lineno, m.start() + 1, "pinyin", m.group(0), fixed))
    simplified = to_simplified(line)
    if simplified != line:
        if len(simplified) == len(line):
            diffs = [i for i, (a, b) in enumerate(zip(line, simplified, strict=True)) if a != b]
            found = "".join(line[i] for i in diffs)
            fixed = "".join(simplified[i] for i in diffs)
            col = diffs[0] + 1
        else:
            found, fixed, col = line.strip(), simplified.strip(), 1
        problems.append(Problem(path, lineno, col, "traditional", found, fixed))
    return problems


def check_text(text: str, *, path: str = "<text>") -> list[Problem]:
    out: list[Problem] = []
    for i, line in enumerate(text.splitlines(), start=1):
        out.extend(check_line(line, path=path, lineno=i))
    return out


def _excludes(root: Path) -> list[str]:
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        return []
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    patterns = data.get("tool", {}).get("daihuo", {}).get("zh-lint", {}).get("exclude", [])
    return [str(p) for p in patterns]


def repository_files(root: Path) -> list[Path]:
    """Files git tracks plus untracked ones it does not ignore (all files outside git)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
            cwd=root,
            check=True,
            capture_output=True,
        ).stdout
        return [root / p for p in out.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        return [p for p in root.rglob("*") if p.is_file()]


def scan(root: Path, paths: Iterable[Path] | None = None) -> Iterator[Problem]:
    excludes = _excludes(root)
    for path in paths if paths is not None else repository_files(root):
        if path.suffix.lower() not in TEXT_SUFFIXES or not path.is_file():
            continue
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        if any(fnmatch.fnmatch(rel, pat) for pat in excludes):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        yield from check_text(text, path=rel)
