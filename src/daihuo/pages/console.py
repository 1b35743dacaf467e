"""The web console (``/console``): sign-in and sign-out, the merchant's dashboard, sessions
list and the review page of a session, the supplier's products.

Server-rendered like the provenance page, through the feature modules' services (never
their repositories). Authentication is the tenancy module's browser session: the
``dh_session`` cookie (HttpOnly) and the CSRF token bound to it, which every form of a
signed-in page carries in a hidden field and which is checked on every POST here. The
sign-in form itself, before any session exists, is protected by a double-submit token
(a random cookie that the form must echo).

Every page sends a strict Content-Security-Policy (scripts and styles only from this
origin: the esbuild bundle under /static/pages/dist/), and Jinja2 autoescapes every value,
so a product name or session title holding HTML is shown as text.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.analytics import crossview, engine
from daihuo.analytics import review as review_extras
from daihuo.analytics.cli_report import FUNNEL_STEPS, METRICS, format_value
from daihuo.analytics.live import LiveFeed
from daihuo.assistant import service as assistant
from daihuo.catalog import errors as catalog_errors
from daihuo.catalog import service as catalog
from daihuo.core.db import commit, scope_session
from daihuo.core.pagination import PageParams
from daihuo.events.sink import EventSink
from daihuo.events.store import session_events
from daihuo.ledger import service as ledger
from daihuo.live import errors as live_errors
from daihuo.live import service as live
from daihuo.live.schemas import LiveSessionRead
from daihuo.pages import TEMPLATE_DIR
from daihuo.pages.i18n import LANG_COOKIE, Lang, messages, pick_lang
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy import service as tenancy
from daihuo.tenancy.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    clear_session_cookies,
    get_auth_config,
    get_session,
    set_session_cookies,
    sign_in,
)
from daihuo.tenancy.domain import Permission, Principal, TenantKind, Via
from daihuo.tenancy.service import AuthConfig

router = APIRouter(prefix="/console", include_in_schema=False)
SessionKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_:.\-]+$")]
LOGIN_CSRF_COOKIE = "dh_login_csrf"
MAX_FORM_BYTES = 8 * 1024
MAX_EMAIL = 254
MAX_PASSWORD = 256
CHINA_TIME = timezone(timedelta(hours=8))
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADLINE = ("viewer_uv", "pcu", "order_count", "gmv", "conversion_rate")
# The live tile (GET /api/v1/sessions/{id}/live): the feed's figures and how each shows.
LIVE_FIGURES = (
    ("online", "count"), ("views_pv", "count"), ("pcu", "count"), ("like_count", "count"),
    ("comment_count", "count"), ("gmv", "money"), ("order_count", "count"),
    ("buyer_uv", "count"), ("conversion_rate", "rate"),
)  # fmt: skip
LAST_MINUTE = (
    ("views", "count"), ("comments", "count"), ("likes", "count"), ("orders", "count"),
    ("gmv", "money"),
)  # fmt: skip
REVIEW_HEADLINE = (
    "duration_seconds", "viewer_uv", "pcu", "acu", "comment_count", "order_count", "gmv",
    "conversion_rate", "gpm", "aov",
)  # fmt: skip
KIND_OF = {key: how for key, _, how in METRICS}
RECENT = 5
MANY = 200  # one page of the services' lists (their largest)
MOST_SESSIONS = 2000  # read at most this many sessions for the lists (pages of MANY)

templates = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(["html"]),
    enable_async=False,
)


# --- formatting: money is integer fen until it is shown -------------------------------


def show(value: Any, how: str, lang: Lang = "zh") -> str:
    """A figure as the page shows it: ¥ with two decimals for fen, % for rates (the CLI's
    formatting), seconds in the page's language."""
    if how == "seconds" and value is not None:
        return f"{value:,.1f} {'秒' if lang == 'zh' else 's'}"
    return format_value(value, how)


def local_time(at: datetime | None) -> str:
    return "—" if at is None else at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


templates.filters["show"] = show
templates.filters["local_time"] = local_time


# --- language, rendering --------------------------------------------------------------


def page_lang(request: Request) -> Lang:
    return pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    principal: Principal | None = None,
    **context: Any,
) -> HTMLResponse:
    lang = page_lang(request)
    html = templates.get_template(template).render(
        lang=lang,
        t=messages(lang),
        other_lang="en" if lang == "zh" else "zh",
        path=request.url.path,
        principal=principal,
        csrf=request.cookies.get(CSRF_COOKIE, "") if principal is not None else "",
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=_headers())
    if request.query_params.get("lang") in ("zh", "en"):
        # The switch sticks for the next pages (not HttpOnly: nothing secret in it).
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


