"""RFC 8785 JSON Canonicalization Scheme (JCS): one byte string per JSON value.

A log leaf is the UTF-8 of the canonical JSON of an entry, so anyone holding the
entry can recompute its leaf hash with any JCS implementation.

* objects: members sorted by key, comparing keys as UTF-16 code units; no whitespace
* strings: only ``"``, ``\\`` and control characters are escaped (``\\b \\f \\n \\r \\t``
  by name, others as ``\\u00xx`` in lowercase hex); everything else, non-ASCII
  included, is written as is
* numbers: ECMAScript Number-to-String of the IEEE 754 double (shortest round-trip
  digits; exponent form below 1e-6 and from 1e21 up); ``-0`` is ``0``

Refused (I-JSON, RFC 7493), with ValueError: NaN and infinities, integers outside
±(2**53 - 1) since a double cannot carry them exactly, and strings holding a lone
surrogate. Any type but dict, list, str, int, float, bool and None is a TypeError.
"""

from __future__ import annotations

import math
import re

MAX_SAFE_INTEGER = 2**53 - 1

_ESCAPES = {i: f"\\u{i:04x}" for i in range(0x20)}
_ESCAPES.update(
    {
        ord('"'): '\\"',
        ord("\\"): "\\\\",
        ord("\b"): "\\b",
        ord("\f"): "\\f",
        ord("\n"): "\\n",
        ord("\r"): "\\r",
        ord("\t"): "\\t",
    }
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def canonical_json(obj: object) -> bytes:
    """The RFC 8785 canonical form of ``obj`` as UTF-8 bytes."""
    parts: list[str] = []
    _write(obj, parts)
    return "".join(parts).encode("utf-8")


def _write(obj: object, out: list[str]) -> None:
    # bool before int: True is an int in Python but a literal in JSON.
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(_string(obj))
    elif isinstance(obj, int):
        if abs(obj) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {obj} is outside ±(2**53 - 1) and cannot round-trip")
        out.append(int.__repr__(obj))  # not str(): an IntEnum would print its name
    elif isinstance(obj, float):
        out.append(_number(obj))
    elif isinstance(obj, list):
        out.append("[")
        for i, item in enumerate(obj):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, not {type(key).__name__}")
        out.append("{")
        for i, key in enumerate(sorted(obj, key=_utf16_units)):
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _write(obj[key], out)
        out.append("}")
    else:
        raise TypeError(f"{type(obj).__name__} has no JSON form")


def _utf16_units(key: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly as the code units do. surrogatepass
    # lets a lone surrogate reach _string, which reports it properly.
    return key.encode("utf-16-be", "surrogatepass")


def _string(s: str) -> str:
    if _SURROGATE.search(s):
        raise ValueError(f"string {s!r} holds a lone surrogate, which is not Unicode text")
    return '"' + s.translate(_ESCAPES) + '"'


def _number(x: float) -> str:
    """ECMAScript Number::toString(x) (ECMA-262, 7.1.12.1)."""
    if not math.isfinite(x):
        raise ValueError(f"{x} has no JSON form")
    if x == 0:
        return "0"  # and -0 too
    if x < 0:
        return "-" + _number(-x)
    # repr() gives the shortest digits that round-trip, nearest to x: ECMAScript's s.
    mantissa, _, exp = float.__repr__(x).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    trimmed = digits.rstrip("0")
    # x = int(digits) * 10**(exp - len(frac)); ECMAScript writes x = 0.<trimmed> * 10**n.
    n = len(digits) + int(exp or 0) - len(frac)
    k = len(trimmed)
    if k <= n <= 21:
        return trimmed + "0" * (n - k)
    if 0 < n <= 21:
        return trimmed[:n] + "." + trimmed[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + trimmed
    e = n - 1
    head = trimmed if k == 1 else trimmed[0] + "." + trimmed[1:]
    return f"{head}e{'+' if e >= 0 else '-'}{abs(e)}"
