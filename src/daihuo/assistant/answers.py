"""Answer drafts: a short reply to a viewer's question, from the product's own data.

The host reads the draft and sends it with one click; this module never sends anything
(it does no I/O at all). Invariants, each held by a test:

* **Nothing invented.** Every fact in a draft is copied from the product's sheet
  (``catalog.schemas.ProductSheet``): its facts, attributes, description, SKU specs,
  the shop's price. In particular every number in a draft's text is a number of the
  sheet (money shown from integer fen as ``¥29.90``); the viewer's own height or weight
  is used to pick a size but never echoed, so no converted figure appears.
* **"I don't know" over a guess.** When the question's slot has no data, or no FAQ entry
  or description sentence matches well enough, the draft says the product data does not
  say and that the host will ask the supplier (``slot="unknown"``, confidence 0).
* **Stock is a word, not a count.** 有货 / 库存紧张 (at most ``LOW_STOCK`` units) /
  已售罄: a draft never tells viewers how many units are left.
* **Deterministic and total.** The same sheet and question give the same drafts, and any
  string (empty, huge, binary, emoji, traditional characters) gives at least one draft
  rather than an exception.

How a question is understood: it is folded (NFKC, lower case, traditional → simplified,
emoji and punctuation dropped, a few common typos mended), then keyword rules find the
slots it asks about (size, price, material, shipping, stock, usage), each answered from
its field. What no slot covers goes to BM25 (``bm25s``) over jieba words and character
bigrams of the supplier's FAQ, the description's sentences and the attributes, and a
match counts only if it covers at least ``MIN_COVERAGE`` of the question's content
characters.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from daihuo.catalog.schemas import PoolSku, ProductSheet, SizeRow
from daihuo.core.zhlint import to_simplified

Lang = Literal["zh-CN", "en"]
Slot = Literal[
    "size",
    "price",
    "material",
    "shipping",
    "stock",
    "usage",
    "faq",
    "description",
    "attribute",
    "unknown",
    "unknown_product",
    "no_product",
]

LOW_STOCK = 10  # at most this many units available in total: 库存紧张
MIN_COVERAGE = 0.5  # share of the question's content characters a retrieved text must cover
MAX_QUESTION = 500  # characters of a question considered (a comment is short)
MAX_DRAFTS = 3


@dataclass(frozen=True)
class Draft:
    """A reply for the host to send (or not): the text, which slot of the question it
    answers, where in the product data it comes from, and how sure the match is (0–1)."""

    text: str
    slot: Slot
    source: str
    confidence: float


# --- folding the question ----------------------------------------------------------------

# Typos and homophones seen in live-room comments, mended before the keyword rules.
_TYPOS = {
    "尺吗": "尺码",
    "码子": "尺码",
    "多少前": "多少钱",
    "多少q": "多少钱",
    "快第": "快递",
    "发火": "发货",
    "包游": "包邮",
    "有货么": "有货吗",
    "面了": "面料",
    "才质": "材质",
    "材值": "材质",
    "价个": "价格",
    "还有木有": "还有吗",
    "木有货": "没有货",
}
_KEEP = re.compile(r"[0-9a-z.\u4e00-\u9fff]+")


def fold(question: str) -> str:
    """The question as the rules read it: NFKC, lower case, simplified, typos mended,
    runs of anything but digits, Latin letters and CJK (emoji, punctuation) as one space."""
    text = unicodedata.normalize("NFKC", question[:MAX_QUESTION]).lower()
    # Keep only what the rules read first: lone surrogates and the like cannot be converted.
    text = to_simplified(" ".join(_KEEP.findall(text)))
    for wrong, right in _TYPOS.items():
        text = text.replace(wrong, right)
    return text


# --- which slots a question asks about ------------------------------------------------------

_SLOT_WORDS: dict[Slot, tuple[str, ...]] = {
    "stock": (
        "有货", "有没有货", "还有吗", "还有没有", "还有么", "库存", "没货", "缺货", "售罄",
        "卖完", "断货", "现货", "还剩", "剩多少", "补货", "抢光", "限购", "有吗", "没了", "还能拍",
        "还能买",
    ),
    "size": (
        "尺码", "尺寸", "多大", "码数", "什么码", "哪个码", "几码", "哪码", "穿多大", "身高",
        "体重", "偏大", "偏小", "合身", "大码", "小码", "码合适", "穿什么码", "选码", "斤",
    ),
    "price": (
        "多少钱", "价格", "价钱", "几块", "多钱", "优惠", "便宜", "折扣", "打折", "划算",
        "怎么卖", "啥价", "什么价", "券", "多少米", "贵不贵", "价位", "满减", "包价",
    ),
    "material": (
        "材质", "面料", "成分", "什么料", "布料", "纯棉", "棉的", "真丝", "材料", "质地",
        "什么做的", "啥做的", "羊毛", "涤纶", "含棉",
    ),
    "shipping": (
        "发货", "几天到", "多久到", "包邮", "快递", "物流", "邮费", "运费", "顺丰", "到货",
        "配送", "发什么", "从哪发", "哪里发", "几天能到", "多久能到", "什么时候到", "寄", "能发",
        "发吗", "发出",
    ),
    "usage": (
        "怎么用", "用法", "使用方法", "怎么洗", "机洗", "手洗", "保养", "洗涤", "怎么吃",
        "怎么保存", "保存", "用量", "干洗", "水洗", "洗的时候", "洗衣机",
    ),
}  # fmt: skip
_SLOT_ORDER: tuple[Slot, ...] = ("stock", "size", "price", "material", "shipping", "usage")


def slots_of(folded: str) -> list[Slot]:
    """The slots a folded question asks about, in a fixed order (stock before size, so
    "M码还有货吗" is about stock of size M)."""
    found = [s for s in _SLOT_ORDER if any(w in folded for w in _SLOT_WORDS[s])]
    if "size" not in found and _SIZE_FIGURES.search(folded):
        found.append("size")  # "160/50kg": a viewer's figures ask for a size
    if "shipping" in found and any(w in folded for w in ("退货", "退换", "退款", "换货")):
        found.remove("shipping")  # 退货运费 is after-sales, not the shipping promise
    if "stock" in found and "size" in found and not _height_weight_asked(folded):
        found.remove("size")  # "M码还有吗": the size names the SKU, the question is stock
    return found


_SIZE_FIGURES = re.compile(r"[0-9]\s*(?:cm|厘米|公分|kg|公斤|斤)")


def _height_weight_asked(folded: str) -> bool:
    return any(w in folded for w in ("身高", "体重", "斤", "多大", "什么码", "几码", "穿多大"))


# --- money and stock wording ---------------------------------------------------------------


def yuan(fen: int) -> str:
    """Integer fen as the price viewers read: ¥30, ¥29.90."""
    whole, cents = divmod(fen, 100)
    return f"¥{whole}" if cents == 0 else f"¥{whole}.{cents:02d}"


StockWord = Literal["in_stock", "low", "sold_out"]
_STOCK_TEXT: dict[Lang, dict[StockWord, str]] = {
    "zh-CN": {"in_stock": "有货", "low": "库存紧张", "sold_out": "已售罄"},
    "en": {"in_stock": "in stock", "low": "only a few left", "sold_out": "sold out"},
}


def stock_word(available: int, low: int = LOW_STOCK) -> StockWord:
    """How much is left, in a word: never the count itself."""
    if available <= 0:
        return "sold_out"
    return "low" if available <= low else "in_stock"


# --- the drafts -------------------------------------------------------------------------

_TEXT: dict[Lang, dict[str, str]] = {
    "zh-CN": {
        "unknown": "这个问题商品资料里没有写，我去问问供应商，稍后回复大家。",
        "unknown_slot": "商品资料里没有写{what}，我去问问供应商，稍后回复大家。",
        "unknown_product": "没有找到这个商品的资料（不在本店橱窗里），请确认是哪个商品。",
        "no_product": "现在没有讲解中的商品，请先选择要回答的商品。",
        "price": "直播间价 {price}。",
        "price_deal": "其他优惠商品资料里没有写，以直播间公告为准。",
        "limit": "每人限购 {n} 件。",
        "material": "材质：{value}。",
        "shipping": "发货：{value}。",
        "ship_from": "发货地：{value}；其他发货信息商品资料里没有写。",
        "usage": "使用方法：{value}。",
        "size_fit": "建议选 {size} 码（{row}）。",
        "size_two": "身高和体重对应的码不同：按身高 {by_height} 码，按体重 {by_weight} 码，"
        "建议选大一码的 {size} 码。",
        "size_none": "尺码表里没有正好合适的码，尺码表：{chart}。",
        "size_chart": "尺码表：{chart}。",
        "size_specs": "可选尺码：{sizes}；尺码表商品资料里没有写，我去问问供应商。",
        "stock_all": "{word}。",
        "stock_some": "{word}（{gone} 已售罄）。",
        "stock_sku": "{spec}：{word}",
        "height": "身高 {lo}-{hi}cm",
        "weight": "体重 {lo}-{hi}kg",
        "sep": "；",
        "what_size": "尺码表",
        "what_material": "材质",
        "what_shipping": "发货信息",
        "what_usage": "使用方法",
        "what_price": "价格",
        "what_stock": "库存",
    },
    "en": {
        "unknown": "The product data doesn't say; I'll ask the supplier and get back to you.",
        "unknown_slot": "The product data has no {what}; "
        "I'll ask the supplier and get back to you.",
        "unknown_product": "No data for this product (it is not in this shop's showcase); "
        "which product do you mean?",
        "no_product": "No product is pinned now; pick the product to answer about first.",
        "price": "Live-room price: {price}.",
        "price_deal": "The product data mentions no other discount; "
        "watch the room's announcements.",
        "limit": "At most {n} per person.",
        "material": "Material: {value}.",
        "shipping": "Shipping: {value}.",
        "ship_from": "Ships from {value}; the product data says nothing else about shipping.",
        "usage": "How to use: {value}.",
        "size_fit": "Size {size} should fit ({row}).",
        "size_two": "Height suggests {by_height} and weight suggests {by_weight}; "
        "take the larger, {size}.",
        "size_none": "No size in the chart fits exactly. Size chart: {chart}.",
        "size_chart": "Size chart: {chart}.",
        "size_specs": "Sizes: {sizes}; the product data has no size chart, I'll ask the supplier.",
        "stock_all": "{word}.",
        "stock_some": "{word} ({gone} sold out).",
        "stock_sku": "{spec}: {word}",
        "height": "height {lo}-{hi} cm",
        "weight": "weight {lo}-{hi} kg",
        "sep": "; ",
        "what_size": "size chart",
        "what_material": "material",
        "what_shipping": "shipping details",
        "what_usage": "instructions",
        "what_price": "price",
        "what_stock": "stock",
    },
}  # fmt: skip


def unknown_product_draft(lang: Lang = "zh-CN") -> Draft:
    """The draft for a product that is not in the merchant's showcase (or does not exist)."""
    return Draft(_TEXT[lang]["unknown_product"], "unknown_product", "none", 0.0)


