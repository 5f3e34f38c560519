"""What every servicer shares: the one table from the hub's errors to gRPC status codes, which
device is calling, and the admin credential in front of every admin call.

**Which device calls** is a :class:`DeviceGate`'s answer, given to the device servicers by the
server: on a hub the gate reads the verified client certificate of the call (mutual TLS; never
metadata) and watches its revocation; only a hub in development plaintext mode names devices by
their id and key metadata. A refused device is answered ``UNAUTHENTICATED`` with the trailing
metadata of :mod:`printgate.device_trust`, so it can tell "this terminal was disabled" from "card
not recognised". A revocation also ends the device's open streams (:func:`until_revoked`).

An unexpected error (a bug, a broken invariant, a database gone away) reaches the client as
``INTERNAL: internal error (incident <id>)`` and nothing more: its class, its message (which may
name accounts and balances) and its traceback go to the hub's log under the same incident id.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import grpc
from printgate.device_trust import REFUSED_HEADER

from hub_server.domain import Hub
from hub_server.errors import (
    AlreadyExists,
    AuthenticationFailed,
    DeviceRefused,
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
    "DeviceCaller",
    "DeviceGate",
    "TerminalCalls",
    "abort_for",
    "bearer_token",
    "grpc_status_for",
    "metadata_value",
    "requires_admin",
    "translate_errors",
    "until_revoked",
]

TERMINAL_ID_HEADER = "x-printgate-terminal-id"
TERMINAL_KEY_HEADER = "x-printgate-terminal-key"
AUTHORIZATION_HEADER = "authorization"
C = TypeVar("C", bound=type)
log = logging.getLogger(__name__)
T = TypeVar("T")
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
    other error (and :class:`InvariantViolation`) as a bare internal error, logged in full. A
    refused device also learns why, in a trailer."""
    if isinstance(error, DeviceRefused):
        context.set_trailing_metadata(((REFUSED_HEADER, error.reason),))
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


@dataclass(frozen=True)
class DeviceCaller:
    """The terminal or kiosk making a call: its id, and the serial of the certificate it called
    with (empty on a development plaintext hub)."""

    device_id: str
    serial: str = ""


class DeviceGate(Protocol):
    """Which device makes a call, and when it stops being trusted."""

    def identify(self, context: grpc.aio.ServicerContext) -> DeviceCaller:
        """The calling device; :class:`DeviceRefused` (logged once) when it is not accepted."""
        ...

    async def wait_revoked(self, caller: DeviceCaller) -> None:
        """Return once ``caller``'s certificate is revoked (never, for a plaintext caller)."""
        ...


async def until_revoked(items: AsyncIterator[T], gate: DeviceGate, caller: DeviceCaller) -> AsyncIterator[T]:
    """The items of a server stream, ended with :class:`DeviceRefused` the moment the calling
    device is revoked (what runs behind the stream is not cancelled by this)."""
    revoked = asyncio.ensure_future(gate.wait_revoked(caller))
    try:
        while True:
            following = asyncio.ensure_future(anext(items))
            await asyncio.wait((following, revoked), return_when=asyncio.FIRST_COMPLETED)
            if not following.done():
                following.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await following
                raise DeviceRefused(
                    f"certificate {caller.serial} of {caller.device_id} was revoked", "revoked"
                )
            try:
                item = following.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        revoked.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await revoked


class TerminalCalls:
    """For the services terminals and kiosks call: which device is calling, and whose session."""

    hub: Hub
    gate: DeviceGate

    def _terminal(self, context: grpc.aio.ServicerContext) -> str:
        return self.gate.identify(context).device_id

    def _user(self, context: grpc.aio.ServicerContext, token: str) -> tuple[str, int]:
        """(terminal id, user id) of a live session opened at the calling terminal."""
        terminal_id = self._terminal(context)
        return terminal_id, self.hub.sessions.user_of(terminal_id, token)
