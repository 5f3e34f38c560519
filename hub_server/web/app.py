"""The web apps and how they are put together: one root :class:`aiohttp.web.Application` with
the console under ``/console/``, the portal under ``/portal/`` and shared static files under
``/static/``; ``/`` leads to the portal.

Each sub-application has its own session cookie (``pg_console`` with path ``/console/``,
``pg_portal`` with path ``/portal/``; HttpOnly, Secure, SameSite=Strict) and its own middleware:
it loads the session, sets the language, refuses what the handler did not declare (a handler
without :func:`~hub_server.web.security.allow` or :func:`~hub_server.web.security.public` is
refused to everyone), checks CSRF on every state change and keeps the session alive.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Middleware

from hub_server.web import i18n
from hub_server.web.context import CONTEXT, SESSION, WebContext, blocking
from hub_server.web.security import (
    CSRF_FIELD,
    SAFE_METHODS,
    Handler,
    check_csrf,
    is_public,
    public,
    roles_of,
    security_headers,
)

__all__ = ["COOKIES", "build_app"]

HERE = Path(__file__).parent
COOKIES = {"console": "pg_console", "portal": "pg_portal"}
FORM_BYTES_MAX = 256 * 1024  # forms; uploads stream through multipart and have their own bound
LANGUAGE_COOKIE = "pg_lang"


def session_middleware(kind: str) -> Middleware:
    """The middleware of the ``console`` or ``portal`` sub-application."""
    login = f"/{kind}/login"

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        context = request.config_dict[CONTEXT]
        token = request.cookies.get(COOKIES[kind], "")
        session = await blocking(context.hub.console.session, token) if token else None
        if session is not None and session.kind != kind:
            session = None
        request[SESSION] = session
        chosen = session.language if session else request.cookies.get(LANGUAGE_COOKIE, "")
        i18n.use(i18n.language_of(request.headers.get("Accept-Language", ""), chosen))
        target = request.match_info.handler
        if not is_public(target):
            if session is None:
                if request.method == "GET" and "/api/" not in request.path:
                    raise web.HTTPFound(f"{login}?next={quote(request.path_qs, safe='/')}")
                raise web.HTTPUnauthorized(text="log in first")
            roles = roles_of(target)
            if roles is None or session.role not in roles:
                raise web.HTTPForbidden(text="your role may not do this")
            if request.method not in SAFE_METHODS and request.content_type != "multipart/form-data":
                form = await request.post()
                check_csrf(request, session, str(form.get(CSRF_FIELD, "")) or None)
            if session.stale(context.hub.clock.now_us()):
                await context.hub.console.touch(token)
        return await handler(request)

    return middleware


@public
async def home(request: web.Request) -> web.StreamResponse:
    """``/``: the portal (admins bookmark ``/console/``)."""
    raise web.HTTPFound("/portal/")


@public
async def scan_link(request: web.Request) -> web.StreamResponse:
    """``/scans/<token>``, the download link mailed for a large scan: the portal serves it to
    its owner, after the portal's login."""
    raise web.HTTPFound(f"/portal/scans/{quote(request.match_info['token'], safe='')}")


def build_app(context: WebContext) -> web.Application:
    """The root application with the console and the portal mounted."""
    from hub_server.web import console, portal

    root = web.Application(middlewares=[security_headers], client_max_size=FORM_BYTES_MAX)
    root[CONTEXT] = context
    environment = aiohttp_jinja2.setup(
        root,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    environment.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    environment.globals.update(money=i18n.money, number=i18n.number, when=i18n.when, languages=i18n.LANGUAGES)
    root.router.add_get("/", home)
    root.router.add_get("/scans/{token}", scan_link)
    root.router.add_static("/static/", HERE / "static", name="static")
    for kind, module in (("console", console), ("portal", portal)):
        app = web.Application(middlewares=[session_middleware(kind)], client_max_size=FORM_BYTES_MAX)
        app[CONTEXT] = context
        module.add_routes(app)
        root.add_subapp(f"/{kind}/", app)
    return root
