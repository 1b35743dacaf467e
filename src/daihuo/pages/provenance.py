"""The public provenance page of a batch (``/p/{public_id}``), its QR code, and the
product image and evidence files it links to. No login: the public id printed on the
package is the key.

The page is rendered on the server, but its "verified" marks are not: ``provenance.js``
fetches the log's latest checkpoint, each step's entry and inclusion proof from the
public ledger API and checks them in the browser (WebCrypto: SHA-256 and Ed25519)
against the verifier keys published in the page. See docs/ledger.md, Traceability.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors, trace
from daihuo.catalog.api import get_storage
from daihuo.core.storage import Storage
from daihuo.pages import TEMPLATE_DIR
from daihuo.pages.i18n import LANG_COOKIE, Lang, messages, pick_lang, step_label
from daihuo.tenancy.deps import get_session

router = APIRouter(include_in_schema=False)
PublicId = Annotated[
    str,
    Path(
        min_length=trace.PUBLIC_ID_LENGTH, max_length=trace.PUBLIC_ID_LENGTH, pattern=r"^[0-9a-z]+$"
    ),
]
EvidenceId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]
CHINA_TIME = timezone(timedelta(hours=8))
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

templates = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(["html"]),
    enable_async=False,
)


def _local(ts: str) -> str:
    parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return parsed.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def page_link(request: Request, public_id: str) -> str:
    """The absolute URL of a batch's page: ``DAIHUO_PUBLIC_URL`` if set, else this host."""
    base = request.app.state.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}{trace.page_url(public_id)}"


@router.get("/p/{public_id}", response_class=HTMLResponse)
async def provenance_page(
    request: Request,
    public_id: PublicId,
    lang: str | None = Query(default=None, max_length=5),
    session: AsyncSession = Depends(get_session),
) -> HTMLResponse:
    """The batch's product, supplier and timeline, verified in the browser."""
    chosen: Lang = pick_lang(lang, request.cookies.get(LANG_COOKIE))
    text = messages(chosen)
    headers = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}
    try:
        data = await trace.provenance(session, public_id)
    except errors.BatchNotFound:
        html = templates.get_template("not_found.html").render(lang=chosen, t=text)
        return HTMLResponse(html, status_code=404, headers=headers)
    ledger = getattr(request.app.state, "ledger", None)
    keyring = getattr(ledger, "keyring", None)
    keys = [v.key_string() for v in keyring.published] if keyring is not None else []
    html = templates.get_template("provenance.html").render(
        lang=chosen,
        t=text,
        data=data,
        steps=[
            {
                "s": s,
                "label": step_label(s.step, chosen),
                "local": _local(s.at),
                "evidence_attr": ",".join(sorted(e.sha256 for e in s.evidence)),
            }
            for s in data.steps
        ],
        origin=keyring.origin if keyring is not None else "",
        keys_json=json.dumps(keys),
        messages_json=json.dumps(text, ensure_ascii=False).replace("</", "<\\/"),
        other_lang="en" if chosen == "zh" else "zh",
        link=page_link(request, public_id),
    )
    return HTMLResponse(html, headers=headers)


@router.get("/p/{public_id}/qr.svg")
async def provenance_qr(
    request: Request, public_id: PublicId, session: AsyncSession = Depends(get_session)
) -> Response:
    """The QR code of the batch's page, to print on the package (SVG, made locally)."""
    await trace.provenance(session, public_id)  # 404 for an unknown batch
    qr = segno.make(page_link(request, public_id), error="m")
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=4, border=4, xmldecl=True, title=public_id)
    return Response(
        out.getvalue(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/p/{public_id}/image")
async def provenance_image(
    public_id: PublicId,
    session: AsyncSession = Depends(get_session),
    storage: Storage = Depends(get_storage),
) -> Response:
    """The product's first image, for the batch's page."""
    content_type, data = await trace.provenance_image(session, storage, public_id)
    return Response(
        data,
        media_type=content_type,
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/p/{public_id}/evidence/{evidence_id}")
async def provenance_evidence(
    public_id: PublicId,
    evidence_id: EvidenceId,
    session: AsyncSession = Depends(get_session),
    storage: Storage = Depends(get_storage),
) -> Response:
    """An evidence file of a recorded step: anyone can hash it and compare with the log."""
    content_type, data = await trace.provenance_evidence(session, storage, public_id, evidence_id)
    return Response(
        data,
        media_type=content_type,
        headers={
            "Cache-Control": "public, max-age=86400",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": f'inline; filename="{evidence_id}"',
        },
    )
