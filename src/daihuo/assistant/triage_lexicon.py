"""The triage normaliser's small hand-written lexicon: slang, pinyin, English and emoji.

Every entry rewrites something a viewer types into the plain simplified Chinese the
labelled corpus (data/assistant/comments.tsv) is written in, so the character n-gram
model sees words it was trained on. Entries are kept general (common live-room and
internet usage), not tuned to single test items; README "Assistant: comment triage"
says how this affects the hard-set number.

``WORDS`` is matched on whole Latin/digit tokens after NFKC and lower-casing ("lj" in
"求lj" is a token; "lj" inside "hello" is not). ``PHRASES`` and ``EMOJI`` are plain
substring replacements applied before tokens.
"""

from __future__ import annotations

from typing import Final

# Internet abbreviations written in pinyin initials, and pinyin or English words.
WORDS: Final[dict[str, str]] = {
    # praise and chat
    "yyds": "永远的神",
    "xswl": "笑死我了",
    "awsl": "啊我死了",
    "nb": "牛",
    "nbcs": "牛",
    "tql": "太强了",
    "u1s1": "有一说一",
    "srds": "虽然但是",
    "zqsg": "真情实感",
    "plmm": "漂亮妹妹",
    "jms": "姐妹们",
    "zb": "主播",
    "zhubo": "主播",
    "hh": "哈哈",
    "hhh": "哈哈哈",
    "hello": "你好",
    "hi": "你好",
    "nihao": "你好",
    "good": "好",
    "night": "晚安",
    "bye": "拜拜",
    "laile": "来了",
    "dbq": "对不起",
    # buying
    "lj": "链接",
    "lianjie": "链接",
    "link": "链接",
    "shanglianjie": "上链接",
    "gkd": "搞快点",
    "kdl": "快点",
    "xiangyao": "想要",
    "yipai": "已拍",
    "paile": "拍了",
    "order": "下单",
    "buy": "买",
    "want": "想要",
    # questions
    "duoshaoqian": "多少钱",
    "duoshao": "多少",
    "baoyou": "包邮",
    "size": "尺码",
    "color": "颜色",
    "price": "价格",
    "stock": "库存",
    # after-sales
    "tuikuan": "退款",
    "tuihuo": "退货",
    "refund": "退款",
    "kefu": "客服",
    # contact details and abuse
    "wx": "微信",
    "vx": "微信",
    "v": "微信",
    "weixin": "微信",
    "wechat": "微信",
    "qq": "扣扣",
    "tb": "淘宝",
    "pdd": "拼多多",
    "free": "免费",
    "sb": "傻逼",
    "nmsl": "你妈死了",
    "tmd": "他妈的",
    "cnm": "操你妈",
    "nt": "脑瘫",
    # common single pinyin syllables (only whole tokens, so English words are unaffected)
    "ma": "吗",
    "le": "了",
    "you": "有",
    "mei": "没",
    "wo": "我",
    "yao": "要",
    "jia": "加",
    "hao": "好",
    "lai": "来",
    "huo": "货",
    "shang": "上",
    "qian": "钱",
    "ok": "好",
    # common English words in comments from abroad
    "thanks": "谢谢",
    "thx": "谢谢",
    "nice": "好看",
    "love": "爱了",
    "beautiful": "好美",
    "pretty": "好看",
    "cute": "可爱",
    "cheap": "便宜",
    "shipping": "运费",
}

# Regional vocabulary (after traditional→simplified conversion), homophone spellings used
# on purpose to dodge word filters, and a few English phrases.
PHRASES: Final[dict[str, str]] = {
    "连结": "链接",
    "连接": "链接",
    "薇信": "微信",
    "威信": "微信",
    "徽信": "微信",
    "维信": "微信",
    "加薇": "加微信",
    "企鹅号": "扣扣",
    "米有": "没有",
    "木有": "没有",
    "how much": "多少钱",
    "in stock": "有货",
    "thank you": "谢谢",
    "啥": "什么",
    "咋": "怎么",
}

# Emoji that carry a meaning in a live room; other emoji become one placeholder.
EMOJI: Final[dict[str, str]] = {
    "🔗": "链接",
    "👍": "赞",
    "💰": "钱",
    "💴": "钱",
    "🛒": "买",
    "💩": "垃圾",
    "🖕": "滚",
    "📱": "电话",
    "☎": "电话",
    "📞": "电话",
}
