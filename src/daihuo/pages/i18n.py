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


# --- the console (console.py, templates/console/) ----------------------------------
CONSOLE: dict[str, tuple[str, str]] = {
    "console": ("带货控制台", "Daihuo console"),
    "skip": ("跳到正文", "Skip to content"),
    "lang_switch": ("English", "中文"),
    "nav_dashboard": ("概览", "Dashboard"),
    "nav_sessions": ("直播场次", "Sessions"),
    "nav_products": ("商品", "Products"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出登录", "Sign out"),
    "sign_in_title": ("登录带货控制台", "Sign in to the Daihuo console"),
    "email": ("邮箱", "E-mail"),
    "password": ("密码", "Password"),
    "err_email_required": ("请输入邮箱", "Enter your e-mail address"),
    "err_email_invalid": ("邮箱格式不正确", "This is not an e-mail address"),
    "err_password_required": ("请输入密码", "Enter your password"),
    "err_too_long": ("内容过长", "This is too long"),
    "err_credentials": ("邮箱或密码错误", "Wrong e-mail or password"),
    "err_rate_limited": (
        "登录失败次数过多，请稍后再试",
        "Too many failed sign-ins; try again later",
    ),
    "err_csrf": (
        "页面已过期，请重新提交",
        "This form has expired; please submit it again",
    ),
    "signed_in_as": ("当前账号", "Signed in as"),
    "merchant_only": (
        "控制台的这一部分目前只面向商家账号。",
        "This part of the console is for merchant accounts for now.",
    ),
    "no_tenant": (
        "该账号不属于任何商家或供应商。",
        "This account belongs to no merchant or supplier.",
    ),
    "dashboard_title": ("经营概览", "Dashboard"),
    "recent_sessions": ("最近场次", "Recent sessions"),
    "trend": ("近期趋势", "Trend"),
    # The live tiles of the dashboard (web/src/console.js updates them every second).
    "live_now": ("正在直播", "Live now"),
    "live_updating": ("实时更新中", "Updating live"),
    "live_reconnecting": ("连接中断，正在重连…", "Connection lost, reconnecting…"),
    "live_ended": ("本场已结束", "This session has ended"),
    "live_online": ("当前在线", "Online now"),
    "last_minute": ("上一分钟", "Last minute"),
    "lm_views": ("进入人次", "Entries"),
    "lm_comments": ("评论", "Comments"),
    "lm_likes": ("点赞", "Likes"),
    "lm_orders": ("订单", "Orders"),
    "lm_gmv": ("成交金额", "GMV"),
    "top_products": ("热卖商品", "Top products"),
    "product_clicks": ("点击人数", "Clicks"),
    "no_sales_yet": ("暂无成交或点击", "No sales or clicks yet"),
    "all_sessions": ("全部场次", "All sessions"),
    "no_sessions": ("还没有直播场次", "No live sessions yet"),
    "no_figures": ("暂无数据", "No figures yet"),
    "sessions_title": ("直播场次", "Live sessions"),
    "title_col": ("标题", "Title"),
    "state": ("状态", "State"),
    "planned_start": ("计划开播", "Planned start"),
    "started_at": ("开播时间", "Started"),
    "ended_at": ("结束时间", "Ended"),
    "state_scheduled": ("待开播", "Scheduled"),
    "state_live": ("直播中", "Live"),
    "state_ended": ("已结束", "Ended"),
    "open_review": ("查看复盘", "Review"),
    "open_session": ("查看", "Open"),
    "more": ("加载更多", "Load more"),
    "review_title": ("直播复盘", "Session review"),
    "not_finished": (
        "该场次尚未结束，以下为目前为止的数据。",
        "This session has not ended; the figures below are so far.",
    ),
    "no_events": ("该场次还没有记录到事件。", "No events of this session are recorded yet."),
    "session_missing": ("找不到该场次", "No such session"),
    "headline": ("核心指标", "Headline figures"),
    "all_metrics": ("全部指标", "All figures"),
    "metric": ("指标", "Figure"),
    "value": ("数值", "Value"),
    "charts": ("分钟趋势", "Per minute"),
    "funnel": ("转化漏斗", "Funnel"),
    "products_table": ("商品表现", "Products"),
    "sources_table": ("流量来源", "Traffic sources"),
    "source": ("来源", "Source"),
    "product": ("商品", "Product"),
    "minute": ("分钟", "Minute"),
    "export": ("导出", "Export"),
    "export_csv": ("下载 CSV", "Download CSV"),
    "export_html": ("HTML 复盘报告", "HTML review"),
    "authenticity": ("数据真实性", "Data authenticity"),
    "authenticity_loading": ("正在检测…", "Scanning…"),
    "authenticity_failed": ("检测失败", "The scan failed"),
    "score": ("真实性评分", "Authenticity score"),
    "raw": ("原始", "Raw"),
    "verified_col": ("核验后", "Verified"),
    "difference": ("差值", "Difference"),
    "findings": ("检测发现", "Findings"),
    "no_findings": ("未发现可疑行为", "Nothing suspicious found"),
    "subject": ("对象", "Subject"),
    "kind": ("类型", "Kind"),
    "reasons": ("原因", "Reasons"),
    "suspicious_users": ("可疑用户", "Suspicious users"),
    "suspicious_orders": ("可疑订单", "Suspicious orders"),
    "show_all": ("显示全部", "Show all"),
    "show_less": ("收起", "Show fewer"),
    "kind_bot_audience": ("机器人观众", "Bot audience"),
    "kind_comment_farm": ("刷评论", "Comment farm"),
    "kind_like_farm": ("刷点赞", "Like farm"),
    "kind_brushing": ("刷单", "Brushing"),
    "ledger": ("透明日志", "Transparency log"),
    "ledger_proof": ("复盘报告的包含证明", "Inclusion proof of the report"),
    "ledger_none": (
        "该场次的复盘报告尚未写入透明日志。",
        "The session's report is not in the transparency log yet.",
    ),
    "ledger_entry": ("日志序号 {index}，树大小 {size}", "Leaf {index} of a tree of {size}"),
    "checkpoint": ("已签名检查点", "Signed checkpoint"),
    "nav_analytics": ("跨场分析", "Across sessions"),
    "markers": ("讲解与秒杀标记", "Pins and flash sales"),
    "marker_pin": ("讲解", "Pinned"),
    "marker_flash_sale": ("秒杀", "Flash sale"),
    "marker_kind": ("类型", "Kind"),
    "marker_from": ("开始", "From"),
    "marker_to": ("结束", "To"),
    "no_markers": ("本场没有讲解或秒杀记录", "No pinned products or flash sales"),
    "compare_title": ("与往期场次对比", "Compared with previous sessions"),
    "compare_note": (
        "对比本商家此前已结束的 {n} 场直播，取中位数。",
        "Against the median of the merchant's {n} previous ended sessions.",
    ),
    "compare_none": (
        "没有可对比的往期场次。",
        "There is no previous session to compare with.",
    ),
    "this_session": ("本场", "This session"),
    "median": ("往期中位数", "Previous median"),
    "change": ("变化", "Change"),
    "analytics_title": ("跨场分析", "Across sessions"),
    "analytics_supplier_note": (
        "仅统计本供应商的商品在各商家直播中的成交，不含商家的其他数据。",
        "Only your products' sales in merchants' sessions; no other merchant data.",
    ),
    "period": ("统计周期", "Period"),
    "days_n": ("近 {n} 天", "Last {n} days"),
    "hours_note": (
        "按下单时间的北京时间（Asia/Shanghai）小时统计。",
        "By the hour of ordering, Beijing time (Asia/Shanghai).",
    ),
    "sessions_over_time": ("各场次成交", "Sales by session"),
    "best_products": ("热销商品", "Best products"),
    "best_hours": ("黄金时段", "Best hours"),
    "hour": ("时段", "Hour"),
    "date": ("日期", "Date"),
    "session": ("场次", "Session"),
    "merchant": ("商家", "Merchant"),
    "sessions_count": ("场次数", "Sessions"),
    "no_sales": ("这段时间没有成交", "No sales in this period"),
    "products_title": ("我的商品", "My products"),
    "price": ("价格", "Price"),
    "category": ("类目", "Category"),
    "stock": ("库存", "Stock"),
    "no_products": ("还没有商品", "No products yet"),
}

# The metric dictionary's names (shared/spec/metrics.md), by JSON key.
METRIC_NAMES: dict[str, tuple[str, str]] = {
    "duration_seconds": ("直播时长", "Duration"),
    "exposure_uv": ("曝光人数", "Exposure UV"),
    "viewer_uv": ("观看人数", "Viewers"),
    "views_pv": ("观看次数", "Views"),
    "entry_rate": ("曝光-观看率", "Entry rate"),
    "pcu": ("最高在线", "Peak online (PCU)"),
    "acu": ("平均在线", "Average online (ACU)"),
    "total_watch_seconds": ("总观看时长", "Total watch time"),
    "avg_watch_seconds": ("人均观看时长", "Average watch time"),
    "online_per_minute": ("在线人数曲线", "Online per minute"),
    "new_viewers_per_minute": ("进入人数曲线", "Entries per minute"),
    "comment_count": ("评论次数", "Comments"),
    "like_count": ("点赞次数", "Likes"),
    "share_count": ("分享次数", "Shares"),
    "follow_uv": ("新增粉丝", "New followers"),
    "interaction_uv": ("互动人数", "Interacting users"),
    "interaction_rate": ("互动率", "Interaction rate"),
    "product_impression_uv": ("商品曝光人数", "Product impression UV"),
    "product_click_uv": ("商品点击人数", "Product click UV"),
    "product_ctr": ("商品点击率", "Product CTR"),
    "cart_uv": ("加购人数", "Add-to-cart UV"),
    "order_count": ("成交订单数", "Paid orders"),
    "buyer_uv": ("成交人数", "Buyers"),
    "items_sold": ("成交件数", "Items sold"),
    "gmv": ("成交金额", "GMV"),
    "conversion_rate": ("观看-成交转化率", "Conversion rate"),
    "gpm": ("千次观看成交金额", "GPM"),
    "uv_value": ("UV价值", "UV value"),
    "aov": ("客单价", "Average order value"),
    "refund_amount": ("退款金额", "Refunds"),
    "refund_rate": ("退款率", "Refund rate"),
    "gmv_per_minute": ("成交金额曲线", "GMV per minute"),
    "net_gmv": ("退款后成交金额", "GMV net of refunds"),
    # the products table's columns
    "impression_uv": ("曝光人数", "Impression UV"),
    "click_uv": ("点击人数", "Click UV"),
    "ctr": ("点击率", "CTR"),
}
# The consumer's live room (pages/live_room.py, web/src/live.js).
LIVE_ROOM: dict[str, tuple[str, str]] = {
    "lr_title": ("直播间", "Live room"),
    "lr_missing": ("找不到这场直播", "No such live session"),
    "lr_online": ("在线", "online"),
    "lr_likes": ("点赞", "likes"),
    "lr_scheduled": ("直播尚未开始", "The session has not started yet"),
    "lr_ended": ("直播已结束", "The session has ended"),
    "lr_live": ("直播中", "Live"),
    "lr_explaining": ("正在讲解", "Now explaining"),
    "lr_no_pin": ("主播还没有开始讲解商品", "The host is not explaining a product yet"),
    "lr_products": ("商品", "Products"),
    "lr_buy": ("购买", "Buy"),
    "lr_sign_in_to_buy": ("登录后购买", "Sign in to buy"),
    "lr_comment": ("说点什么…", "Say something…"),
    "lr_send": ("发送", "Send"),
    "lr_like": ("点赞", "Like"),
    "lr_comments": ("评论", "Comments"),
    "lr_flash": ("秒杀", "Flash sale"),
    "lr_flash_left": ("剩余 {n} 件", "{n} left"),
    "lr_flash_ends": ("距结束 {s}", "ends in {s}"),
    "lr_flash_buy": ("立即抢购", "Grab it"),
    "lr_sold_out": ("已抢光", "Sold out"),
    "lr_reconnecting": ("连接中断，正在重连…", "Connection lost, reconnecting…"),
    "lr_paying": ("正在下单…", "Placing the order…"),
    "lr_refused": ("未能完成：{why}", "Not done: {why}"),
    "lr_rate_limited": ("发言太快了，请稍后再试", "Too fast; try again in a moment"),
    "lr_muted": ("你已被禁言", "You are muted"),
    "lr_slow_mode": ("慢速模式中，请稍后再发", "Slow mode: wait a little"),
    "lr_price": ("价格", "Price"),
    "lr_coupon": ("优惠券", "Coupon"),
    "lr_coupon_off": ("满{threshold}减{amount}", "{amount} off orders over {threshold}"),
    "lr_coupon_any": ("无门槛减{amount}", "{amount} off any order"),
    "lr_claim": ("领取", "Claim"),
    "lr_claimed": ("已领取", "Claimed"),
    "lr_sign_in_to_claim": ("登录后领取", "Sign in to claim"),
    "lr_coupon_closed": ("领取已结束", "No longer claimable"),
    "lr_claim_until": ("{s} 后截止", "closes in {s}"),
    "lr_draw": ("福袋", "Lucky draw"),
    "lr_draw_comment": ("评论“{keyword}”即可参与", "Comment “{keyword}” to enter"),
    "lr_draw_follow": ("关注主播即可参与", "Follow the host to enter"),
    "lr_draw_join": ("一键参与", "Enter"),
    "lr_draw_joined": ("已参与", "Entered"),
    "lr_sign_in_to_join": ("登录后参与", "Sign in to enter"),
    "lr_draw_result": ("已开奖：{n} 人中奖，共 {m} 人参与", "Drawn: {n} winners of {m} entrants"),
    "lr_draw_won": ("恭喜，你中奖了！", "You won!"),
    "lr_draw_proof": ("查看公平性证明", "Check that it was fair"),
}
# The supply pool page (pages/pool.py).
POOL: dict[str, tuple[str, str]] = {
    "nav_pool": ("选品库", "Supply pool"),
    "pool_title": ("选品库", "Supply pool"),
    "pool_search": ("搜索", "Search"),
    "pool_words": ("关键词", "Words"),
    "pool_words_hint": ("如：真丝 连衣裙", "e.g. silk dress"),
    "pool_price_min": ("最低价（元）", "Price from (yuan)"),
    "pool_price_max": ("最高价（元）", "Price up to (yuan)"),
    "pool_commission_min": ("佣金率不低于（%）", "Commission at least (%)"),
    "pool_stock_min": ("库存不少于", "Stock at least"),
    "pool_sort": ("排序", "Sort by"),
    "pool_sort_newest": ("最新上架", "Newest"),
    "pool_sort_sales": ("销量从高到低", "Best selling"),
    "pool_sort_commission": ("佣金率从高到低", "Highest commission"),
    "pool_sort_price": ("价格从低到高", "Cheapest"),
    "pool_results": ("搜索结果", "Results"),
    "pool_empty": ("没有符合条件的商品", "No product matches"),
    "pool_skus": ("{n} 个规格", "{n} SKUs"),
    "pool_range": ("售价区间", "Selling price range"),
    "pool_commission": ("佣金率", "Commission"),
    "pool_sales": ("销量", "Sales"),
    "pool_in_showcase": ("已在橱窗", "In your showcase"),
    "pool_your_price": ("你的售价（元）", "Your price (yuan)"),
    "pool_pick": ("加入橱窗", "Add to showcase"),
    "pool_picked": ("已加入橱窗", "Added to your showcase"),
    "pool_pages": ("翻页", "Pages"),
    "pool_first": ("第一页", "First page"),
    "pool_next": ("下一页", "Next page"),
    "pool_err_amount": (
        "请输入以元为单位的金额，最多两位小数",
        "Type an amount in yuan with at most two decimals",
    ),
    "pool_err_percent": (
        "请输入 0 到 90 之间的百分比，最多两位小数",
        "Type a percentage from 0 to 90 with at most two decimals",
    ),
    "pool_err_whole": ("请输入非负整数", "Type a whole number"),
    "pool_err_range": ("最高价不能低于最低价", "The upper price is below the lower one"),
    "pool_err_sort": ("未知的排序方式", "Unknown sort order"),
    "pool_err_cursor": (
        "翻页链接已失效，请从第一页重新开始",
        "This page link is no longer valid; start again from the first page",
    ),
    "pool_err_price_range": (
        "售价必须在供应商允许的区间内",
        "The price must be inside the supplier's range",
    ),
    "pool_err_already": ("该商品已在你的橱窗中", "This product is already in your showcase"),
    "pool_err_gone": ("该商品已下架或不存在", "This product is no longer in the pool"),
    "pool_denied": ("你的角色不能查看选品库", "Your role cannot see the supply pool"),
    "pool_pick_denied": (
        "只有商家的运营、管理员和所有者可以选品",
        "Only a merchant's operators, admins and owners can pick products",
    ),
}
# The merchant's live big screen (直播大屏): /console/sessions/{id}/screen.
SCREEN: dict[str, tuple[str, str]] = {
    "screen_title": ("直播大屏", "Live big screen"),
    "open_screen": ("打开直播大屏", "Open the live big screen"),
    "screen_back": ("返回场次页", "Back to the session"),
    "screen_curve": ("每分钟在线人数", "Online per minute"),
    "screen_comments": ("实时评论", "Live comments"),
    "screen_no_comments": ("暂无评论", "No comments yet"),
    "screen_pinned_comment": ("置顶评论", "Pinned comment"),
    "screen_pin_comment": ("置顶", "Pin"),
    "screen_unpin_comment": ("取消置顶", "Unpin"),
    "screen_delete_comment": ("删除", "Delete"),
    "screen_products": ("本场商品", "Products of this session"),
    "screen_pin": ("讲解", "Pin"),
    "screen_unpin": ("取消讲解", "Unpin"),
    "screen_pinned": ("讲解中", "Pinned now"),
    "screen_price": ("售价", "Price"),
    "screen_not_live": (
        "本场不在直播中，大屏只显示目前为止的数据。",
        "This session is not live: the screen shows the figures so far.",
    ),
    "screen_room_connecting": ("正在连接直播间…", "Connecting to the room…"),
    "screen_room_connected": ("已连接直播间", "Connected to the room"),
    "screen_failed": ("操作失败，请重试", "That did not work; try again"),
    "screen_funnel_views": ("进入人次", "Entries"),
}
# The assistant's comment triage on the big screen (issue 10, console/_screen_triage.html).
ASSISTANT_TRIAGE: dict[str, tuple[str, str]] = {
    "triage_title": ("评论助手", "Comment assistant"),
    "triage_hint": (
        "自动识别观众评论：点击问题可起草回答",
        "Viewers' comments sorted as they come: click a question to draft an answer",
    ),
    "triage_questions": ("待回答的问题", "Questions to answer"),
    "triage_no_questions": ("暂无问题", "No questions yet"),
    "triage_purchase": ("购买意向", "Purchase intent"),
    "triage_complaints": ("售后投诉", "After-sales complaints"),
    "triage_no_complaints": ("暂无售后投诉", "No complaints"),
    "triage_link": ("{n}号链接", "Link {n}"),
    "triage_unattributed": ("另有 {n} 条购买意向未指明商品", "{n} more name no product"),
    "triage_failed": ("评论助手暂时无法更新", "The comment assistant cannot update now"),
}
TEXT.update(SCREEN)
TEXT.update(ASSISTANT_TRIAGE)
TEXT.update(CONSOLE)
TEXT.update(LIVE_ROOM)
TEXT.update(POOL)
TEXT.update({f"m.{key}": names for key, names in METRIC_NAMES.items()})


def messages(lang: Lang) -> dict[str, str]:
    i = LANGS.index(lang)
    return {key: pair[i] for key, pair in TEXT.items()}


def step_label(step: str, lang: Lang) -> str:
    labels = TRACE_STEPS.get(step)
    return step if labels is None else labels[LANGS.index(lang)]


def pick_lang(value: str | None, cookie: str | None = None) -> Lang:
    """The page's language: ``?lang=`` if given, else the ``dh_lang`` cookie, else zh-CN."""
    if value in LANGS:
        return "en" if value == "en" else "zh"
    return "en" if cookie == "en" else "zh"


LANG_COOKIE = "dh_lang"
