"""Streaming reader of event JSON Lines: yields accepted events, counts and explains the rest.

Per line, in this order:

* Lines are numbered from 1 and the numbers count every physical line, blank ones too,
  so a reason's line number is the one an editor shows.
* A blank line (only whitespace) is skipped: it is neither kept nor rejected, only
  counted in ``ParseSummary.blank``. A trailing newline at the end of a file is common
  and harmless, so treating it as malformed would only add noise.
* Bytes that are not valid UTF-8 reject that line (``str`` input must be encodable as
  UTF-8, so lone surrogates from a ``surrogateescape`` decode are rejected the same way).
  A UTF-8 byte-order mark at the very start of the first line is dropped (editors on
  Windows write one); anywhere else it is an error of the JSON.
* Bad JSON (including ``NaN``/``Infinity``, which are not JSON), a value that is not an
  object, or an object that breaks :mod:`daihuo.events.model` rejects the line with a
  reason such as ``line 17: missing required key 'order' for type order_paid``.
* A repeated ``id`` is a duplicate delivery: the first *accepted* event with that id wins,
  later ones are counted in ``ParseSummary.duplicates`` and not yielded (they are not
  rejects). A rejected line never claims its id.

Memory is bounded except for the set of seen ids (and the first ``max_rejects`` reject
reasons kept for display; all of them are counted). Because the summary is updated as
lines are read, a caller that stops early, or hits an I/O error, still knows how many
lines it kept and rejected so far.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from daihuo.events.model import Event, InvalidEvent, event_from_obj

_BOM = "\ufeff"


class Reject(NamedTuple):
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(slots=True)
class ParseSummary:
    """Counts of one read. ``rejects`` holds the first ``max_rejects`` rejects only."""

    lines: int = 0
    kept: int = 0
    rejected: int = 0
    duplicates: int = 0
    blank: int = 0
    max_rejects: int = 1000
    rejects: list[Reject] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejects) < self.max_rejects:
            self.rejects.append(Reject(line, reason))

    def __str__(self) -> str:
        return (
            f"{self.lines} lines: kept {self.kept}, rejected {self.rejected}, "
            f"duplicates {self.duplicates}, blank {self.blank}"
        )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# One decoder for all lines: json.loads(text, parse_constant=...) would build a new one
# per call, which costs more than the decoding itself.
_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def parse_line(line: bytes | str) -> Event:
    """One line to an :class:`Event`; :class:`InvalidEvent` with the reason otherwise."""
    if isinstance(line, bytes):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = line[exc.start : exc.start + 1].hex()
            raise InvalidEvent(
                f"not valid UTF-8: byte 0x{bad} at offset {exc.start} ({exc.reason})"
            ) from None
    else:
        text = line
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InvalidEvent(
                    f"not valid UTF-8: unpaired surrogate at offset {exc.start}"
                ) from None
    if text.startswith(_BOM):
        raise InvalidEvent("bad JSON: byte-order mark not at the start of the file")
    try:
        obj = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise InvalidEvent(f"bad JSON: {exc.msg} at column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:  # NaN, huge integers, absurd nesting
        raise InvalidEvent(f"bad JSON: {exc}") from None
    if type(obj) is not dict:
        kind = "array" if isinstance(obj, list) else type(obj).__name__
        raise InvalidEvent(f"not a JSON object (got {kind})")
    return event_from_obj(obj)


def parse_lines(
    lines: Iterable[bytes | str],
    summary: ParseSummary | None = None,
    *,
    dedupe: bool = True,
) -> Iterator[Event]:
    """Yield the accepted events of ``lines``, recording rejects and duplicates in ``summary``."""
    if summary is None:
        summary = ParseSummary()
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        summary.lines += 1
        if number == 1:
            line = _strip_bom(line)
        if not line.strip():
            summary.blank += 1
            continue
        try:
            event = parse_line(line)
        except InvalidEvent as exc:
            summary.reject(number, str(exc))
            continue
        if dedupe:
            if event.id in seen:
                summary.duplicates += 1
                continue
            seen.add(event.id)
        summary.kept += 1
        yield event


def _strip_bom(line: bytes | str) -> bytes | str:
    if isinstance(line, bytes):
        return line[3:] if line.startswith(b"\xef\xbb\xbf") else line
    return line[1:] if line.startswith(_BOM) else line


def parse_file(
    path: str | os.PathLike[str],
    summary: ParseSummary | None = None,
    *,
    dedupe: bool = True,
) -> Iterator[Event]:
    """Yield the accepted events of a JSON Lines file (read as bytes, line by line)."""
    with open(path, "rb") as handle:
        yield from parse_lines(handle, summary, dedupe=dedupe)


def load_events(path: str | os.PathLike[str]) -> tuple[list[Event], ParseSummary]:
    """All accepted events of a file, with the summary of the read."""
    summary = ParseSummary()
    return list(parse_file(path, summary)), summary
