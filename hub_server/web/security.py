"""What every response and request of the web apps goes through: security headers, the
session from its cookie, role checks declared on each handler (default: refused), CSRF on every
state change, and a login rate limit per client address."""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from hub_server.domain.console import WebSession

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LoginLimiter",
    "allow",
    "check_csrf",
    "public",
    "roles_of",
    "security_headers",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000"


def allow(*roles: str) -> Callable[[H], H]:
    """Declare who may call a handler (console roles, or ``user`` in the portal)."""

    def mark(handler: H) -> H:
        handler.__roles__ = frozenset(roles)  # type: ignore[attr-defined]
        return handler

    return mark


def public(handler: H) -> H:
    """Declare a handler reachable without a session (login pages, static files)."""
    handler.__public__ = True  # type: ignore[attr-defined]
    return handler


def roles_of(handler: Any) -> frozenset[str] | None:
    """The roles a handler declared; None when it declared none (refused to everyone)."""
    roles: frozenset[str] | None = getattr(handler, "__roles__", None)
    return roles


def is_public(handler: Any) -> bool:
    """True for a handler declared :func:`public`."""
    return bool(getattr(handler, "__public__", False))


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer (errors too) carries the security headers; pages are never cached."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    if isinstance(response, web.HTTPException) and response.status >= 300:
        raise response
    return response


def same_origin(request: web.Request) -> bool:
    """A state change must come from our own pages: an ``Origin`` header, when sent, names us."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin == f"{request.scheme}://{request.host}"


def check_csrf(request: web.Request, session: WebSession, submitted: str | None) -> None:
    """Refuse (403) a state change whose token is missing or not the session's."""
    token = submitted or request.headers.get(CSRF_HEADER, "")
    if not same_origin(request) or not token or not hmac.compare_digest(token, session.csrf_token):
        raise web.HTTPForbidden(text="CSRF check failed: reload the page and try again")


def new_login_token() -> str:
    """The double-submit token of a login form (there is no session yet to hold one)."""
    return secrets.token_urlsafe(24)


class LoginLimiter:
    """At most ``per_minute`` login attempts per client address in any 60 s (a sliding window);
    memory is bounded by forgetting the oldest addresses."""

    def __init__(self, per_minute: int, addresses_max: int = 10_000) -> None:
        self.per_minute = per_minute
        self._addresses_max = addresses_max
        self._attempts: dict[str, deque[float]] = {}

    def allow(self, address: str, now: float | None = None) -> bool:
        """Count one attempt from ``address``; False when it is over the limit."""
        now = time.monotonic() if now is None else now
        attempts = self._attempts.pop(address, None) or deque()
        while attempts and now - attempts[0] >= 60.0:
            attempts.popleft()
        if len(self._attempts) >= self._addresses_max:
            self._attempts.pop(next(iter(self._attempts)))
        self._attempts[address] = attempts
        if len(attempts) >= self.per_minute:
            return False
        attempts.append(now)
        return True
