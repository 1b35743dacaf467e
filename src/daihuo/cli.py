"""The ``daihuo`` command. Each module adds its sub-commands here.

Errors are one readable line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from daihuo.analytics.cli import app as analytics_app
from daihuo.assistant.cli import app as assistant_app
from daihuo.authenticity.cli import app as authenticity_app
from daihuo.catalog.cli import app as product_app
from daihuo.config import Settings, get_settings
from daihuo.events.cli import app as events_app
from daihuo.ledger.cli import ledger_app
from daihuo.simulator.cli import simulate

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Daihuo live commerce.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
tenant_app = typer.Typer(no_args_is_help=True, help="Tenants.")
user_app = typer.Typer(no_args_is_help=True, help="Users.")
apikey_app = typer.Typer(no_args_is_help=True, help="API keys.")
app.add_typer(db_app, name="db")
app.add_typer(tenant_app, name="tenant")
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
app.add_typer(product_app, name="product")
app.add_typer(events_app, name="events")
app.add_typer(analytics_app, name="analytics")
app.add_typer(authenticity_app, name="authenticity")
app.add_typer(assistant_app, name="assistant")
app.add_typer(ledger_app, name="ledger")
app.command("simulate")(simulate)

out = Console(soft_wrap=True)
err = Console(stderr=True)
T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning expected failures into one line and exit code 1."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from daihuo.core.errors import AppError

    try:
        return asyncio.run(coro)
    except AppError as exc:
        fail(exc.detail)
    except (OperationalError, DBAPIError, OSError) as exc:
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0:1] or [type(exc).__name__]
        fail(f"database not reachable or refused the request: {first[0]}")


async def _with_session(
    settings: Settings, fn: Callable[[Any], Awaitable[T]], *, tenant_id: str | None = None
) -> T:
    from daihuo.core.db import Database, commit

    db = Database(settings.database_url)
    try:
        async with db.session(tenant_id=tenant_id, all_tenants=tenant_id is None) as session:
            result = await fn(session)
            await commit(session)
            return result
    finally:
        await db.dispose()


# --- serve, config, db -----------------------------------------------------------


# The routine lines a busy server writes for every request, WebSocket and log append: the
# demo's audience makes thousands of them, which would bury the addresses it printed.
_ROUTINE = frozenset({"daihuo.access", "httpx", "daihuo.orders.ledger_feed"})
_ROUTINE_WS = ('"WebSocket ', "connection open", "connection closed")


def _quiet_demo(record: logging.LogRecord) -> bool:
    if record.levelno >= logging.WARNING:
        return True
    if record.name in _ROUTINE:
        return False
    if record.name.startswith("uvicorn"):
        message = record.getMessage()
        return not any(part in message for part in _ROUTINE_WS)
    return True


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to listen on."),
    port: int | None = typer.Option(None, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Server processes."),
    quiet: bool = typer.Option(
        False, "--quiet", help="Leave out the routine INFO lines of requests and WebSockets."
    ),
) -> None:
    """Start the API server."""
    import uvicorn

    from daihuo.core.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    if quiet:
        for handler in logging.getLogger().handlers:
            handler.addFilter(_quiet_demo)
    uvicorn.run(
        "daihuo.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=None,
        # Frames are encoded once for every viewer: compressing per connection would undo it.
        ws_per_message_deflate=False,
        ws="websockets-sansio",
    )


@app.command("config")
def show_config() -> None:
    """Print the effective configuration (secrets masked)."""
    out.print_json(json.dumps(get_settings().masked()))


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from daihuo.migrate import upgrade

    url = get_settings().database_url
    try:
        upgrade(url, revision)
    except Exception as exc:
        fail(f"migration failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    out.print(f"database at [bold]{revision}[/]")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
    """Revert migrations down to REVISION."""
    from daihuo.migrate import downgrade

    try:
        downgrade(get_settings().database_url, revision)
    except Exception as exc:
        fail(f"migration failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    out.print(f"database at [bold]{revision}[/]")


# --- accounts ----------------------------------------------------------------------


@user_app.command("create")
def user_create(
    email: str = typer.Option(..., help="E-mail (the sign-in name)."),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    name: str = typer.Option(..., "--name", help="Display name."),
    tenant: str | None = typer.Option(None, help="Also add to this tenant id."),
    role: str = typer.Option("owner", help="Role in --tenant."),
) -> None:
    """Create a user, optionally as a member of a tenant."""
    from pydantic import ValidationError

    from daihuo.app import auth_config
    from daihuo.tenancy import service
    from daihuo.tenancy.domain import Permission, Principal, Role, TenantKind, Via
    from daihuo.tenancy.schemas import MemberAdd, SignupRequest

    settings = get_settings()
    try:
        data = SignupRequest(email=email, password=password, display_name=name)
        member = MemberAdd(email=email, role=Role(role)) if tenant else None
    except (ValidationError, ValueError) as exc:
        fail(_one_line(exc))

    async def go(session: Any) -> str:
        user, _ = await service.signup(session, auth_config(settings), data)
        if tenant and member:
            from daihuo.core.db import scope_session

            scope_session(session, tenant)
            if await service.tenant_exists(session, tenant) is False:
                from daihuo.tenancy.errors import TenantNotFound

                raise TenantNotFound(f"no tenant {tenant}")
            cli = Principal(
                via=Via.bearer, user_id=None, tenant_id=tenant, tenant_kind=TenantKind.merchant,
                role=Role.owner, permissions=frozenset(Permission),
            )  # fmt: skip
            await service.add_member(session, cli, member)
        return user.id

    user_id = run(_with_session(settings, go))
    out.print(f"user [bold]{user_id}[/] <{data.email}>")


@tenant_app.command("create")
def tenant_create(
    kind: str = typer.Option(..., help="platform, supplier or merchant."),
    name: str = typer.Option(..., help="Tenant name."),
    owner: str = typer.Option(..., help="E-mail of an existing user who becomes the owner."),
) -> None:
    """Create a tenant owned by an existing user."""
    from pydantic import ValidationError

    from daihuo.tenancy import service
    from daihuo.tenancy.schemas import TenantCreate

    try:
        data = TenantCreate.model_validate({"kind": kind, "name": name, "owner_email": owner})
    except ValidationError as exc:
        fail(_one_line(exc))
    tenant = run(_with_session(get_settings(), lambda s: service.platform_create_tenant(s, data)))
    out.print(f"tenant [bold]{tenant.id}[/] ({tenant.kind}) {tenant.name}")


@apikey_app.command("create")
def apikey_create(
    tenant: str = typer.Option(..., help="Tenant id."),
    name: str = typer.Option(..., help="What the key is for."),
    scope: list[str] = typer.Option(..., "--scope", help="Permission, repeatable."),
) -> None:
    """Create an API key for a tenant; the secret is printed once."""
    from pydantic import ValidationError

    from daihuo.tenancy import service
    from daihuo.tenancy.domain import Permission, Principal, Role, TenantKind, Via
    from daihuo.tenancy.schemas import ApiKeyCreate

    try:
        data = ApiKeyCreate.model_validate({"name": name, "scopes": scope})
    except ValidationError as exc:
        fail(_one_line(exc))

    async def go(session: Any) -> tuple[Any, str]:
        if not await service.tenant_exists(session, tenant):
            from daihuo.tenancy.errors import TenantNotFound

            raise TenantNotFound(f"no tenant {tenant}")
        cli = Principal(
            via=Via.bearer, user_id=None, tenant_id=tenant, tenant_kind=TenantKind.merchant,
            role=Role.owner, permissions=frozenset(Permission),
        )  # fmt: skip
        return await service.create_api_key(session, cli, data)

    key, secret = run(_with_session(get_settings(), go, tenant_id=tenant))
    out.print(f"api key [bold]{key.id}[/] scopes: {key.scopes}")
    out.print(secret, highlight=False)


def _one_line(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        parts = []
        for e in exc.errors()[:3]:
            loc = ".".join(str(p) for p in e["loc"]) or "value"
            parts.append(f"{loc}: {e['msg']}")
        return "; ".join(parts)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


# --- demo and checks ------------------------------------------------------------------


# The console's pages the demo prints: (label, path, who signs in and what it shows).
DEMO_PAGES = [
    ("Console", "/console", "sign in with an account below: each sees its own dashboard"),
    ("Supply pool", "/console/pool", "search and pick products: merchant@daihuo.local"),
    ("Showcase", "/console/showcase", "the merchant's picked products and prices"),
    ("Sessions", "/console/sessions", "schedule, go live, end; each with its review"),
    ("Analytics", "/console/analytics", "a merchant's or supplier's sessions over time"),
    ("Products", "/console/products", "supplier@daihuo.local: products, SKUs, stock, batches"),
    ("Orders", "/console/orders", "paid orders to ship: supplier@daihuo.local"),
    ("Settlement", "/console/settlement", "balances and statements, CSV"),
    ("Platform", "/console/platform", "operator@daihuo.local: tenants, books, alerts"),
    ("Review queue", "/console/review", "operator@daihuo.local: products waiting to list"),
]


def demo_defaults(settings: Settings, environ: Mapping[str, str]) -> Settings:
    """The demo's own defaults, where the environment does not set them."""
    if "DAIHUO_LOG_FORMAT" not in environ:
        settings.log_format = "text"  # a person is reading the demo's terminal
    if "DAIHUO_COOKIE_SECURE" not in environ:
        # The demo serves plain HTTP, also to phones on the LAN (DAIHUO_HOST=0.0.0.0): a
        # browser keeps a Secure cookie only from localhost, so signing in would fail there.
        settings.cookie_secure = False
    return settings


