"""Settings (environment variables prefixed ``DAIHUO_``) with embedded defaults.

With no configuration at all Daihuo runs on a SQLite file and a DuckDB file under
``./var/`` and an in-process bus. ``DAIHUO_DATABASE_URL=postgresql+asyncpg://…`` and
``DAIHUO_REDIS_URL=redis://…`` switch to the scale-out backends.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DAIHUO_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""
    warehouse_url: str = ""
    # The server appends recorded events to the warehouse every warehouse_batch_seconds:
    # a crash loses at most that much (docs/analytics.md).
    warehouse_batch_seconds: float = Field(default=1.0, gt=0, le=60)
    # `daihuo demo` names its scheduled session here: the server then runs it live with a
    # simulated audience (demo_live_viewers over demo_live_minutes, replayed demo_live_speed
    # times faster than real time). Empty: no demo session.
    demo_live_session: str = ""
    demo_live_viewers: int = Field(default=3000, ge=1, le=100_000)
    demo_live_minutes: float = Field(default=60.0, ge=10, le=600)
    demo_live_speed: float = Field(default=20.0, gt=0, le=10_000)
    # The server's own address: set by `daihuo demo`, the audience then comes through the
    # live room and the API like real clients (WebSocket viewers, HTTP buyers). Empty: the
    # events are replayed straight into the event store (tests without a listening socket).
    demo_live_url: str = ""
    redis_url: str | None = None
    secret_key: SecretStr | None = None

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = None

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # File uploads (product images, trace evidence) may be larger: a phone's photo is a
    # few MB. Only the upload routes (core.middleware.UPLOAD_PATHS) take up to this.
    max_upload_bytes: int = Field(default=9 * 1024 * 1024, ge=1024)
    token_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    session_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=60)
    # How long a process may reuse a caller's principal without reading the database
    # (tenancy/cache.py): a change made through another process is seen within this.
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    cookie_secure: bool = True
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=50, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)

    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=65536, ge=8)
    password_parallelism: int = Field(default=4, ge=1)

    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"

    # The transparency log (docs/ledger.md). Checkpoints are signed with
    # ledger_signer_key (a PRIVATE+KEY+… string) if set, else with the key file
    # (default <data_dir>/ledger.key, mode 0600, created on first use).
    # ledger_verifier_keys publishes further verifier keys, e.g. retired ones.
    ledger_origin: str = "daihuo.local/log"
    ledger_key_file: Path | None = None
    ledger_signer_key: SecretStr | None = None
    ledger_verifier_keys: list[str] = Field(default_factory=list)
    ledger_max_batch: int = Field(default=4096, ge=1, le=100_000)
    # How often order and settlement events are copied from the order outbox into the log.
    ledger_feed_interval_seconds: float = Field(default=1.0, gt=0, le=3600)

    # Commerce (docs/commerce.md). Files (product images) live in storage_url,
    # default file://<data_dir>/files. An unpaid order keeps its stock reserved for
    # order_reservation_seconds; the sweeper releases expired ones every
    # order_sweep_interval_seconds.
    storage_url: str = ""
    order_reservation_seconds: int = Field(default=15 * 60, ge=1, le=7 * 24 * 3600)
    order_sweep_interval_seconds: float = Field(default=30.0, gt=0, le=3600)
    order_max_quantity: int = Field(default=999, ge=1, le=1_000_000)
    # Settlement (docs/settlement.md): the platform's fee in basis points of each payment,
    # the holding period after delivery, and how often held money due is released.
    platform_fee_bps: int = Field(default=500, ge=0, le=1000)
    settlement_holding_days: float = Field(default=7.0, ge=0, le=365)
    settlement_release_interval_seconds: float = Field(default=60.0, gt=0, le=86400)
    # Payments: the built-in sandbox provider (turn it off in production). Its webhooks
    # are signed with payments_webhook_secret (default: derived from the server secret)
    # and refused when older than payments_webhook_tolerance_seconds.
    payments_sandbox: bool = True
    payments_webhook_secret: SecretStr | None = None
    payments_webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    sandbox_callback_delay_seconds: float = Field(default=0.0, ge=0, le=3600)
    sandbox_callback_retry_seconds: float = Field(default=1.0, gt=0, le=3600)
    sandbox_callback_max_attempts: int = Field(default=8, ge=1, le=50)
    sandbox_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    sandbox_fail_payments: bool = False
    # Live rooms (docs/protocol.md). Redis keys and channels of the room bus start with
    # redis_prefix, so several deployments (or test runs) can share one Redis database.
    redis_prefix: str = Field(default="daihuo:", min_length=1, max_length=64)
    live_visitor_token_seconds: int = Field(default=12 * 3600, ge=60, le=30 * 24 * 3600)
    # Train the comment-triage model (about a second of CPU with sklearn's import) in a
    # background thread at start-up rather than on the first comment, where it would hold
    # the interpreter while a room is busy. The test suite turns it off (its servers start
    # often and most never see a comment).
    assistant_warm_up: bool = True
    live_frame_ms: int = Field(default=100, ge=10, le=2000)
    live_likes_ms: int = Field(default=250, ge=50, le=5000)
    live_online_ms: int = Field(default=1000, ge=100, le=10_000)
    # With Redis, a connection counts as online while its process renews its lease: a
    # killed process's viewers drop out of the online count after at most this long.
    live_presence_lease_ms: int = Field(default=10_000, ge=500, le=600_000)
    # Flash sales: every flash_sale_interval_seconds a process ends the sales whose time
    # is up and reconciles the race gate (memory or Redis) with the database.
    flash_sale_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    # A race grant not settled within this long belonged to a process that died: the
    # gate's reconciliation gives its units back (they are in the database either way).
    flash_sale_grant_stale_seconds: float = Field(default=30.0, gt=0, le=3600)
    # The merchant's live feed (docs/analytics.md): with Redis, recorded events are applied
    # to the shared totals every live_feed_apply_seconds; a feed sends a snapshot every
    # live_feed_seconds.
    live_feed_apply_seconds: float = Field(default=0.1, gt=0, le=10)
    live_feed_seconds: float = Field(default=1.0, ge=0.05, le=60)
    live_replay_messages: int = Field(default=1000, ge=10, le=100_000)
    live_snapshot_comments: int = Field(default=30, ge=0, le=200)
    live_comment_max_chars: int = Field(default=200, ge=1, le=2000)
    live_comment_burst: int = Field(default=3, ge=1, le=100)
    live_comment_per_second: float = Field(default=0.5, gt=0, le=100)
    live_max_messages_per_second: int = Field(default=20, ge=1, le=1000)
    live_idle_seconds: float = Field(default=60.0, gt=0, le=3600)
    live_send_queue: int = Field(default=64, ge=1, le=10_000)
    live_slow_close_drops: int = Field(default=100, ge=1, le=100_000)
    # How often each process looks for lucky draws whose time is up (docs/draws.md).
    live_draw_interval_seconds: float = Field(default=1.0, gt=0, le=60)

    @field_validator("redis_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    def model_post_init(self, __context: Any) -> None:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'daihuo.db'}"
        if not self.warehouse_url:
            self.warehouse_url = f"duckdb:///{self.data_dir / 'warehouse.duckdb'}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> bytes:
        """The server secret: from configuration, else a 0600 file under data_dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()

    def masked(self) -> dict[str, Any]:
        """The effective configuration with secrets and URL passwords masked."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********"
            elif isinstance(value, str) and "://" in value:
                value = mask_url(value)
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        return out


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":********@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
