"""The pages' text: zh-CN first, English second. Keys are English identifiers."""

from __future__ import annotations

from typing import Literal

from daihuo.catalog.domain import TRACE_STEPS

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

TEXT: dict[str, tuple[str, str]] = {
    "title": ("产品溯源", "Product provenance"),
    "supplier": ("供应商", "Supplier"),
    "batch": ("批次", "Batch"),
    "quantity": ("数量", "Quantity"),
    "notes": ("备注", "Notes"),
    "timeline": ("溯源记录", "Trace steps"),
    "place": ("地点", "Place"),
    "evidence": ("凭证", "Evidence"),
    "entry": ("日志记录", "Log entry"),
    "proof": ("包含证明", "Inclusion proof"),
    "leaf": ("日志序号", "Leaf index"),
    "no_steps": ("暂无记录", "No steps recorded yet"),
    "zone": ("北京时间", "UTC+8"),
    "qr": ("扫码查看本页", "Scan to open this page"),
    "switch": ("English", "中文"),
    "not_found": ("找不到该批次", "No such batch"),
    "not_found_detail": (
        "请检查包装上的二维码或链接是否完整。",
        "Check that the QR code or link on the package is complete.",
    ),
    "how": (
        "每条溯源记录都写入公开的透明日志。本页在您的浏览器中用 WebCrypto 校验日志检查点的"
        " Ed25519 签名和每条记录的默克尔包含证明，标记“已验证”不依赖本站数据库的说法。",
        "Every step is written to a public transparency log. This page checks the log"
        " checkpoint's Ed25519 signature and each step's Merkle inclusion proof in your"
        " browser with WebCrypto: a “verified” mark does not rest on this site's database.",
    ),
    "noscript": (
        "需要启用 JavaScript 才能在浏览器中验证。",
        "Enable JavaScript to verify the steps in your browser.",
    ),
    "log_status": ("日志检查点", "Log checkpoint"),
    # Shown by the script (provenance.js); {size} and {name} are filled in there.
    "verifying": ("验证中…", "verifying…"),
    "verified": ("已验证", "verified"),
    "failed": ("未通过验证", "failed"),
    "pending": ("待写入日志", "pending: not in the log yet"),
    "checkpoint_ok": (
        "已验证：共 {size} 条记录，签名密钥 {name}",
        "verified: {size} entries, signed by {name}",
    ),
    "checkpoint_failed": ("未通过验证", "failed"),
    "no_webcrypto": (
        "浏览器不支持 WebCrypto 的 Ed25519 或 SHA-256",
        "this browser lacks WebCrypto Ed25519 or SHA-256",
    ),
    "log_unavailable": ("日志暂不可用", "the log is unavailable"),
    "fetch_failed": ("无法获取日志数据", "could not fetch the log data"),
    "bad_key": ("公钥格式错误", "malformed verifier key"),
    "checkpoint_malformed": ("检查点格式错误", "malformed checkpoint"),
    "bad_signature": ("检查点签名无效", "the checkpoint's signature does not verify"),
    "no_known_signature": (
        "检查点没有已发布公钥的签名",
        "the checkpoint is not signed by a published key",
    ),
    "wrong_origin": ("检查点来自其他日志", "the checkpoint belongs to another log"),
    "not_in_checkpoint": ("该记录不在已签名的树中", "the entry is beyond the signed tree"),
    "entry_missing": ("日志中找不到该记录", "the log has no such entry"),
    "entry_differs": (
        "日志记录与页面显示不一致",
        "the log entry differs from what this page shows",
    ),
    "proof_malformed": ("包含证明格式错误", "malformed inclusion proof"),
    "proof_mismatch": (
        "包含证明与已签名的根哈希不符",
        "the inclusion proof does not lead to the signed root",
    ),
}


def messages(lang: Lang) -> dict[str, str]:
    i = LANGS.index(lang)
    return {key: pair[i] for key, pair in TEXT.items()}


def step_label(step: str, lang: Lang) -> str:
    labels = TRACE_STEPS.get(step)
    return step if labels is None else labels[LANGS.index(lang)]


def pick_lang(value: str | None) -> Lang:
    return "en" if value == "en" else "zh"