def no_product_draft(lang: Lang = "zh-CN") -> Draft:
    """The draft when no product was named and none is pinned."""
    return Draft(_TEXT[lang]["no_product"], "no_product", "none", 0.0)


def _dont_know(lang: Lang, slot: Slot | None = None) -> Draft:
    if slot is None:
        return Draft(_TEXT[lang]["unknown"], "unknown", "none", 0.0)
    what = _TEXT[lang][f"what_{slot}"]
    return Draft(_TEXT[lang]["unknown_slot"].format(what=what), "unknown", f"none:{slot}", 0.0)


def _sentence(value: str) -> str:
    """A supplier's text without its own final full stop (the template adds one)."""
    return value.rstrip("。.!！ ")


def _attribute(sheet: ProductSheet, *labels: str) -> tuple[str, str] | None:
    for key, value in sheet.attributes.items():
        if any(label in key for label in labels) and isinstance(value, str) and value:
            return key, value
    return None


def _price(sheet: ProductSheet, folded: str, lang: Lang) -> Draft:
    t = _TEXT[lang]
    parts = [t["price"].format(price=yuan(sheet.price))]
    if any(w in folded for w in ("优惠", "便宜", "折扣", "打折", "券", "划算", "满减")):
        parts.append(t["price_deal"])
    return Draft(" ".join(parts) if lang == "en" else "".join(parts), "price", "price", 0.95)


