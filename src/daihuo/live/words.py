"""The default sensitive-word list of comments; a tenant's own words come on top of it.

Kept short on purpose: words that take a viewer off the platform or sell fake numbers.
"""

from __future__ import annotations

DEFAULT_WORDS: tuple[str, ...] = (
    "加微信",
    "加我微信",
    "私下交易",
    "刷单",
    "刷好评",
    "代刷",
    "诈骗",
    "赌博",
)