@app.command()
def demo(
    port: int | None = typer.Option(None, help="Port (default from DAIHUO_PORT or 8000)."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Prepare the demo data only."),
) -> None:
    """Migrate the embedded database, seed the demo tenants, print the URLs and serve."""
    from daihuo.demo import ACCOUNTS, seed
    from daihuo.migrate import upgrade

    settings = demo_defaults(get_settings(), os.environ)
    try:
        upgrade(settings.database_url)
    except Exception as exc:
        fail(f"migration failed: {_one_line(exc)}")
    info = run(seed(settings))
    base = f"http://{settings.host}:{port or settings.port}"
    out.rule("[bold]Daihuo 带货 demo")
    for name, path, note in DEMO_PAGES:
        out.print(f"{name:<14}{base}{path}  ({note})")
    out.print(f"API docs      {base}/api/docs")
    out.print(f"Health        {base}/readyz")
    if info.provenance:
        out.print(f"Provenance    {base}{info.provenance}  (a batch's steps, verified in the page)")
    out.print(f"Ledger        {base}/api/v1/ledger/checkpoint")
    if info.products:
        out.print(
            f"Seeded        {info.products} products in the supply pool, 3 merchants' "
            f"showcases, {info.orders} paid and settled orders"
        )
    if info.live_session and not no_serve:
        settings.demo_live_session = info.live_session
        own = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
        settings.demo_live_url = f"http://{own}:{port or settings.port}"
        minutes = settings.demo_live_minutes / settings.demo_live_speed
        first_buyer = next(email for email, _, kind, *_ in ACCOUNTS if kind is None)
        out.print(
            f"Live session  {info.live_session} goes live in a few seconds with "
            f"{settings.demo_live_viewers:,} simulated viewers for about {minutes:.0f} min\n"
            f"              watch {base}/live/{info.live_session}  (the consumer's live room; "
            f"{first_buyer} can buy)\n"
            f"              screen {base}/console/sessions/{info.live_session}/screen  "
            "(the host's big screen: merchant@daihuo.local)\n"
            f"              room  ws://{settings.host}:{port or settings.port}/ws/rooms/"
            f"{info.live_session}\n"
            f"              report {base}/api/v1/sessions/{info.live_session}/report "
            "(merchant's token)\n"
            f"              review {base}/console/sessions/{info.live_session} "
            "(merchant@daihuo.local; complete once the session ends)"
        )
    for line in info.lines:
        out.print(line, highlight=False)
    out.print(
        f"Sign in:      {base}/console/login in a browser, or POST /api/v1/auth/token "
        "with the e-mail and password above."
    )
    out.rule()
    if not no_serve:
        serve(host=None, port=port, workers=1, quiet=True)


@app.command("lint-zh")
def lint_zh(
    paths: list[Path] = typer.Argument(None, help="Files to check (default: the repository)."),
) -> None:
    """Fail on traditional characters or pinyin annotations in zh-CN text."""
    from daihuo.core.zhlint import scan

    root = Path.cwd()
    problems = list(scan(root, [p.resolve() for p in paths] if paths else None))
    for problem in problems:
        err.print(str(problem), highlight=False, soft_wrap=True)
    if problems:
        fail(f"{len(problems)} zh-CN text problem(s)")
    out.print("zh-CN text clean")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