def _material(sheet: ProductSheet, lang: Lang) -> Draft | None:
    if sheet.facts.material:
        text = _TEXT[lang]["material"].format(value=_sentence(sheet.facts.material))
        return Draft(text, "material", "facts.material", 0.9)
    found = _attribute(sheet, "材质", "面料", "成分", "材料", "质地")
    if found:
        text = _TEXT[lang]["material"].format(value=_sentence(found[1]))
        return Draft(text, "material", f"attributes.{found[0]}", 0.8)
    return None


def _shipping(sheet: ProductSheet, lang: Lang) -> Draft | None:
    if sheet.facts.shipping_promise:
        text = _TEXT[lang]["shipping"].format(value=_sentence(sheet.facts.shipping_promise))
        return Draft(text, "shipping", "facts.shipping_promise", 0.9)
    found = _attribute(sheet, "发货")
    if found:
        text = _TEXT[lang]["ship_from"].format(value=_sentence(found[1]))
        return Draft(text, "shipping", f"attributes.{found[0]}", 0.6)
    return None


def _usage(sheet: ProductSheet, lang: Lang) -> Draft | None:
    if sheet.facts.usage:
        text = _TEXT[lang]["usage"].format(value=_sentence(sheet.facts.usage))
        return Draft(text, "usage", "facts.usage", 0.85)
    return None


