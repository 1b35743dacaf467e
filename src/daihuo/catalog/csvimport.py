"""Reading a supplier's product file (CSV) into products, with a report of every bad
row: its line number, the column and the reason. Pure: no I/O beyond the text given.

One row per SKU; rows with the same ``product`` key form one product, whose fields
(title … max_per_user) are given on its first row and may be left empty or repeated
unchanged on the others. Money is in yuan with at most two decimals (``19.90``), the
commission in percent (``15`` or ``12.5``, 0–90), a spec as ``颜色=红;尺码=M``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from daihuo.catalog.domain import MAX_PRICE_FEN
from daihuo.catalog.schemas import ProductCreate, SkuCreate

COLUMNS = (
    "product",
    "title",
    "category",
    "description",
    "price_min",
    "price_max",
    "commission",
    "max_per_user",
    "sku",
    "spec",
    "price",
    "stock",
)
REQUIRED = (
    "product",
    "title",
    "category",
    "price_min",
    "price_max",
    "commission",
    "sku",
    "price",
    "stock",
)
PRODUCT_FIELDS = (
    "title",
    "category",
    "description",
    "price_min",
    "price_max",
    "commission",
    "max_per_user",
)
_MONEY = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,2})?$")
_PERCENT = re.compile(r"^[0-9]{1,2}(\.[0-9]{1,2})?$")
MAX_ROWS = 100_000


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.reason}"


@dataclass
class ParsedProduct:
    key: str
    line: int
    data: ProductCreate
    lines: list[int]


@dataclass
class Parsed:
    products: list[ParsedProduct] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0

    @property
    def bad_lines(self) -> set[int]:
        return {e.line for e in self.errors}


def yuan_to_fen(text: str) -> int:
    if not _MONEY.match(text):
        raise ValueError("not an amount in yuan with at most 2 decimals, e.g. 19.90")
    fen = int(Decimal(text) * 100)
    if not 1 <= fen <= MAX_PRICE_FEN:
        raise ValueError("must be at least 0.01 yuan")
    return fen


def percent_to_bps(text: str) -> int:
    if not _PERCENT.match(text):
        raise ValueError("not a percentage with at most 2 decimals, e.g. 15 or 12.5")
    try:
        bps = int(Decimal(text) * 100)
    except InvalidOperation as exc:  # pragma: no cover - the pattern rules it out
        raise ValueError("not a number") from exc
    if bps > 9000:
        raise ValueError("a commission is 0–90 %")
    return bps


def parse_spec(text: str) -> dict[str, str]:
    spec: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"'{part}' is not name=value (e.g. 颜色=红;尺码=M)")
        spec[key.strip()] = value.strip()
    return spec


def _int(text: str, what: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise ValueError(f"not a whole number of {what}")
    return int(text)


def _empty() -> int:
    raise ValueError("empty")


def _limit(text: str) -> int | None:
    return _int(text, "units") if text else None


def _pydantic_reason(err: dict[str, Any]) -> str:
    return str(err.get("msg", "invalid"))


def parse_products(text: str) -> Parsed:
    """Every product of the file, and every problem of every row."""
    out = Parsed()
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        out.errors.append(RowError(1, "-", "the file is empty; the first line names the columns"))
        return out
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    unknown = [h for h in names if h not in COLUMNS]
    if missing or unknown:
        reason = "; ".join(
            ([f"missing column(s): {', '.join(missing)}"] if missing else [])
            + ([f"unknown column(s): {', '.join(unknown)}"] if unknown else [])
        )
        out.errors.append(RowError(1, "-", reason))
        return out

    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    line = reader.line_num
    try:
        for raw in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in raw):
                continue
            out.rows += 1
            if out.rows > MAX_ROWS:
                out.errors.append(RowError(start, "-", f"more than {MAX_ROWS} rows"))
                break
            if len(raw) != len(names):
                out.errors.append(
                    RowError(start, "-", f"{len(raw)} cells where the header has {len(names)}")
                )
                continue
            row = {n: cell.strip() for n, cell in zip(names, raw, strict=True)}
            if not row["product"]:
                out.errors.append(
                    RowError(start, "product", "empty; name the product this SKU is of")
                )
                continue
            groups.setdefault(row["product"], []).append((start, row))
    except csv.Error as exc:
        out.errors.append(RowError(reader.line_num, "-", f"not valid CSV: {exc}"))
        return out

    for key, rows in groups.items():
        product = _product(key, rows, out.errors)
        if product is not None:
            out.products.append(product)
    out.errors.sort(key=lambda e: e.line)
    return out


def _product(
    key: str, rows: list[tuple[int, dict[str, str]]], errors: list[RowError]
) -> ParsedProduct | None:
    first_line, first = rows[0]
    product_errors: list[RowError] = []
    fields: dict[str, Any] = {}
    converters: dict[str, Callable[[str], Any]] = {
        "price_min": yuan_to_fen,
        "price_max": yuan_to_fen,
        "commission": percent_to_bps,
        "max_per_user": _limit,
    }
    for name in PRODUCT_FIELDS:
        value = first.get(name, "")
        if name in REQUIRED and not value:
            product_errors.append(RowError(first_line, name, "empty"))
            continue
        try:
            fields[name] = converters[name](value) if name in converters else value
        except ValueError as exc:
            product_errors.append(RowError(first_line, name, str(exc)))
    for line, row in rows[1:]:
        for name in PRODUCT_FIELDS:
            if row.get(name) and row[name] != first.get(name, ""):
                product_errors.append(
                    RowError(line, name, f"differs from line {first_line} of product {key}")
                )

    skus: list[SkuCreate] = []
    sku_lines: list[int] = []
    seen_codes: dict[str, int] = {}
    for line, row in rows:
        try:
            price = yuan_to_fen(row["price"]) if row["price"] else _empty()
        except ValueError as exc:
            errors.append(RowError(line, "price", str(exc)))
            continue
        try:
            spec = parse_spec(row.get("spec", ""))
        except ValueError as exc:
            errors.append(RowError(line, "spec", str(exc)))
            continue
        try:
            stock = _int(row["stock"], "units") if row["stock"] else _empty()
        except ValueError as exc:
            errors.append(RowError(line, "stock", str(exc)))
            continue
        if row["sku"] in seen_codes:
            errors.append(RowError(line, "sku", f"repeats line {seen_codes[row['sku']]}"))
            continue
        try:
            sku = SkuCreate(code=row["sku"], spec=spec, price=price, stock=stock)
        except ValidationError as exc:
            for err in exc.errors()[:1]:
                loc = str(err["loc"][0]) if err["loc"] else "sku"
                column = {"code": "sku"}.get(loc, loc)
                errors.append(RowError(line, column, _pydantic_reason(dict(err))))
            continue
        lo, hi = fields.get("price_min"), fields.get("price_max")
        if lo is not None and hi is not None and not lo <= sku.price <= hi:
            errors.append(RowError(line, "price", "outside price_min–price_max"))
            continue
        seen_codes[sku.code] = line
        skus.append(sku)
        sku_lines.append(line)

    if not product_errors:
        try:
            data = ProductCreate(
                title=fields["title"],
                category=fields["category"],
                description=fields.get("description") or "",
                price_min=fields["price_min"],
                price_max=fields["price_max"],
                commission_bps=fields["commission"],
                max_per_user=fields.get("max_per_user"),
                skus=skus or [SkuCreate(code="x", price=fields["price_min"], stock=0)],
            )
            if data.price_min > data.price_max:
                product_errors.append(RowError(first_line, "price_max", "below price_min"))
        except ValidationError as exc:
            for err in exc.errors()[:3]:
                loc = str(err["loc"][0]) if err["loc"] else "-"
                column = {"commission_bps": "commission"}.get(loc, loc)
                product_errors.append(RowError(first_line, column, _pydantic_reason(dict(err))))
    if product_errors:
        errors.extend(product_errors)
        bad = {e.line for e in product_errors}
        for line, _ in rows:
            if line not in bad:
                errors.append(
                    RowError(
                        line,
                        "product",
                        f"product {key} has errors on line(s) {', '.join(map(str, sorted(bad)))}",
                    )
                )
        return None
    if not skus:
        return None
    return ParsedProduct(
        key=key, line=first_line, data=data.model_copy(update={"skus": skus}), lines=sku_lines
    )
