"""Validated string types for API schemas: bounded, trimmed, free of control characters.

Control characters (NUL in particular, which PostgreSQL refuses in text) are
rejected at the edge rather than failing deep inside a database driver.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, ConfigDict, StringConstraints

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\ud800-\udfff]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\ud800-\udfff]")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def _single_line(value: str) -> str:
    if _CONTROL_SINGLE_LINE.search(value):
        raise ValueError("must not contain control characters or line breaks")
    return value


def _multi_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("is not an e-mail address")
    return value.lower()


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_single_line),
]
Text = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_multi_line)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=254),
    AfterValidator(_single_line),
    AfterValidator(_email),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")
]

# Request bodies refuse unknown fields; responses are built from our own objects.
STRICT_INPUT = ConfigDict(extra="forbid", str_strip_whitespace=False)


# A path parameter naming a stored resource (ULID-style ids with a prefix).
ResourceId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]
