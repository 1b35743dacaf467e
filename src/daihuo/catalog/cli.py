"""``daihuo product …``: the supplier's command line (registered in ``daihuo.cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

app = typer.Typer(no_args_is_help=True, help="Supply-pool products.")


@app.command("import")
def import_products(
    file: Path = typer.Argument(..., help="CSV file: one row per SKU (see docs/commerce.md)."),
    supplier: str = typer.Option(..., help="Supplier tenant id the products belong to."),
    skip_bad_rows: bool = typer.Option(
        False, "--skip-bad-rows", help="Import the good rows of a file that has bad ones."
    ),
    submit: bool = typer.Option(False, "--submit", help="Send the products for review."),
) -> None:
    """Import products from a CSV file; every bad row is reported with line and column."""
    from daihuo.catalog.csvimport import parse_products
    from daihuo.cli import _with_session, err, fail, out, run
    from daihuo.config import get_settings

    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"no file {file}")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    parsed = parse_products(text)
    for problem in parsed.errors:
        err.print(f"{file.name}: {problem}", highlight=False, soft_wrap=True, markup=False)
    if parsed.errors and not skip_bad_rows:
        fail(
            f"{len(parsed.bad_lines)} bad row(s) of {parsed.rows}; nothing imported "
            "(fix them, or import the rest with --skip-bad-rows)"
        )
    if not parsed.products:
        fail("no product to import")

    async def go(session: Any) -> list[str]:
        from daihuo.catalog import service
        from daihuo.catalog.errors import WrongTenantKind
        from daihuo.tenancy.domain import Permission, Principal, Role, TenantKind, Via

        if await service.tenant_kind(session, supplier) is not TenantKind.supplier:
            raise WrongTenantKind(f"{supplier} is not a supplier tenant")
        ctx = Principal(
            via=Via.bearer,
            user_id=None,
            tenant_id=supplier,
            tenant_kind=TenantKind.supplier,
            role=Role.owner,
            permissions=frozenset(Permission),
        )
        ids = []
        for product in parsed.products:
            made = await service.create_product(session, ctx, product.data)
            if submit:
                await service.submit_product(session, ctx, made.id)
            ids.append(made.id)
        return ids

    ids = run(_with_session(get_settings(), go, tenant_id=supplier))
    skus = sum(len(p.data.skus) for p in parsed.products)
    rejected = len(parsed.bad_lines)
    out.print(
        f"imported {len(ids)} product(s) with {skus} SKU(s)"
        + (f"; skipped {rejected} bad row(s)" if rejected else "")
        + ("; sent for review" if submit else "")
    )
