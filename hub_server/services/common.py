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

log = logging.getLogger(__name__)
TERMINAL_ID_HEADER = "x-printgate-terminal-id"
TERMINAL_KEY_HEADER = "x-printgate-terminal-key"
AUTHORIZATION_HEADER = "authorization"
C = TypeVar("C", bound=type)


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
