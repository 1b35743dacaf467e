"""``daihuo product import`` as a supplier runs it: a real process, a row-level report,
nothing imported from a file with errors unless ``--skip-bad-rows``."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

HEADER = (
    "product,title,category,description,price_min,price_max,commission,max_per_user,"
    "sku,spec,price,stock\n"
)
GOOD = (
    "tee,纯棉短袖T恤,服饰/男装,夏季新款,39.00,99.00,15,,S,尺码=S,59.90,100\n"
    "tee,,,,,,,,M,尺码=M,59.90,80\n"
    "lip,滋润口红,美妆/口红,,10,50,12.5,2,RED,颜色=红,29.90,5\n"
)
BAD = (
    "sock,袜子,服饰,,10,50,95,,A,,20,5\n"  # commission over 90 %
    "hat,帽子,服饰,,10,50,10,,A,,abc,5\n"  # not a price
)


def daihuo(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DAIHUO_DATA_DIR": str(tmp / "var"),
        "DAIHUO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'cli.db'}",
        "DAIHUO_PASSWORD_MEMORY_KIB": "64",
        "DAIHUO_PASSWORD_TIME_COST": "1",
        "DAIHUO_PASSWORD_PARALLELISM": "1",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "daihuo", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def products(tmp: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(tmp / "cli.db") as conn:
        return conn.execute(
            "SELECT p.title, p.state, count(s.id) FROM products p JOIN skus s "
            "ON s.product_id = p.id GROUP BY p.id"
        ).fetchall()


def test_importing_products_reports_every_bad_row(tmp_path: Path) -> None:
    assert daihuo(tmp_path, "db", "upgrade").returncode == 0
    r = daihuo(
        tmp_path,
        "user",
        "create",
        "--email",
        "factory@example.test",
        "--name",
        "工厂",
        "--password",
        "long enough pw",
    )
    assert r.returncode == 0, r.stderr
    r = daihuo(
        tmp_path,
        "tenant",
        "create",
        "--kind",
        "supplier",
        "--name",
        "源头工厂",
        "--owner",
        "factory@example.test",
    )
    supplier = r.stdout.split()[1]
    r = daihuo(
        tmp_path,
        "tenant",
        "create",
        "--kind",
        "merchant",
        "--name",
        "小店",
        "--owner",
        "factory@example.test",
    )
    merchant = r.stdout.split()[1]
    bad_file = tmp_path / "products.csv"
    bad_file.write_text(HEADER + GOOD + BAD, encoding="utf-8")

    r = daihuo(tmp_path, "product", "import", str(bad_file), "--supplier", supplier)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert "products.csv: line 5, column commission: " in lines[0]
    assert "products.csv: line 6, column price: " in lines[1]
    assert "nothing imported" in lines[-1]
    assert products(tmp_path) == []

    r = daihuo(
        tmp_path,
        "product",
        "import",
        str(bad_file),
        "--supplier",
        supplier,
        "--skip-bad-rows",
        "--submit",
    )
    assert r.returncode == 0, r.stderr
    assert "imported 2 product(s) with 3 SKU(s); skipped 2 bad row(s)" in r.stdout
    assert set(products(tmp_path)) == {
        ("纯棉短袖T恤", "in_review", 2),
        ("滋润口红", "in_review", 1),
    }

    good_file = tmp_path / "good.csv"
    good_file.write_text(HEADER + GOOD, encoding="utf-8")
    r = daihuo(tmp_path, "product", "import", str(good_file), "--supplier", merchant)
    assert r.returncode == 1 and "not a supplier" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = daihuo(tmp_path, "product", "import", str(tmp_path / "missing.csv"), "--supplier", supplier)
    assert r.returncode == 1 and "no file" in r.stderr
    (tmp_path / "gbk.csv").write_bytes((HEADER + GOOD).encode("gbk"))
    r = daihuo(tmp_path, "product", "import", str(tmp_path / "gbk.csv"), "--supplier", supplier)
    assert r.returncode == 1 and "not UTF-8" in r.stderr