# Size: the viewer's height and weight (never echoed back, see the module doc).
_HEIGHT_M = re.compile(r"(?<![0-9.])1(?:米|m|\.)([0-9]{1,2})(?![0-9])")
_HEIGHT_CM = re.compile(r"(?<![0-9.])(1[0-9]{2}|2[0-4][0-9])(?![0-9])\s*(?:cm|厘米|公分)?")
_WEIGHT = re.compile(r"(?<![0-9.])([0-9]{2,3}(?:\.[0-9])?)\s*(斤|kg|公斤|千克)")
_WEIGHT_BARE = re.compile(r"体重\s*([0-9]{2,3}(?:\.[0-9])?)(?![0-9])")


def viewer_height_weight(folded: str) -> tuple[float | None, float | None]:
    """Height in cm and weight in kg that a folded question states, if any. A bare
    weight after 体重 of 80 or more is read as 斤 (how viewers usually say it)."""
    weight: float | None = None
    m = _WEIGHT.search(folded)
    if m:
        value = float(m.group(1))
        weight = value / 2 if m.group(2) == "斤" else value
        folded = folded[: m.start()] + " " + folded[m.end() :]
    else:
        bare = _WEIGHT_BARE.search(folded)
        if bare:
            value = float(bare.group(1))
            weight = value / 2 if value >= 80 else value
            folded = folded[: bare.start()] + " " + folded[bare.end() :]
    height: float | None = None
    m = _HEIGHT_M.search(folded)
    if m:
        digits = m.group(1)
        height = 100 + float(digits if len(digits) == 2 else digits + "0")
    else:
        m2 = _HEIGHT_CM.search(folded)
        if m2:
            height = float(m2.group(1))
    if height is not None and not 120 <= height <= 220:
        height = None
    if weight is not None and not 20 <= weight <= 200:
        weight = None
    return height, weight


def _row_text(row: SizeRow, lang: Lang) -> str:
    t = _TEXT[lang]
    parts = []
    if row.height_cm:
        parts.append(t["height"].format(lo=row.height_cm[0], hi=row.height_cm[1]))
    if row.weight_kg:
        parts.append(t["weight"].format(lo=row.weight_kg[0], hi=row.weight_kg[1]))
    if row.note:
        parts.append(row.note)
    return ("，" if lang == "zh-CN" else ", ").join(parts)


def _chart_text(rows: Sequence[SizeRow], lang: Lang) -> str:
    sep = _TEXT[lang]["sep"]
    return sep.join(f"{r.size} {_row_text(r, lang)}".strip() for r in rows)


def _fits(pair: tuple[int, int] | None, value: float | None) -> bool:
    return pair is not None and value is not None and pair[0] <= value <= pair[1]


def _sizes_of_skus(skus: Iterable[PoolSku]) -> list[str]:
    sizes: list[str] = []
    for sku in skus:
        for key, value in sku.spec.items():
            if ("码" in key or "尺" in key or key.lower() == "size") and value not in sizes:
                sizes.append(str(value))
    return sizes


def _size(sheet: ProductSheet, folded: str, lang: Lang) -> Draft | None:
    t = _TEXT[lang]
    rows = sheet.facts.size_chart
    if not rows:
        sizes = _sizes_of_skus(sheet.skus)
        if sizes:
            return Draft(t["size_specs"].format(sizes=" / ".join(sizes)), "size", "skus", 0.4)
        return None
    height, weight = viewer_height_weight(folded)
    if height is None and weight is None:
        return Draft(
            t["size_chart"].format(chart=_chart_text(rows, lang)), "size", "facts.size_chart", 0.7
        )
    both = [r for r in rows if (height is None or _fits(r.height_cm, height))
            and (weight is None or _fits(r.weight_kg, weight))]  # fmt: skip
    if both:
        row = both[-1]  # overlapping ranges: the larger size is the safer advice
        text = t["size_fit"].format(size=row.size, row=_row_text(row, lang))
        return Draft(text, "size", "facts.size_chart", 0.9)
    by_height = [r for r in rows if _fits(r.height_cm, height)]
    by_weight = [r for r in rows if _fits(r.weight_kg, weight)]
    if by_height and by_weight:
        order = {r.size: n for n, r in enumerate(rows)}
        h, w = by_height[-1], by_weight[-1]
        pick = h if order[h.size] >= order[w.size] else w
        text = t["size_two"].format(by_height=h.size, by_weight=w.size, size=pick.size)
        return Draft(text, "size", "facts.size_chart", 0.75)
    return Draft(
        t["size_none"].format(chart=_chart_text(rows, lang)), "size", "facts.size_chart", 0.5
    )


