"""What every servicer shares: error translation and caller identity from metadata."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from hub_server.errors import AuthenticationFailed, HubError, grpc_status_for
from hub_server.hub import Hub
from hub_server.storage.base import Tx

log = logging.getLogger(__name__)
TERMINAL_ID_HEADER = "x-printgate-terminal-id"
TERMINAL_KEY_HEADER = "x-printgate-terminal-key"
AUTHORIZATION_HEADER = "authorization"
C = TypeVar("C", bound=type)
T = TypeVar("T")


def _translated(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await method(self, request, context)
        except HubError as error:
            await context.abort(grpc_status_for(error), str(error))

    return wrapper


def translate_errors(cls: C) -> C:
    """Class decorator: every RPC reports :class:`HubError` with its mapped gRPC status."""
    for name, member in list(vars(cls).items()):
        if name[:1].isupper() and inspect.iscoroutinefunction(member):
            setattr(cls, name, _translated(member))
    return cls


def metadata_value(context: grpc.aio.ServicerContext, key: str) -> str:
    """One metadata value of the call, or an empty string."""
    for item_key, value in context.invocation_metadata() or ():
        if item_key == key:
            return value if isinstance(value, str) else value.decode()
    return ""


def bearer_token(context: grpc.aio.ServicerContext) -> str:
    """The token of an ``authorization: Bearer ...`` header."""
    header = metadata_value(context, AUTHORIZATION_HEADER)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationFailed("missing 'authorization: Bearer <token>' metadata")
    return token.strip()


def timestamp_from_us(microseconds: int) -> Timestamp:
    """A protobuf Timestamp for microseconds since the epoch."""
    stamp = Timestamp()
    stamp.FromMicroseconds(microseconds)
    return stamp


class TerminalCalls:
    """For the services terminals and kiosks call: which terminal is calling, and whose session."""

    hub: Hub

    def _terminal(self, context: grpc.aio.ServicerContext) -> str:
        terminal_id = metadata_value(context, TERMINAL_ID_HEADER)
        self.hub.check_terminal(terminal_id, metadata_value(context, TERMINAL_KEY_HEADER))
        return terminal_id

    def _user(self, context: grpc.aio.ServicerContext, token: str) -> tuple[str, int]:
        """(terminal id, user id) of a live session opened at the calling terminal."""
        terminal_id = self._terminal(context)
        claims, _ = self.hub.get_session(terminal_id, token)
        return terminal_id, claims.user_id


class AdminCalls:
    """For the services admins call: every call needs an admin token."""

    hub: Hub

    def _authorise(self, context: grpc.aio.ServicerContext) -> None:
        self.hub.check_admin(bearer_token(context))

    async def _write(self, context: grpc.aio.ServicerContext, fn: Callable[[Tx], T]) -> T:
        self._authorise(context)
        return await self.hub.db.write(fn)

    def _read(self, context: grpc.aio.ServicerContext, fn: Callable[[Tx], T]) -> T:
        self._authorise(context)
        return self.hub.db.read(fn)
