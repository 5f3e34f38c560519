"""The user portal: a user's balance and history, their held jobs (thumbnails, prices, delete),
web print, vouchers and a new PIN. Every handler acts for the logged-in user only.

Web print takes PDF, JPEG and PNG, recognised by their first bytes (the name and the browser's
type are not trusted), at most ``[web] upload_mb_max``. A PDF streams into the spool as it
arrives; an image (at most :data:`IMAGE_PIXELS_MAX` pixels) is put on an A4 page as a PDF
(img2pdf: JPEG without re-encoding). Either way it becomes a held job through the print
intake: the spool's limits, encryption at rest, and analysis under the intake's Ghostscript
limits (time, memory, output), which finds its pages, colour and price.

A scan too large to mail is mailed as a link (``/scans/<token>``, which sends the browser here
through the portal's login); only the scan's owner may download it (:class:`ScanDownloads`).

A new PIN is drawn by the hub, not chosen: while a PIN alone logs in, PINs are unique, and
letting a user choose would tell them which PINs others hold.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from hub_server.domain.release import JobView
from hub_server.domain.users import UserRef
from hub_server.errors import HubError
from hub_server.scan import LinkError, LinkExpired
from hub_server.web import i18n
from hub_server.web.context import CONTEXT, WebContext, blocking, render, session_of
from hub_server.web.errors import refusal
from hub_server.web.login import login_form, login_submit, logout
from hub_server.web.security import CSRF_FIELD, allow, check_csrf

__all__ = ["add_routes"]

USER = ("user",)
IMAGE_PIXELS_MAX = 50_000_000
HISTORY_ROWS = 20
KINDS = {b"%PDF-": "pdf", b"\xff\xd8\xff": "jpeg", b"\x89PNG\r\n\x1a\n": "png"}
_UNPRINTABLE = re.compile(r"[^\w .,()+&@#-]", re.UNICODE)


class UploadTooLarge(Exception):
    """The upload went past ``upload_mb_max``."""


def _context(request: web.Request) -> WebContext:
    return request.config_dict[CONTEXT]


def _user_id(request: web.Request) -> int:
    return session_of(request).principal_id


def sniff(head: bytes) -> str | None:
    """``pdf``, ``jpeg`` or ``png`` from a document's first bytes; None for anything else."""
    for magic, kind in KINDS.items():
        if head.startswith(magic):
            return kind
    return None