def _headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CSP,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(f"/console/login?next={quote(target, safe='')}", status_code=303)


def _safe_next(value: str | None) -> str:
    # Only this console's own pages and the live rooms: no open redirect to another site.
    for prefix in ("/console/", "/live/"):
        if value and value.startswith(prefix) and not value.startswith(prefix + "/"):
            return value
    return "/console/dashboard"


# --- who is signed in ----------------------------------------------------------------


async def _principal(request: Request, session: AsyncSession) -> Principal | None:
    """The browser session's user acting for their tenant, or None (then: sign in)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        _, user = await tenancy.resolve_token(session, cookie, kind=Via.cookie)
        principal = await tenancy.principal_for_user(session, user, via=Via.cookie, tenant_id=None)
    except (tenancy_errors.InvalidToken, tenancy_errors.TokenExpired, tenancy_errors.NoTenant):
        return None
    scope_session(session, principal.tenant_id)
    return principal


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items() if v}


async def _csrf_ok(request: Request, session: AsyncSession, sent: str | None) -> bool:
    """False when the browser has a live session whose CSRF token ``sent`` is not. Without
    a live session it is True: the caller goes on and sends the visitor to sign in."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return True
    try:
        token, _ = await tenancy.resolve_token(session, cookie, kind=Via.cookie)
    except (tenancy_errors.InvalidToken, tenancy_errors.TokenExpired):
        return True
    return bool(tenancy.csrf_matches(token, sent))


async def _checked_form(
    request: Request, session: AsyncSession
) -> tuple[dict[str, str], HTMLResponse | None]:
    """The POSTed form, and a 403 to send instead when the browser has a live session
    whose CSRF token the form does not carry."""
    form = await _form(request)
    if not await _csrf_ok(request, session, form.get("csrf")):
        return form, HTMLResponse("CSRF token missing or wrong", status_code=403)
    return form, None


Refusal = Callable[[Request, Principal], Response | None]


def _anyone(request: Request, principal: Principal) -> Response | None:
    return None


async def _signed_in(
    request: Request, session: AsyncSession, refuse: Refusal = _anyone
) -> Principal | Response:
    """The signed-in user — or the response instead: the sign-in page, or what ``refuse``
    answers for this user (a 403 page, a redirect)."""
    principal = await _principal(request, session)
    if principal is None:
        return _to_login(request)
    refused = refuse(request, principal)
    return principal if refused is None else refused


async def _signed_post(
    request: Request, session: AsyncSession, refuse: Refusal = _anyone
) -> tuple[Principal, dict[str, str]] | Response:
    """A console form's POST: its fields and the signed-in user — or the response instead
    (403 for a missing or wrong CSRF token, then as :func:`_signed_in`)."""
    form, forged = await _checked_form(request, session)
    if forged is not None:
        return forged
    who = await _signed_in(request, session, refuse)
    return who if isinstance(who, Response) else (who, form)


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


# --- sign-in, sign-out ---------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def console_home() -> RedirectResponse:
    return RedirectResponse("/console/dashboard", status_code=303)


