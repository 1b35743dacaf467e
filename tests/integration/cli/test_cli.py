"""The ``daihuo`` command as a user runs it: a real process, one-line errors, exit codes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.routing import Match

from daihuo.app import create_app
from daihuo.cli import DEMO_PAGES, demo_defaults
from daihuo.config import Settings
from daihuo.demo import ACCOUNTS

DAIHUO = [sys.executable, "-m", "daihuo"]


def run(tmp: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None):  # type: ignore[no-untyped-def]
    full_env = {
        **os.environ,
        "DAIHUO_DATA_DIR": str(tmp / "var"),
        "DAIHUO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'cli.db'}",
        "DAIHUO_PASSWORD_MEMORY_KIB": "64",
        "DAIHUO_PASSWORD_TIME_COST": "1",
        "DAIHUO_PASSWORD_PARALLELISM": "1",
        "COLUMNS": "200",
        **(env or {}),
    }
    return subprocess.run(
        [*DAIHUO, *args], capture_output=True, text=True, env=full_env, input=input, timeout=120
    )


def test_accounts_from_the_command_line(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    r = run(
        tmp_path,
        "user",
        "create",
        "--email",
        "Boss@Example.test",
        "--name",
        "老板",
        "--password",
        "long enough pw",
    )
    assert r.returncode == 0, r.stderr
    assert "boss@example.test" in r.stdout
    r = run(
        tmp_path,
        "tenant",
        "create",
        "--kind",
        "merchant",
        "--name",
        "老板的店",
        "--owner",
        "boss@example.test",
    )
    assert r.returncode == 0, r.stderr
    tenant_id = r.stdout.split()[1]
    assert tenant_id.startswith("ten_")
    r = run(
        tmp_path,
        "apikey",
        "create",
        "--tenant",
        tenant_id,
        "--name",
        "erp",
        "--scope",
        "tenant:read",
    )
    assert r.returncode == 0, r.stderr
    secret = r.stdout.strip().splitlines()[-1]
    assert secret.startswith("dhk_")
    r = run(
        tmp_path,
        "user",
        "create",
        "--email",
        "staff@example.test",
        "--name",
        "员工",
        "--password",
        "long enough pw",
        "--tenant",
        tenant_id,
        "--role",
        "operator",
    )
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "tenant",
                "create",
                "--kind",
                "merchant",
                "--name",
                "x",
                "--owner",
                "ghost@example.test",
            ],
            "No user with e-mail ghost@example.test",
        ),
        (
            ["tenant", "create", "--kind", "castle", "--name", "x", "--owner", "a@example.test"],
            "kind: Input should be",
        ),
        (
            ["user", "create", "--email", "nope", "--name", "x", "--password", "long enough pw"],
            "email: Value error, is not an e-mail address",
        ),
        (
            [
                "apikey",
                "create",
                "--tenant",
                "ten_missing",
                "--name",
                "x",
                "--scope",
                "tenant:read",
            ],
            "no tenant ten_missing",
        ),
        (
            ["apikey", "create", "--tenant", "ten_x", "--name", "x", "--scope", "root:everything"],
            "scopes.0: Input should be",
        ),
    ],
)
def test_errors_are_one_readable_line(tmp_path: Path, args: list[str], message: str) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    r = run(tmp_path, *args)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in r.stderr


def test_an_unreachable_database_is_one_line_too(tmp_path: Path) -> None:
    env = {"DAIHUO_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"}
    r = run(
        tmp_path,
        "tenant",
        "create",
        "--kind",
        "merchant",
        "--name",
        "x",
        "--owner",
        "a@example.test",
        env=env,
    )
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("error: ")


def test_config_prints_the_effective_settings_masked(tmp_path: Path) -> None:
    env = {"DAIHUO_DATABASE_URL": "postgresql+asyncpg://app:hunter2@db/daihuo"}
    r = run(tmp_path, "config", env=env)
    assert r.returncode == 0
    assert "hunter2" not in r.stdout and "app:********@db" in r.stdout


def test_demo_prepares_accounts_and_is_idempotent(tmp_path: Path) -> None:
    for _ in range(2):
        r = run(tmp_path, "demo", "--no-serve")
        assert r.returncode == 0, r.stderr
        assert "merchant@daihuo.local" in r.stdout and "/api/docs" in r.stdout
        assert "/console" in r.stdout and "/console/pool" in r.stdout
        assert "/console/orders" in r.stdout
    # Every page it prints is served, and every account it names can sign in.
    app = create_app()

    def served(path: str) -> bool:
        scope = {"type": "http", "path": path, "method": "GET", "root_path": "", "path_params": {}}
        return any(route.matches(scope)[0] is Match.FULL for route in app.routes)

    printed = re.findall(r"http://[^/\s]+(/[^\s]*)", r.stdout)
    assert {path for _, path, _ in DEMO_PAGES} <= set(printed)
    assert [path for path in printed if not served(path)] == []
    assert not served("/console/no-such-page")
    named = set(re.findall(r"[\w.+-]+@daihuo\.local", r.stdout))
    assert named and named <= {email for email, *_ in ACCOUNTS}


def test_lint_zh_fails_on_traditional_text(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("\u767c\u8ca8\n", encoding="utf-8")
    r = run(tmp_path, "lint-zh", str(bad))
    assert r.returncode == 1 and "traditional" in r.stderr


def test_the_demo_serves_its_session_cookie_over_plain_http_unless_told(tmp_path: Path) -> None:
    """The demo is opened over plain HTTP, from phones on the LAN too, where a browser drops
    a Secure cookie and signing in fails; a deployment keeps the secure default."""
    assert Settings.model_fields["cookie_secure"].default is True  # the default elsewhere
    assert not demo_defaults(Settings(data_dir=tmp_path, cookie_secure=True), {}).cookie_secure
    told = {"DAIHUO_COOKIE_SECURE": "true", "DAIHUO_LOG_FORMAT": "json"}
    kept = demo_defaults(Settings(data_dir=tmp_path, cookie_secure=True, log_format="json"), told)
    assert kept.cookie_secure and kept.log_format == "json"