def job_name(filename: str | None) -> str:
    """A job name from an uploaded file's name: printable, at most 100 characters."""
    name = _UNPRINTABLE.sub("_", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip()
    return name[:100] or "web upload"


@allow(*USER)
async def home(request: web.Request) -> web.StreamResponse:
    """Balance, history, held jobs and the forms."""
    context = _context(request)
    hub = context.hub
    user_id = _user_id(request)
    ref = UserRef(id=user_id)

    def read() -> dict[str, Any]:
        accounts = hub.accounts.all(ref)
        jobs: list[JobView] = []
        if context.uploads is not None:
            jobs, _ = hub.printing.list_jobs("", user_id, printer_group="default")
        return {
            "user": hub.users.get(ref),
            "balance": next((a.balance_cents for a in accounts if a.kind == "prepaid"), 0),
            "arrears": -sum(a.balance_cents for a in accounts if a.kind == "arrears"),
            "history": hub.accounts.ledger(ref, "", 0, HISTORY_ROWS),
            "jobs": jobs,
        }

    return render(
        request,
        "portal/home.html",
        done=request.query.get("done", ""),
        printing=context.uploads is not None,
        upload_mb_max=context.config.upload_mb_max,
        **await blocking(read),
    )


@allow(*USER)
async def thumbnail(request: web.Request) -> web.StreamResponse:
    """The PNG of a job's first page (own or delegated jobs only)."""
    try:
        png = await blocking(
            _context(request).hub.printing.thumbnail, _user_id(request), int(request.match_info["job_id"])
        )
    except HubError as error:
        raise refusal(error) from None
    if not png:
        raise web.HTTPNotFound(text="no thumbnail")
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@allow(*USER)
async def scan_download(request: web.Request) -> web.StreamResponse:
    """A scan mailed as a link (too large to attach), to its owner only: one file as it is,
    several as a zip."""
    context = _context(request)
    if context.scan_downloads is None:
        raise web.HTTPNotFound(text="this hub keeps no scans for download")
    username = (await blocking(context.hub.users.get, UserRef(id=_user_id(request)))).username
    try:
        files = await blocking(context.scan_downloads.files, request.match_info["token"], username)
    except LinkExpired:
        raise web.HTTPGone(text="this download link has expired; scan the document again") from None
    except LinkError:
        raise web.HTTPNotFound(text="no such scan for you") from None
    headers = {"Cache-Control": "private, no-store"}
    if len(files) == 1:
        headers["Content-Disposition"] = f'attachment; filename="{files[0].name}"'
        return web.FileResponse(files[0], headers=headers)
    headers["Content-Disposition"] = 'attachment; filename="scan.zip"'
    return web.Response(body=await blocking(_zipped, files), content_type="application/zip", headers=headers)


def _zipped(files: list[Path]) -> bytes:
    """The files of one scan in a zip (stored: PDFs, TIFFs and JPEGs do not compress)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in files:
            archive.write(path, path.name)
    return buffer.getvalue()


@allow(*USER)
async def delete_job(request: web.Request) -> web.StreamResponse:
    """Delete one of the user's own held jobs (its document is shredded)."""
    job_id = int(request.match_info["job_id"])
    try:
        deleted = await _context(request).hub.printing.delete(_user_id(request), [job_id])
    except HubError as error:
        raise refusal(error) from None
    if not deleted:
        raise web.HTTPNotFound(text="no such job of yours to delete")
    raise web.HTTPSeeOther("/portal/?done=deleted")


async def _bounded(first: bytes, part: BodyPartReader, limit: int) -> AsyncIterator[bytes]:
    size = len(first)
    yield first
    while chunk := await part.read_chunk(256 * 1024):
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge()
        yield chunk


def image_to_pdf(data: bytes) -> bytes:
    """An image on an A4 page, as PDF; ValueError for one that is not a sound image."""
    import img2pdf
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > IMAGE_PIXELS_MAX:
                raise ValueError(f"image of {width} x {height} pixels is too large")
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            if image.mode in ("RGBA", "LA", "P") or (
                image.format == "PNG" and image.mode not in ("RGB", "L", "1")
            ):
                buffer = io.BytesIO()
                image.convert("RGB").save(buffer, "PNG")
                data = buffer.getvalue()
        a4 = (img2pdf.mm_to_pt(210), img2pdf.mm_to_pt(297))
        converted: bytes = img2pdf.convert(
            data, layout_fun=img2pdf.get_layout_fun(a4, fit=img2pdf.FitMode.into)
        )
        return converted
    except (OSError, Image.DecompressionBombError, img2pdf.ImageOpenError) as error:
        raise ValueError(f"not an image that can be printed: {error}") from None


async def _single(data: bytes) -> AsyncIterator[bytes]:
    yield data


@allow(*USER)
async def upload(request: web.Request) -> web.StreamResponse:
    """Web print: ``multipart/form-data`` with the CSRF token first, then ``document``."""
    context = _context(request)
    if context.uploads is None:
        raise web.HTTPConflict(text="web print needs print intake ([print] ipp_listen or lpd_listen)")
    session = session_of(request)
    if request.content_type != "multipart/form-data":
        raise web.HTTPBadRequest(text="send the document as multipart/form-data")
    reader = await request.multipart()
    part = await reader.next()
    if not isinstance(part, BodyPartReader) or part.name != CSRF_FIELD:
        raise web.HTTPForbidden(text="CSRF check failed: the token comes first")
    check_csrf(request, session, (await part.read(decode=False))[:128].decode(errors="replace"))
    part = await reader.next()
    if not isinstance(part, BodyPartReader) or part.name != "document":
        raise web.HTTPBadRequest(text="no document in the upload")
    limit = context.config.upload_mb_max * 1024 * 1024
    first = await part.read_chunk(256 * 1024)
    kind = sniff(first)
    if kind is None:
        raise web.HTTPUnsupportedMediaType(text=i18n.gettext("Only PDF, JPEG and PNG files can be printed."))
    name = job_name(part.filename)
    try:
        if kind == "pdf":
            chunks = _bounded(first, part, limit)
        else:
            data = b"".join([chunk async for chunk in _bounded(first, part, limit)])
            chunks = _single(await blocking(image_to_pdf, data))
        job_id = await context.uploads.submit(session.name, name, "application/pdf", chunks)
    except UploadTooLarge:
        raise web.HTTPRequestEntityTooLarge(
            max_size=limit, actual_size=limit + 1, text=i18n.gettext("The file is too large.")
        ) from None
    except ValueError as error:
        raise web.HTTPUnsupportedMediaType(text=str(error)) from None
    except HubError as error:
        raise refusal(error) from None
    await context.hub.console.audit(session.name, "user", "portal.print", f"job {job_id}", name)
    raise web.HTTPSeeOther("/portal/?done=uploaded")


@allow(*USER)
async def voucher(request: web.Request) -> web.StreamResponse:
    """Redeem a voucher code (wrong codes count towards the user's voucher lockout)."""
    form = await request.post()
    code = str(form.get("code", "")).strip()[:64]
    try:
        await _context(request).hub.vouchers.redeem_on_web(code, _user_id(request))
    except HubError as error:
        raise refusal(error) from None
    raise web.HTTPSeeOther("/portal/?done=voucher")


@allow(*USER)
async def new_pin(request: web.Request) -> web.StreamResponse:
    """A new random PIN, shown once."""
    hub = _context(request).hub
    try:
        pin = await hub.users.set_pin(UserRef(id=_user_id(request)), "")
    except HubError as error:
        raise refusal(error) from None
    return render(request, "portal/pin.html", pin=pin)


@allow(*USER)
async def language(request: web.Request) -> web.StreamResponse:
    """Switch the session's language."""
    form = await request.post()
    chosen = str(form.get("language", ""))[:2]
    if chosen not in i18n.LANGUAGES:
        raise web.HTTPBadRequest(text="unknown language")
    await _context(request).hub.console.set_language(request.cookies.get("pg_portal", ""), chosen)
    raise web.HTTPSeeOther("/portal/")


def add_routes(app: web.Application) -> None:
    """Every portal route."""
    app.router.add_get("/login", login_form("portal"))
    app.router.add_post("/login", login_submit("portal"))
    app.router.add_post("/logout", logout("portal"))
    app.router.add_get("/", home)
    app.router.add_get("/jobs/{job_id:\\d+}/thumbnail.png", thumbnail)
    app.router.add_get("/scans/{token}", scan_download)
    app.router.add_post("/jobs/{job_id:\\d+}/delete", delete_job)
    app.router.add_post("/print", upload)
    app.router.add_post("/voucher", voucher)
    app.router.add_post("/pin", new_pin)
    app.router.add_post("/language", language)