def _login_page(
    request: Request,
    *,
    email: str = "",
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    # One token per browser (kept while it lasts), so two open sign-in tabs both work.
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not (len(token) == 32 and token.replace("-", "").replace("_", "").isalnum()):
        token = secrets.token_urlsafe(24)
    response = render(
        request,
        "console/login.html",
        status_code=status_code,
        email=email,
        errors=errors or {},
        form_csrf=token,
        next=_safe_next(request.query_params.get("next")),
    )
    secure = request.app.state.settings.cookie_secure
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, secure=secure,
        samesite="strict", path="/console/login",
    )  # fmt: skip
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    """The sign-in form."""
    return _login_page(request)


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    session: AsyncSession = Depends(get_session),
    cfg: AuthConfig = Depends(get_auth_config),
) -> Response:
    """Check the form on the server; on success set the browser session's cookies."""
    form = await _form(request)
    email = form.get("email", "").strip()
    password = form.get("password", "")
    if not _same(form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_page(request, email=email, errors={"form": "err_csrf"}, status_code=400)
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "err_email_required"
    elif len(email) > MAX_EMAIL:
        errors["email"] = "err_too_long"
    elif "@" not in email.strip("@") or any(c.isspace() for c in email):
        errors["email"] = "err_email_invalid"
    if not password:
        errors["password"] = "err_password_required"  # noqa: S105 - a message key
    elif len(password) > MAX_PASSWORD:
        errors["password"] = "err_too_long"  # noqa: S105 - a message key
    if errors:
        return _login_page(request, email=email, errors=errors, status_code=422)
    try:
        issued = await sign_in(
            request, session, cfg, email=email, password=password, kind=Via.cookie
        )
    except tenancy_errors.InvalidCredentials:  # committed: it counts toward the rate limit
        return _login_page(
            request, email=email, errors={"password": "err_credentials"}, status_code=401
        )
    except tenancy_errors.LoginRateLimited:
        return _login_page(
            request, email=email, errors={"form": "err_rate_limited"}, status_code=429
        )
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    # The same cookies as POST /api/v1/auth/login, so the console and the API agree.
    set_session_cookies(response, issued, cfg, secure=request.app.state.settings.cookie_secure)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console/login")
    return response


@router.post("/logout")
async def logout(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Revoke the browser session (the form carries the session's CSRF token)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    form = await _form(request)
    if cookie:
        try:
            token, _ = await tenancy.resolve_token(session, cookie, kind=Via.cookie)
        except (tenancy_errors.InvalidToken, tenancy_errors.TokenExpired):
            token = None
        if token is not None:
            if not tenancy.csrf_matches(token, form.get("csrf")):
                return HTMLResponse("CSRF token missing or wrong", status_code=403)
            await tenancy.revoke_token(session, token)
            await commit(session)
    response = RedirectResponse("/console/login", status_code=303)
    clear_session_cookies(response)
    return response


# --- the merchant's pages ------------------------------------------------------------


def _sink(request: Request) -> EventSink:
    sink: EventSink = request.app.state.event_sink
    return sink


async def _figures(request: Request, session_id: str) -> dict[str, Any] | None:
    """The metric dictionary of one session, from the events the server recorded."""
    sink = _sink(request)
    figures: dict[str, Any] | None = await asyncio.to_thread(
        lambda: engine.session_report(sink.flushed(), session_id)
    )
    return figures


async def _sessions(session: AsyncSession, principal: Principal) -> list[LiveSessionRead]:
    """The merchant's sessions, newest first (the service pages them oldest first)."""
    found: list[LiveSessionRead] = []
    cursor: str | None = None
    while len(found) < MOST_SESSIONS:
        page, cursor = await live.list_sessions(
            session, principal, PageParams(limit=MANY, cursor=cursor)
        )
        found += page
        if cursor is None:
            break
    return sorted(found, key=lambda s: (s.started_at or s.planned_start, s.id), reverse=True)


def _not_merchant(request: Request, principal: Principal) -> HTMLResponse | None:
    if principal.tenant_kind is TenantKind.merchant:
        return None
    return render(
        request,
        "console/message.html",
        principal=principal,
        status_code=403,
        message="no_tenant" if principal.tenant_id is None else "merchant_only",
    )


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """The merchant's last sessions with their headline figures."""
    principal = await _principal(request, session)
    if principal is None:
        return _to_login(request)
    if principal.tenant_kind is TenantKind.supplier:
        return RedirectResponse("/console/products", status_code=303)
    if principal.tenant_kind is TenantKind.platform:
        return RedirectResponse("/console/platform", status_code=303)
    refused = _not_merchant(request, principal)
    if refused is not None:
        return refused
    every = await _sessions(session, principal)
    sessions = every[:RECENT]
    feed: LiveFeed = request.app.state.live_feed
    live_now = []
    for s in sessions:
        if s.state == "live":
            snap = await feed.snapshot(s.id, titles=_product_titles(s))
            live_now.append({"s": s, "snap": snap, "feed": f"/api/v1/sessions/{s.id}/live"})
    rows = []
    for s in sessions:
        figures = await _figures(request, s.id) if s.state != "scheduled" else None
        rows.append({"s": s, "figures": figures})
    today = await _today(request, every, rows)
    # The trend: GMV and viewers of the recent sessions that have figures, oldest first.
    trend = [
        {
            "label": local_time(r["s"].started_at or r["s"].planned_start)[5:],
            "gmv": r["figures"].get("gmv") or 0,
            "viewer_uv": r["figures"].get("viewer_uv") or 0,
        }
        for r in reversed(rows)
        if r["figures"]
    ]
    text = messages(page_lang(request))
    return render(
        request,
        "console/dashboard.html",
        principal=principal,
        rows=rows,
        live_now=live_now,
        live_figures=LIVE_FIGURES,
        last_minute=LAST_MINUTE,
        headline=[(key, KIND_OF[key]) for key in HEADLINE],
        chart_data={"trend": trend} if trend else {},
        chart_text={key: text[f"m.{key}"] for key in ("gmv", "viewer_uv")},
        today=today,
        today_figures=TODAY,
    )


# Today on the dashboard: the sessions started today (China time) and their figures added
# up. Viewers are each session's own count summed (a viewer of two sessions counts twice).
TODAY = (("sessions", "count"), ("gmv", "money"), ("order_count", "count"),
         ("buyer_uv", "count"), ("viewer_uv", "count"))  # fmt: skip


async def _today(
    request: Request, sessions: list[LiveSessionRead], rows: list[dict[str, Any]]
) -> dict[str, int]:
    """The figures of today's sessions (started today in China time), summed."""
    day = datetime.now(CHINA_TIME).date()
    known = {r["s"].id: r["figures"] for r in rows}
    total = dict.fromkeys((key for key, _ in TODAY), 0)
    for s in sessions:
        if s.started_at is None or s.started_at.astimezone(CHINA_TIME).date() != day:
            continue
        figures = known[s.id] if s.id in known else await _figures(request, s.id)
        total["sessions"] += 1
        for key, _ in TODAY[1:]:
            total[key] += int((figures or {}).get(key) or 0)
    return total


def _metric_rows(figures: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"key": key, "how": how, "value": figures.get(key)}
        for key, _, how in METRICS
        if not how.startswith("curve")
    ]


def _product_titles(live_session: LiveSessionRead) -> dict[str, str]:
    titles = {p.product_id: p.title for p in live_session.products}
    titles.update({p.item_id: p.title for p in live_session.products})
    return titles


async def _merchant_session(
    request: Request, session: AsyncSession, session_id: str
) -> tuple[Principal, LiveSessionRead] | Response:
    """The signed-in merchant staff and one of its sessions — or the page to answer
    instead: sign in, not a merchant (403), no such session of this tenant (404)."""
    principal = await _principal(request, session)
    if principal is None:
        return _to_login(request)
    refused = _not_merchant(request, principal)
    if refused is not None:
        return refused
    try:
        return principal, await live.get_session(session, principal, session_id)
    except (live_errors.LiveSessionNotFound, catalog_errors.WrongTenantKind):
        return render(
            request, "console/message.html", principal=principal, status_code=404,
            message="session_missing",
        )  # fmt: skip


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
async def review(
    request: Request, session_id: SessionKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """The review (复盘) of a session: the whole metric dictionary, its per-minute charts,
    funnel, product and source tables, the authenticity scan and the ledger proof."""
    found = await _merchant_session(request, session, session_id)
    if isinstance(found, Response):
        return found
    principal, live_session = found
    figures = await _figures(request, session_id)
    links = await ledger.record_links(session, ("session_report",), session_id)
    chart_data: dict[str, Any] = {}
    extras = None
    if figures is not None:
        extras = await crossview.review_extras(
            session, principal, _sink(request).flushed(), live_session, figures,
            review_extras.DEFAULT_PREVIOUS,
        )  # fmt: skip
        chart_data = {
            "curves": {
                key: figures.get(key) or []
                for key in ("online_per_minute", "new_viewers_per_minute", "gmv_per_minute")
            },
            "funnel": [[key, figures.get(key) or 0] for _, key in FUNNEL_STEPS],
            "started_at": live_session.started_at.isoformat() if live_session.started_at else None,
            "markers": [m.model_dump(mode="json") for m in extras.markers],
        }
    lang = page_lang(request)
    text = messages(lang)
    charted = ("online_per_minute", "new_viewers_per_minute", "gmv_per_minute")
    chart_text = {key: text[f"m.{key}"] for key in (*charted, *(k for _, k in FUNNEL_STEPS))}
    chart_text["minute"] = text["minute"]
    chart_text.update(marker_pin=text["marker_pin"], marker_flash_sale=text["marker_flash_sale"])
    titles = _product_titles(live_session)
    live_tile = None
    if live_session.state == "live":
        feed: LiveFeed = request.app.state.live_feed
        snap = await feed.snapshot(session_id, titles=titles)
        live_tile = {"s": live_session, "snap": snap, "feed": f"/api/v1/sessions/{session_id}/live"}
    return render(
        request,
        "console/review.html",
        live=live_tile,
        live_figures=LIVE_FIGURES,
        last_minute=LAST_MINUTE,
        principal=principal,
        live_session=live_session,
        figures=figures,
        metrics=_metric_rows(figures) if figures else [],
        headline=[(key, KIND_OF[key]) for key in REVIEW_HEADLINE],
        funnel=[key for _, key in FUNNEL_STEPS],
        products=[
            {**row, "title": titles.get(str(row.get("product")), "")}
            for row in (figures or {}).get("products") or []
        ],
        sources=sorted(((figures or {}).get("sources") or {}).items()),
        links=links,
        chart_data=chart_data,
        chart_text=chart_text,
        report_url=f"/api/v1/sessions/{session_id}/report",
        markers=extras.markers if extras else [],
        comparison=extras.comparison if extras else None,
        compared_kind={
            key: KIND_OF.get(key, "money" if kind == "money" else kind)
            for key, kind in review_extras.COMPARED
        },
    )


# The big screen's figures: the live feed's, as the tiles show them.
SCREEN_FIGURES = (
    ("views_pv", "count"), ("pcu", "count"), ("order_count", "count"), ("buyer_uv", "count"),
    ("conversion_rate", "rate"), ("like_count", "count"), ("comment_count", "count"),
)  # fmt: skip
SCREEN_FUNNEL = ("views_pv", "viewer_uv", "buyer_uv")


@router.get("/sessions/{session_id}/screen", response_class=HTMLResponse)
async def screen(
    request: Request, session_id: SessionKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """The live big screen (直播大屏) of a session for the merchant's staff: the live feed's
    figures and online curve, the room's comments with moderation, pinning its products."""
    found = await _merchant_session(request, session, session_id)
    if isinstance(found, Response):
        return found
    principal, live_session = found
    feed: LiveFeed = request.app.state.live_feed
    snap = await feed.snapshot(session_id, titles=_product_titles(live_session))
    # The curve so far from the recorded events; the feed's last minutes extend it.
    figures = await _figures(request, session_id) if live_session.state != "scheduled" else None
    text = messages(page_lang(request))
    boot = {
        "session": session_id,
        "state": live_session.state,
        "feed": f"/api/v1/sessions/{session_id}/live" if live_session.state != "scheduled" else "",
        "curve": list((figures or {}).get("online_per_minute") or []),
        "started_at": live_session.started_at.isoformat() if live_session.started_at else None,
        "pinned": live_session.pinned.item_id if live_session.pinned else None,
        "funnel": list(SCREEN_FUNNEL),
        "snap": {key: snap.get(key) for key in SCREEN_FUNNEL},  # the funnel before the feed
    }
    words = {
        key: text[key]
        for key in (
            "screen_curve", "screen_no_comments", "screen_pin_comment", "screen_unpin_comment",
            "screen_delete_comment", "screen_pinned", "screen_room_connecting",
            "screen_room_connected", "screen_failed", "live_updating", "live_reconnecting",
            "live_ended", "screen_funnel_views", "m.viewer_uv", "m.buyer_uv",
        )
    }  # fmt: skip
    may_run = Permission.sessions_write in principal.permissions
    tool_items: list[dict[str, Any]] = []
    running_sales: list[Any] = []
    if live_session.state == "live" and may_run:
        tool_items, running_sales = await _host_tools(session, principal, live_session)
    return render(
        request,
        "console/screen.html",
        principal=principal,
        live_session=live_session,
        snap=snap,
        figures_shown=SCREEN_FIGURES,
        boot=boot,
        words=words,
        may_run=may_run,
        tool_items=tool_items,
        running_sales=running_sales,
    )


async def _host_tools(
    session: AsyncSession, principal: Principal, live_session: LiveSessionRead
) -> tuple[list[dict[str, Any]], list[Any]]:
    """The big screen's host tools: the session's items with the SKUs a flash sale can
    take (in stock), and the flash sales still running."""
    assert principal.tenant_id is not None
    items, _ = await catalog.storefront(session, principal.tenant_id, PageParams(limit=MANY))
    by_item = {i.id: i for i in items}
    tool_items = [
        {
            "item_id": p.item_id,
            "title": p.title,
            "skus": [s for s in by_item[p.item_id].skus if s.available > 0],
        }
        for p in live_session.products
        if p.item_id in by_item
    ]
    sales = await catalog.list_flash_sales(session, session_id=live_session.id)
    running = [catalog.flash_read(s) for s in sales if s.ended_at is None]
    return tool_items, running


def ms_time(ms: int | None) -> str:
    """Milliseconds since the epoch as Beijing time of day (the console's zone)."""
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, CHINA_TIME).strftime("%H:%M:%S")


templates.filters["ms_time"] = ms_time


def relative(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1%}"


templates.filters["relative"] = relative
ANALYTICS_DAYS = (30, 90, 365)


@router.get("/analytics", response_class=HTMLResponse)
async def analytics(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Across sessions: a merchant's sessions, or a supplier's products in merchants'
    sessions — sales over time, GMV net of refunds, best products and hours."""
    principal = await _principal(request, session)
    if principal is None:
        return _to_login(request)
    kind = principal.tenant_kind
    if kind not in (TenantKind.merchant, TenantKind.supplier):
        return render(
            request, "console/message.html", principal=principal, status_code=403,
            message="no_tenant" if principal.tenant_id is None else "merchant_only",
        )  # fmt: skip
    raw = request.query_params.get("days", "")
    days = int(raw) if raw.isdecimal() and int(raw) in ANALYTICS_DAYS else 90
    warehouse = _sink(request).flushed()
    if kind is TenantKind.merchant:
        report = await crossview.merchant_report(session, principal, warehouse, days)
    else:
        report = await crossview.supplier_report(session, principal, warehouse, days)
    text = messages(page_lang(request))
    chart_data = {
        "cross": {
            "sessions": [
                {"label": s.date[5:], "gmv": s.gmv, "net_gmv": s.net_gmv} for s in report.sessions
            ],
            "hours": [[h.hour, h.gmv, h.net_gmv] for h in report.hours],
        }
    }
    chart_text = {key: text[f"m.{key}"] for key in ("gmv", "net_gmv")}
    chart_text["hour"] = text["hour"]
    return render(
        request,
        "console/analytics.html",
        principal=principal,
        report=report,
        days=days,
        choices=ANALYTICS_DAYS,
        chart_data=chart_data,
        chart_text=chart_text,
    )


# The comparison table of the authenticity panel: figures of both reports, by kind.
COMPARED = tuple(
    (key, how)
    for key, _, how in METRICS
    if not how.startswith("curve") and key != "duration_seconds"
)
SHOWN_FINDINGS = 10  # rows shown before "show all"
MAX_FINDINGS = 300  # rows sent at most; the count says how many there are


@router.get("/sessions/{session_id}/authenticity", response_class=HTMLResponse)
async def authenticity(
    request: Request, session_id: SessionKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """The authenticity panel of the review page (loaded by htmx: the scan takes a while)."""
    principal = await _principal(request, session)
    if principal is None:
        return HTMLResponse("", status_code=401, headers=_headers())
    if principal.tenant_kind is not TenantKind.merchant:
        return HTMLResponse("", status_code=403, headers=_headers())
    try:
        await live.get_session(session, principal, session_id)
    except (live_errors.LiveSessionNotFound, catalog_errors.WrongTenantKind):
        return HTMLResponse("", status_code=404, headers=_headers())
    sink = _sink(request)

    def scan() -> dict[str, Any] | None:
        from daihuo.authenticity.scan import scan_session  # numpy/scipy: load when needed

        events = list(session_events(sink.flushed(), session_id))
        return scan_session(session_id, events) if events else None

    result = await asyncio.to_thread(scan)
    findings: dict[str, Sequence[Mapping[str, Any]]] = {}
    if result is not None:
        findings = {
            "suspicious_users": result["suspicious_users"],
            "suspicious_orders": result["suspicious_orders"],
        }
    return render(
        request,
        "console/authenticity.html",
        principal=principal,
        result=result,
        compared=COMPARED,
        findings=findings,
        shown=SHOWN_FINDINGS,
        most=MAX_FINDINGS,
    )


@router.get("/sessions/{session_id}/insights", response_class=HTMLResponse)
async def insights(
    request: Request, session_id: SessionKey, session: AsyncSession = Depends(get_session)
) -> Response:
    """The insights of the review page (assistant, issue 10; loaded by htmx: the
    authenticity scan behind one of them takes a while)."""
    principal = await _principal(request, session)
    if principal is None:
        return HTMLResponse("", status_code=401, headers=_headers())
    if principal.tenant_kind is not TenantKind.merchant:
        return HTMLResponse("", status_code=403, headers=_headers())
    try:
        found = await assistant.session_insights(
            session, principal, _sink(request).flushed(), session_id
        )
    except (live_errors.LiveSessionNotFound, catalog_errors.WrongTenantKind):
        return HTMLResponse("", status_code=404, headers=_headers())
    return render(request, "console/insights.html", principal=principal, found=found)
