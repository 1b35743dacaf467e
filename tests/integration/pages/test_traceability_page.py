"""The supplier's traceability pages (/console/products/{id}/batches…) over HTTP on both
engines: a batch made through the form is the API's batch; an evidence file uploaded
through the form is told by its bytes, as on the API, and a refused one stores nothing; a
step recorded through the form is in the transparency log and on the public provenance
page; every refusal is shown beside its field and changes nothing; other tenants and
forms without their CSRF token are refused."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from daihuo.config import Settings
from daihuo.pages.console import CHINA_TIME
from daihuo.pages.i18n import messages
from daihuo.pages.traceability import parse_batch_form, parse_step_form

from tests.conftest import client_for, make_settings
from tests.fixtures import create_user
from tests.integration.catalog.test_traceability import table_rows
from tests.integration.catalog.trace_support import PDF, PNG, Traced, create_traced_batch
from tests.integration.orders.shop import product_body
from tests.integration.pages.test_console_pages import hidden, sign_in

ZH, EN = messages("zh"), messages("en")


def stored_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def china(at: datetime) -> str:
    """A time as a datetime-local field sends it, in China time."""
    return at.astimezone(CHINA_TIME).strftime("%Y-%m-%dT%H:%M")


def error_beside(html: str, field: str) -> str:
    found = re.search(rf'data-testid="error-{field}">([^<]*)<', html)
    assert found, f"no error beside {field}"
    return found.group(1)


def uploads_on(html: str) -> list[str]:
    return re.findall(r'name="evidence:([A-Za-z0-9_\-]+)"', html)


def test_the_forms_become_the_trace_services_schemas() -> None:
    data, _, errors = parse_batch_form({"code": " LOT-7 ", "quantity": "500", "notes": "春茶"})
    assert errors == {} and data is not None
    assert (data.code, data.quantity, data.notes) == ("LOT-7", 500, "春茶")
    for form, field, key in (
        ({"code": "LOT-7", "quantity": "五百"}, "quantity", "pool_err_whole"),
        ({"code": "LOT-7", "quantity": "-1"}, "quantity", "pool_err_whole"),
        ({"code": "批次 7", "quantity": "1"}, "code", "trace_err_code"),
        ({"code": "", "quantity": "1"}, "code", "trace_err_code"),
        ({"code": "L", "quantity": "1", "notes": "x" * 2001}, "notes", "trace_err_notes"),
    ):
        data, typed, errors = parse_batch_form(form)
        assert data is None and errors == {field: key}, form
        assert typed["code"] == form["code"].strip()

    # A datetime-local value is China time: 10:00 in Shanghai is 02:00 UTC.
    form = {"step": "inspected", "at": "2026-04-10T10:00", "place": " 安溪质检站 "}
    step, typed, errors = parse_step_form({**form, "evidence:evd_b": "on", "evidence:evd_a": "on"})
    assert errors == {} and step is not None
    assert step.at == datetime(2026, 4, 10, 2, 0, tzinfo=UTC)
    assert (step.place, step.evidence) == ("安溪质检站", ["evd_b", "evd_a"])
    assert typed["evidence:evd_a"] == "on"
    assert parse_step_form({**form, "at": "2026-04-10T10:00:30"})[0] is not None
    for change, field, key in (
        ({"at": "10/04/2026"}, "at", "trace_err_at"),
        ({"at": ""}, "at", "trace_err_at"),
        ({"place": ""}, "place", "trace_err_place"),
        ({"step": ""}, "step", "trace_err_step"),
        ({"evidence:bad id!": "on"}, "evidence", "trace_err_evidence"),
    ):
        step, _, errors = parse_step_form({**form, **change})
        assert step is None and errors == {field: key}, change


async def test_a_supplier_creates_a_batch_through_the_form_and_a_duplicate_saves_nothing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    supplier = await create_user(client, label="supplier", tenant_kind="supplier")
    r = await client.post(
        "/api/v1/products", json=product_body(title="高山乌龙茶"), headers=supplier.headers
    )
    product = r.json()
    await sign_in(client, supplier.email)
    page = await client.get(f"/console/products/{product['id']}")
    assert f'href="/console/products/{product["id"]}/batches"' in page.text
    page = await client.get(f"/console/products/{product['id']}/batches")
    assert page.status_code == 200 and ZH["trace_no_batches"] in page.text
    csrf = hidden(page.text, "csrf")
    url = f"/console/products/{product['id']}/batches"

    form = {"csrf": csrf, "code": "LOT-2026-11", "quantity": "500", "notes": "春茶，手工采摘"}
    r = await client.post(url, data=form)
    assert r.status_code == 303, r.text
    [batch] = (
        await client.get(url.replace("/console", "/api/v1"), headers=supplier.headers)
    ).json()["items"]
    assert (batch["code"], batch["quantity"], batch["notes"]) == (
        "LOT-2026-11",
        500,
        "春茶，手工采摘",
    )
    assert r.headers["location"] == f"{url}/{batch['id']}?done=batch"
    done = await client.get(r.headers["location"])
    assert done.status_code == 200 and ZH["trace_done_batch"] in done.text

    listing = (await client.get(url)).text
    row = listing.split(f'data-batch="{batch["id"]}"')[1].split("</tr>")[0]
    assert (
        f'href="/p/{batch["public_id"]}"' in row and f'src="/p/{batch["public_id"]}/qr.svg"' in row
    )
    assert re.search(r'data-role="steps">0<', row)
    assert (await client.get(f"/p/{batch['public_id']}/qr.svg")).status_code == 200

    before = await table_rows(settings.database_url)
    r = await client.post(url, data={**form, "quantity": "7", "notes": "另一批"})
    assert r.status_code == 409
    assert error_beside(r.text, "code") == ZH["trace_err_code_taken"]
    assert 'value="7"' in r.text and "另一批" in r.text  # kept as typed
    r = await client.post(url, data={**form, "code": "LOT-2", "quantity": "很多"})
    assert r.status_code == 422 and error_beside(r.text, "quantity") == ZH["pool_err_whole"]
    r = await client.post(url, data={**form, "code": "二号批次"})
    assert r.status_code == 422 and error_beside(r.text, "code") == ZH["trace_err_code"]
    r = await client.post(url, data={"code": "LOT-3", "quantity": "1"})  # no CSRF token
    assert r.status_code == 403
    r = await client.post(f"{url}?lang=en", data=form)  # in the page's language
    assert r.status_code == 409 and error_beside(r.text, "code") == EN["trace_err_code_taken"]
    assert await table_rows(settings.database_url) == before


async def _signed_in_batch(client: httpx.AsyncClient) -> tuple[Traced, str, str]:
    """A supplier's batch (made through the API), the supplier signed in; the batch's page
    URL and the session's CSRF token."""
    traced = await create_traced_batch(client)
    await sign_in(client, traced.supplier.email)
    url = f"/console/products/{traced.product['id']}/batches/{traced.batch['id']}"
    page = await client.get(url)
    assert page.status_code == 200, page.text
    assert ZH["trace_no_uploads"] in page.text and ZH["no_steps"] in page.text
    return traced, url, hidden(page.text, "csrf")


