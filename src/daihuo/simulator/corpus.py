"""The package's data files: the product catalogue and the comment corpus.

Comment texts are JSON-encoded once here (``json.dumps(..., ensure_ascii=False)``), so
the generator only pastes ready strings into lines and never escapes per event.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Final

CATEGORIES: Final = ("apparel", "beauty", "food", "home", "digital", "baby")


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    name: str
    short: str
    category: str
    price: int  # fen
    refund: float  # share of paid orders refunded


@dataclass(frozen=True, slots=True)
class Corpus:
    greeting: tuple[str, ...]
    praise: tuple[str, ...]
    chat: tuple[str, ...]
    question: tuple[str, ...]
    purchase: tuple[str, ...]
    flash: tuple[str, ...]
    missed: tuple[str, ...]
    chorus: tuple[str, ...]
    category: dict[str, tuple[str, ...]]
    farm_scripted: tuple[str, ...]
    farm_opener: tuple[str, ...]
    farm_body: tuple[str, ...]
    farm_closer: tuple[str, ...]


def _load(name: str) -> dict[str, Any]:
    return tomllib.loads(files("daihuo.simulator").joinpath("data", name).read_text("utf-8"))


@cache
def catalogue() -> tuple[Product, ...]:
    """Every product of data/catalogue.toml, in file order."""
    rows = _load("catalogue.toml")["product"]
    products = tuple(
        Product(
            id=str(r["id"]),
            name=str(r["name"]),
            short=str(r["short"]),
            category=str(r["category"]),
            price=int(r["price"]),
            refund=float(r["refund"]),
        )
        for r in rows
    )
    assert all(p.category in CATEGORIES and p.price > 0 for p in products)
    assert len({p.id for p in products}) == len(products)
    return products


@cache
def corpus() -> Corpus:
    """The comment corpus of data/corpus.toml (raw texts, with {n} and {short} slots)."""
    raw = _load("corpus.toml")
    farm = raw["farm"]
    return Corpus(
        greeting=tuple(raw["greeting"]),
        praise=tuple(raw["praise"]),
        chat=tuple(raw["chat"]),
        question=tuple(raw["question"]),
        purchase=tuple(raw["purchase"]),
        flash=tuple(raw["flash"]),
        missed=tuple(raw["missed"]),
        chorus=tuple(raw["chorus"]),
        category={k: tuple(v) for k, v in raw["category"].items()},
        farm_scripted=tuple(farm["scripted"]),
        farm_opener=tuple(farm["opener"]),
        farm_body=tuple(farm["body"]),
        farm_closer=tuple(farm["closer"]),
    )


def render(text: str, product: Product | None, link: int) -> str:
    """A corpus text with its slots filled (a product-less text keeps generic words)."""
    if "{" not in text:
        return text
    if product is None:
        return text.replace("{n}号", "").replace("{short}", "这个") or "这个"
    return text.replace("{n}", str(link)).replace("{short}", product.short)


def encode(text: str) -> str:
    """The JSON string literal of a text, as it appears in a line."""
    return json.dumps(text, ensure_ascii=False)
