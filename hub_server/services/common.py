"""What every servicer shares: the one table from the hub's errors to gRPC status codes, the
caller's identity from call metadata, and the admin credential in front of every admin call."""

from __future__ import annotations

import functools
import inspect
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
)

__all__ = [
    "AUTHORIZATION_HEADER",
    "TERMINAL_ID_HEADER",
    "TERMINAL_KEY_HEADER",
    "TerminalCalls",
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
)


def grpc_status_for(error: HubError) -> grpc.StatusCode:
    """The gRPC status code a hub error is reported with."""
    for error_type, status in _STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return grpc.StatusCode.UNKNOWN


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
        except HubError as error:
            await context.abort(grpc_status_for(error), str(error))

    return wrapper


def translate_errors(cls: C) -> C:
    """Class decorator: every unary RPC reports :class:`HubError` with its mapped gRPC status.
    (A server-streaming RPC is an async generator and translates its own errors.)"""
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
