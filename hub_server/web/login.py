"""Logging in and out of the console (console accounts) and the portal (hub users' own
passwords). The login form carries a double-submit token (a cookie and a hidden field that
must match: there is no session yet to hold a CSRF token); attempts are limited per client
address, and every failure also counts against the name (lockout)."""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from hub_server.errors import AuthenticationFailed, HubError, PermissionDenied
from hub_server.web import i18n
from hub_server.web.context import CONTEXT, render
from hub_server.web.security import Handler, new_login_token, public, same_origin

__all__ = ["login_form", "login_submit", "logout", "set_session_cookie"]

LOGIN_COOKIE = "pg_login"
COOKIES = {"console": "pg_console", "portal": "pg_portal"}


def _next(kind: str, value: str) -> str:
    """Where to go after login: a page of this app only (never another site)."""
    if value.startswith(f"/{kind}/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"/{kind}/"


def set_session_cookie(response: web.StreamResponse, kind: str, token: str) -> None:
    """The session cookie: HttpOnly, Secure, SameSite=Strict, for its own app's path."""
    response.set_cookie(COOKIES[kind], token, path=f"/{kind}/", httponly=True, secure=True, samesite="Strict")


def _form(
    request: web.Request, kind: str, status: int = 200, error: str = "", name: str = ""
) -> web.Response:
    token = new_login_token()
    response = render(
        request,
        f"{kind}/login.html",
        status=status,
        error=error,
        name=name,
        login_token=token,
        next=_next(kind, request.query.get("next", "")),
    )
    response.set_cookie(LOGIN_COOKIE, token, path=f"/{kind}/", httponly=True, secure=True, samesite="Strict")
    return response


def login_form(kind: str) -> Handler:
    """GET: the login page."""

    @public
    async def handler(request: web.Request) -> web.StreamResponse:
        return _form(request, kind)

    handler.__name__ = f"{kind}_login_form"
    return handler


async def _authenticate(request: web.Request, kind: str, name: str, password: str, language: str) -> str:
    hub = request.config_dict[CONTEXT].hub
    if kind == "console":
        token, _, _ = await hub.console.login(name, password, language)
        return str(token)
    user_id = await hub.auth.check_web_password(name, password)
    token, _ = await hub.console.open_portal_session(user_id, language)
    return str(token)


def login_submit(kind: str) -> Handler:
    """POST: check the name and password, start a session, go where the user wanted."""

    @public
    async def handler(request: web.Request) -> web.StreamResponse:
        context = request.config_dict[CONTEXT]
        form = await request.post()
        submitted = str(form.get("login_token", ""))
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        if not same_origin(request) or not cookie or not hmac.compare_digest(submitted, cookie):
            raise web.HTTPForbidden(text="CSRF check failed: reload the login page")
        if not context.limiter.allow(request.remote or "?"):
            return _form(request, kind, 429, i18n.gettext("Too many attempts. Wait a minute and try again."))
        name = str(form.get("username", "")).strip()[:64]
        password = str(form.get("password", ""))[:128]
        try:
            token = await _authenticate(request, kind, name, password, i18n.current())
        except AuthenticationFailed:
            return _form(request, kind, 401, i18n.gettext("Name or password not recognised."), name)
        except PermissionDenied:  # locked
            return _form(
                request,
                kind,
                403,
                i18n.gettext("Too many failed attempts: this login is locked for a while."),
                name,
            )
        except HubError as error:
            return _form(request, kind, 400, str(error), name)
        response = web.HTTPSeeOther(_next(kind, str(form.get("next", ""))))
        set_session_cookie(response, kind, token)
        response.del_cookie(LOGIN_COOKIE, path=f"/{kind}/")
        raise response

    handler.__name__ = f"{kind}_login_submit"
    return handler


def logout(kind: str) -> Handler:
    """POST: end the session (CSRF-checked like every change)."""
    roles: Any = ("admin", "helpdesk", "auditor") if kind == "console" else ("user",)

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.config_dict[CONTEXT].hub.console.logout(request.cookies.get(COOKIES[kind], ""))
        response = web.HTTPSeeOther(f"/{kind}/login")
        response.del_cookie(COOKIES[kind], path=f"/{kind}/")
        raise response

    handler.__roles__ = frozenset(roles)  # type: ignore[attr-defined]
    handler.__name__ = f"{kind}_logout"
    return handler