def _mentions(folded: str, value: str) -> bool:
    v = fold(value).strip()
    if not v:
        return False
    if v.isascii():  # "m" must not match inside "xl" or "cm"
        return re.search(rf"(?<![0-9a-z]){re.escape(v)}(?![0-9a-z])", folded) is not None
    return v in folded


def _spec_text(sku: PoolSku) -> str:
    return " ".join(str(v) for v in sku.spec.values()) or sku.code


def _stock(sheet: ProductSheet, folded: str, lang: Lang, low: int) -> Draft:
    t, words = _TEXT[lang], _STOCK_TEXT[lang]
    limit = t["limit"].format(n=sheet.max_per_user) if sheet.max_per_user is not None else ""
    # The SKUs whose every mentioned spec value is in the question ("红色M码还有吗").
    named = [s for s in sheet.skus if any(_mentions(folded, str(v)) for v in s.spec.values())]
    if named:
        best = max(sum(_mentions(folded, str(v)) for v in s.spec.values()) for s in named)
        named = [
            s for s in named if sum(_mentions(folded, str(v)) for v in s.spec.values()) == best
        ]
        lines = [
            t["stock_sku"].format(spec=_spec_text(s), word=words[stock_word(s.available, low)])
            for s in named[:5]
        ]
        text = t["sep"].join(lines) + ("。" if lang == "zh-CN" else ".")
        return Draft(text + (" " if lang == "en" and limit else "") + limit, "stock", "skus", 0.85)
    total = sum(s.available for s in sheet.skus)
    word = words[stock_word(total, low)]
    gone = [_spec_text(s) for s in sheet.skus if s.available <= 0]
    if total > 0 and gone and len(sheet.skus) > 1:
        text = t["stock_some"].format(word=word, gone=" / ".join(gone[:5]))
    else:
        text = t["stock_all"].format(word=word)
    if lang == "en":
        text = text[0].upper() + text[1:] + (" " if limit else "")
    return Draft(text + limit, "stock", "skus", 0.8)


# --- retrieval over the supplier's texts -----------------------------------------------------

_STOP = frozenset(
    [
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "嘛",
        "么",
        "的",
        "了",
        "是",
        "这",
        "个",
        "这个",
        "这款",
        "款",
        "那",
        "那个",
        "有",
        "没",
        "没有",
        "有没有",
        "能",
        "能不能",
        "可以",
        "可不可以",
        "不",
        "会",
        "会不会",
        "请问",
        "主播",
        "宝宝",
        "亲",
        "亲亲",
        "家人们",
        "姐妹",
        "姐妹们",
        "我",
        "你",
        "他",
        "她",
        "们",
        "我们",
        "一下",
        "什么",
        "啥",
        "怎么",
        "怎样",
        "如何",
        "多少",
        "哦",
        "哈",
        "呃",
        "嗯",
        "还",
        "都",
        "也",
        "就",
        "要",
        "想",
        "问",
        "下",
        "吗吗",
        "呗",
        "咋",
        "咋样",
        "么么",
        "到底",
        "给",
        "和",
        "跟",
        "与",
        "或",
        "在",
        "对",
        "用于",
        "几",
        "不会",
        "是不是",
        "有木有",
        "嘞",
    ]
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]+")

_jieba_lock = threading.Lock()
_jieba_ready = False


def _words(text: str) -> list[str]:
    global _jieba_ready
    import jieba  # type: ignore[import-untyped]

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(60)
                jieba.initialize()
                _jieba_ready = True
    return [w for w in jieba.lcut(text, HMM=False) if w.strip() and w not in _STOP]


