"""The IPP printer as an aiohttp application: ``POST /ipp/print`` carries IPP, ``GET /ipp/print``
describes the queue, ``GET /ipp/icons/printer-<size>.png`` serves the ``printer-icons``.

The hub mounts it on its own HTTP server (``root.add_subapp("/ipp", app)`` keeps these paths) or
:func:`~.server.start_intake` serves it alone.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from .http_server import HttpLimits, serve
from .icons import ICON_SIZES, printer_icon
from .ipp_printer import IppPrinter

__all__ = ["PRINTER_PATH", "ipp_application"]

PRINTER_PATH = "/print"  # below the app's mount point: /ipp/print


def ipp_application(printer: IppPrinter, limits: HttpLimits, count: Callable[[str], None]) -> web.Application:
    """An application with the printer's routes, to mount at ``/ipp``."""

    async def ipp(request: web.Request) -> web.StreamResponse:
        return await serve(request, printer.handle_http, limits, count)

    async def icon(request: web.Request) -> web.StreamResponse:
        size_text = request.match_info["size"]
        if not size_text.isdigit() or int(size_text) not in ICON_SIZES:
            raise web.HTTPNotFound()
        return web.Response(
            body=printer_icon(int(size_text)),
            content_type="image/png",
            headers={"Cache-Control": "max-age=86400"},
        )

    app = web.Application()
    app.router.add_route("POST", PRINTER_PATH, ipp)
    app.router.add_route("GET", PRINTER_PATH, ipp)
    app.router.add_get("/icons/printer-{size}.png", icon)
    return app