async def test_evidence_is_told_by_its_bytes_and_a_refused_file_stores_nothing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    traced, url, csrf = await _signed_in_batch(client)
    before, files_before = await table_rows(settings.database_url), stored_files(settings)
    for files, key in (
        ({"file": ("photo.png", b"just some text, renamed", "image/png")}, "trace_err_file_type"),
        ({"file": ("empty.png", b"", "image/png")}, "trace_err_file_empty"),
        (None, "trace_err_file_empty"),  # no file at all
    ):
        r = await client.post(f"{url}/evidence", files=files, data={"csrf": csrf})
        assert r.status_code == 422, r.text
        assert error_beside(r.text, "file") == ZH[key]
        assert 'aria-invalid="true"' in r.text.split('id="f-file"')[1].split(">")[0]
    r = await client.post(f"{url}/evidence", files={"file": ("a.png", PNG, "image/png")})
    assert r.status_code == 403  # no CSRF token
    assert await table_rows(settings.database_url) == before
    assert stored_files(settings) == files_before

    # Told by its bytes, not its name or declared type.
    r = await client.post(
        f"{url}/evidence", files={"file": ("scan.txt", PNG, "text/plain")}, data={"csrf": csrf}
    )
    assert r.status_code == 303 and r.headers["location"] == f"{url}?done=evidence"
    r = await client.post(
        f"{url}/evidence",
        files={"file": ("report.pdf", PDF, "application/pdf")},
        data={"csrf": csrf},
    )
    assert r.status_code == 303
    page = await client.get(f"{url}?done=evidence")
    assert ZH["trace_done_evidence"] in page.text
    uploaded = uploads_on(page.text)
    assert len(uploaded) == 2 and len(stored_files(settings)) == len(files_before) + 2
    bodies = {eid: (await client.get(f"{url}/evidence/{eid}")) for eid in uploaded}
    assert sorted(r.content for r in bodies.values()) == sorted([PNG, PDF])
    assert {r.headers["content-type"] for r in bodies.values()} == {"image/png", "application/pdf"}
    # Unused uploads stay private: the public page's file route does not serve them yet.
    for eid in uploaded:
        r = await client.get(f"/p/{traced.batch['public_id']}/evidence/{eid}")
        assert r.status_code == 404