def tokens(text: str) -> list[str]:
    """BM25 terms of a text: its jieba words (stop words out) and, inside each run of
    Chinese characters, the character bigrams (so 机洗 finds 可以机洗 however jieba cut it)."""
    words = _words(fold(text))
    out = list(words)
    runs = re.findall(r"[\u4e00-\u9fff]+", "".join(w if _CJK.match(w) else " " for w in words))
    for run in runs:
        out += [run[i : i + 2] for i in range(len(run) - 1)]
    return out


def _content_chars(words: Iterable[str]) -> set[str]:
    return {c for w in words for c in w if c.strip()}


@dataclass(frozen=True)
class _Passage:
    text: str  # what the draft says
    match: str  # what the question is matched against
    source: str
    weight: float  # an FAQ the supplier wrote for questions outranks a description line


def passages(sheet: ProductSheet) -> list[_Passage]:
    """The supplier's texts a question can be answered from, each one answer."""
    out = [
        _Passage(_sentence(e.a), f"{e.q} {e.a}", f"facts.faq[{n}]", 1.0)
        for n, e in enumerate(sheet.facts.faq)
    ]
    for n, part in enumerate(_SENTENCE_END.split(sheet.description)):
        if part.strip():
            out.append(_Passage(_sentence(part.strip()), part, f"description[{n}]", 0.8))
    for key, value in sheet.attributes.items():
        if isinstance(value, str) and value:
            out.append(_Passage(f"{key}：{value}", f"{key} {value}", f"attributes.{key}", 0.8))
    return out


def retrieve(sheet: ProductSheet, question: str) -> Draft | None:
    """The supplier's text that answers the question best, if it covers enough of it."""
    import bm25s

    query = tokens(question)
    chars = _content_chars(w for w in _words(fold(question)))
    found = passages(sheet)
    if not query or not chars or not found:
        return None
    corpus = [tokens(p.match) or [""] for p in found]
    index = bm25s.BM25()
    index.index(corpus, show_progress=False)
    scores = index.get_scores(query)
    best: tuple[float, float, int] | None = None
    for n, passage in enumerate(found):
        if scores[n] <= 0:
            continue
        have = set(corpus[n])
        covered = _content_chars(t for t in query if t in have) & chars
        coverage = len(covered) / len(chars)
        if coverage < MIN_COVERAGE:
            continue
        key = (float(scores[n]) * passage.weight, coverage, -n)
        if best is None or key > (best[0], best[1], -best[2]):
            best = (key[0], coverage, n)
    if best is None:
        return None
    passage = found[best[2]]
    slot: Slot = (
        "faq"
        if passage.source.startswith("facts.faq")
        else "attribute"
        if passage.source.startswith("attributes.")
        else "description"
    )
    text = passage.text + ("" if passage.text.endswith(("。", ".", "！", "?", "？")) else "。")
    return Draft(text, slot, passage.source, round(best[1] * passage.weight, 2))


# --- the entry point ----------------------------------------------------------------------


def draft_answers(
    sheet: ProductSheet, question: str, *, lang: Lang = "zh-CN", low_stock: int = LOW_STOCK
) -> list[Draft]:
    """Drafts answering ``question`` about ``sheet``'s product, best first (at least one;
    an "I don't know" draft when the data has nothing)."""
    folded = fold(question)
    drafts: list[Draft] = []
    slots = slots_of(folded)
    if (
        not slots
        and "有" in folded
        and any(_mentions(folded, str(v)) for s in sheet.skus for v in s.spec.values())
    ):
        slots = ["stock"]  # "有M码吗", "有红色的吗": a SKU named with 有 asks for stock
    for slot in slots:
        draft: Draft | None
        if slot == "price":
            draft = _price(sheet, folded, lang)
        elif slot == "stock":
            draft = _stock(sheet, folded, lang, low_stock)
        elif slot == "size":
            draft = _size(sheet, folded, lang)
        elif slot == "material":
            draft = _material(sheet, lang)
        elif slot == "shipping":
            draft = _shipping(sheet, lang)
        else:
            draft = _usage(sheet, lang)
        if draft is None:  # the slot's field is empty: maybe the FAQ says it
            draft = retrieve(sheet, question) or _dont_know(lang, slot)
        drafts.append(draft)
    if not drafts or all(d.slot == "unknown" for d in drafts):
        found = retrieve(sheet, question) if folded.strip() else None
        if found is not None:
            drafts = [found]
    if not drafts:
        drafts = [_dont_know(lang)]
    unique: list[Draft] = []
    for d in drafts:
        if d.text not in {u.text for u in unique}:
            unique.append(d)
    return unique[:MAX_DRAFTS]
