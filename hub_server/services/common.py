"""What every servicer shares: the one table from the hub's errors to gRPC status codes, the
caller's identity from call metadata, and the admin credential in front of every admin call.

An unexpected error (a bug, a broken invariant, a database gone away) reaches the client as
``INTERNAL: internal error (incident <id>)`` and nothing more: its class, its message (which may
name accounts and balances) and its traceback go to the hub's log under the same incident id.
"""

from __future__ import annotations

import functools
import inspect
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from hub_server.domain import Hub
from hub_server.errors import (
    AlreadyExists,
    AuthenticationFailed,
    HubError,
    InvalidRequest,
    InvariantViolation,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    Refused,
    Unavailable,
)

__all__ = [
    "AUTHORIZATION_HEADER",
    "TERMINAL_ID_HEADER",
    "TERMINAL_KEY_HEADER",
    "TerminalCalls",
    "abort_for",
    "bearer_token",
    "grpc_status_for",
    "metadata_value",
    "requires_admin",
    "translate_errors",
]

TERMINAL_ID_HEADER = "x-printgate-terminal-id"
TERMINAL_KEY_HEADER = "x-printgate-terminal-key"
AUTHORIZATION_HEADER = "authorization"
C = TypeVar("C", bound=type)
log = logging.getLogger(__name__)
Rpc = Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[Any]]

_STATUS_BY_ERROR: tuple[tuple[type[HubError], grpc.StatusCode], ...] = (
    (InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (AuthenticationFailed, grpc.StatusCode.UNAUTHENTICATED),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (Refused, grpc.StatusCode.FAILED_PRECONDITION),
    (QuotaExceeded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (InvariantViolation, grpc.StatusCode.INTERNAL),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
)


def grpc_status_for(error: HubError) -> grpc.StatusCode:
    """The gRPC status code a hub error is reported with."""
    for error_type, status in _STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return grpc.StatusCode.UNKNOWN


async def abort_for(context: grpc.aio.ServicerContext, rpc: str, error: Exception) -> None:
    """End the call for ``error``: a :class:`HubError` the client may read with its status, any
    other error (and :class:`InvariantViolation`) as a bare internal error, logged in full."""
    if isinstance(error, HubError) and not isinstance(error, InvariantViolation):
        await context.abort(grpc_status_for(error), str(error))
    incident = secrets.token_hex(4)
    log.error("internal error in %s (incident %s)", rpc, incident, exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error (incident {incident})")


def _rpcs(cls: type) -> list[tuple[str, Rpc]]:
    """The unary RPC methods a servicer class defines (CamelCase coroutines)."""
    return [
        (name, member)
        for name, member in vars(cls).items()
        if name[:1].isupper() and inspect.iscoroutinefunction(member)
    ]


def _translated(method: Rpc) -> Rpc:
    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise  # the method ended the call itself
        except Exception as error:
            await abort_for(context, method.__qualname__, error)

    return wrapper


def translate_errors(cls: C) -> C:
    """Class decorator: every unary RPC reports its errors through :func:`abort_for`. (A
    server-streaming RPC is an async generator and calls it itself.)"""
    for name, member in _rpcs(cls):
        setattr(cls, name, _translated(member))
    return cls


def metadata_value(context: grpc.aio.ServicerContext, key: str) -> str:
    """One metadata value of the call, or an empty string."""
    for item_key, value in context.invocation_metadata() or ():
        if item_key == key:
            return value if isinstance(value, str) else bytes(value).decode()
    return ""


def bearer_token(context: grpc.aio.ServicerContext) -> str:
    """The token of an ``authorization: Bearer ...`` header."""
    header = metadata_value(context, AUTHORIZATION_HEADER)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationFailed("missing 'authorization: Bearer <token>' metadata")
    return token.strip()


def _admin_checked(method: Rpc) -> Rpc:
    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.hub.auth.check_admin(bearer_token(context))
        return await method(self, request, context)

    return wrapper


def requires_admin(cls: C) -> C:
    """Class decorator: every RPC checks the admin credential before it looks at its request
    (apply below :func:`translate_errors`, so a refused credential is reported as such)."""
    for name, member in _rpcs(cls):
        setattr(cls, name, _admin_checked(member))
    return cls


class TerminalCalls:
    """For the services terminals and kiosks call: which terminal is calling, and whose session."""

    hub: Hub

    def _terminal(self, context: grpc.aio.ServicerContext) -> str:
        terminal_id = metadata_value(context, TERMINAL_ID_HEADER)
        self.hub.auth.check_terminal(terminal_id, metadata_value(context, TERMINAL_KEY_HEADER))
        return terminal_id

    def _user(self, context: grpc.aio.ServicerContext, token: str) -> tuple[str, int]:
        """(terminal id, user id) of a live session opened at the calling terminal."""
        terminal_id = self._terminal(context)
        return terminal_id, self.hub.sessions.user_of(terminal_id, token)