async def test_evidence_over_the_trace_limit_is_refused_beside_the_field(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, max_body_bytes=9 * 1024 * 1024)
    async with client_for(settings) as client:
        _, url, csrf = await _signed_in_batch(client)
        before = await table_rows(settings.database_url)
        big = PNG + b"\x00" * (8 * 1024 * 1024 + 1 - len(PNG))
        r = await client.post(
            f"{url}/evidence", files={"file": ("big.png", big, "image/png")}, data={"csrf": csrf}
        )
        assert r.status_code == 422
        assert error_beside(r.text, "file") == ZH["trace_err_file_size"].replace("{mb}", "8")
        assert await table_rows(settings.database_url) == before and stored_files(settings) == []


async def test_a_step_recorded_through_the_form_is_in_the_log_and_on_the_public_page(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    traced, url, csrf = await _signed_in_batch(client)
    r = await client.post(
        f"{url}/evidence", files={"file": ("tea.png", PNG, "image/png")}, data={"csrf": csrf}
    )
    assert r.status_code == 303
    [photo] = uploads_on((await client.get(url)).text)
    when = (datetime.now(UTC) - timedelta(days=2)).replace(second=0, microsecond=0)
    form = {"csrf": csrf, "step": "inspected", "at": china(when), "place": "安溪县质检站"}

    r = await client.post(f"{url}/steps", data={**form, f"evidence:{photo}": "on"})
    assert r.status_code == 303 and r.headers["location"] == f"{url}?done=step"
    api = (await client.get(traced.batch_url, headers=traced.supplier.headers)).json()
    [step] = api["steps"]
    assert (step["step"], step["place"]) == ("inspected", "安溪县质检站")
    assert datetime.fromisoformat(step["at"]) == when  # typed in China time, kept in UTC
    assert step["leaf_index"] is not None
    assert [e["sha256"] for e in step["evidence"]] == [hashlib.sha256(PNG).hexdigest()]

    page = (await client.get(r.headers["location"])).text
    assert ZH["trace_done_step"] in page and uploads_on(page) == []
    item = page.split(f'data-step="{step["id"]}"')[1].split("\n  </li>")[0]
    assert f'data-leaf-index="{step["leaf_index"]}"' in page
    assert f"/api/v1/ledger/proof/inclusion?index={step['leaf_index']}&amp;size=" in item
    assert f'href="/p/{traced.batch["public_id"]}#step-{step["id"]}"' in item
    assert china(when).replace("T", " ") in item and ZH["trace_verify_public"] in item
    proof = item.split("/api/v1/ledger/proof/inclusion?")[1].split('"')[0].replace("&amp;", "&")
    assert (await client.get(f"/api/v1/ledger/proof/inclusion?{proof}")).status_code == 200
    listing = (await client.get(f"/console/products/{traced.product['id']}/batches")).text
    assert re.search(r'data-role="steps">1<', listing)

    public = (await client.get(f"/p/{traced.batch['public_id']}")).text
    li = public.split(f'id="step-{step["id"]}"')[1].split("</li>\n  \n")[0]
    assert f'data-leaf-index="{step["leaf_index"]}"' in li and "安溪县质检站" in li
    assert "检验" in li and f"/p/{traced.batch['public_id']}/evidence/{photo}" in li

    # Refusals beside their fields; nothing recorded, nothing appended to the log.
    before = await table_rows(settings.database_url)
    future = china(datetime.now(UTC) + timedelta(hours=1))
    for change, field, key in (
        ({"step": "teleported"}, "step", "trace_err_step"),
        ({"at": future}, "at", "trace_err_at_range"),
        ({"at": "1999-12-31T23:00"}, "at", "trace_err_at_range"),
        ({"at": "明天"}, "at", "trace_err_at"),
        ({"place": "  "}, "place", "trace_err_place"),
        ({f"evidence:{photo}": "on"}, "evidence", "trace_err_evidence"),  # used already
        ({"evidence:evd_nope": "on"}, "evidence", "trace_err_evidence"),
    ):
        r = await client.post(f"{url}/steps", data={**form, **change})
        assert r.status_code == 422, (change, r.text)
        assert error_beside(r.text, field) == ZH[key], change
    r = await client.post(f"{url}/steps?lang=en", data={**form, "step": "teleported"})
    assert error_beside(r.text, "step") == EN["trace_err_step"]
    r = await client.post(f"{url}/steps", data={**form, "csrf": "forged"})
    assert r.status_code == 403
    assert await table_rows(settings.database_url) == before


async def test_other_tenants_can_neither_see_nor_change_a_suppliers_batches(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    traced = await create_traced_batch(client)
    elsewhere = await create_traced_batch(client, code="B2", supplier=traced.supplier)
    pid, bid = traced.product["id"], traced.batch["id"]
    base = f"/console/products/{pid}/batches"
    rival = await create_user(client, label="rival", tenant_kind="supplier")
    merchant = await create_user(client, label="merchant", tenant_kind="merchant")
    # The owner's file, to ask for it as the others.
    await sign_in(client, traced.supplier.email)
    csrf = hidden((await client.get(f"{base}/{bid}")).text, "csrf")
    await client.post(f"{base}/{bid}/evidence", files={"file": ("a.png", PNG)}, data={"csrf": csrf})
    [upload] = uploads_on((await client.get(f"{base}/{bid}")).text)
    # The owner's own batch under another of its products: no such batch there.
    other_product = f"/console/products/{elsewhere.product['id']}/batches/{bid}"
    assert (await client.get(other_product)).status_code == 404
    r = await client.post(
        f"{other_product}/steps",
        data={"csrf": csrf, "step": "packed", "at": "2026-01-01T08:00", "place": "x"},
    )
    assert r.status_code == 404
    before, files = await table_rows(settings.database_url), stored_files(settings)

    step = {"step": "packed", "at": "2026-01-01T08:00", "place": "厦门仓"}
    for who, refused in ((rival, (404,)), (merchant, (303,))):
        client.cookies.clear()
        await sign_in(client, who.email)
        csrf = hidden((await client.get("/console/pool")).text, "csrf")
        for method, path, kwargs in (
            ("GET", base, {}),
            ("GET", f"{base}/{bid}", {}),
            ("GET", f"{base}/{bid}/evidence/{upload}", {}),
            ("POST", base, {"data": {"csrf": csrf, "code": "X", "quantity": "1"}}),
            ("POST", f"{base}/{bid}/steps", {"data": {"csrf": csrf, **step}}),
            (
                "POST",
                f"{base}/{bid}/evidence",
                {"data": {"csrf": csrf}, "files": {"file": ("b.png", PNG, "image/png")}},
            ),
        ):
            r = await client.request(method, path, **kwargs)
            assert r.status_code in refused, (who.email, method, path, r.status_code)
            assert PNG not in r.content and traced.batch["public_id"] not in r.text
            if r.status_code == 303:
                assert r.headers["location"] == "/console/dashboard"
    client.cookies.clear()
    r = await client.get(f"{base}/{bid}")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    assert await table_rows(settings.database_url) == before and stored_files(settings) == files
