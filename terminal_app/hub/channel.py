"""The call core of the hub client: one grpc.aio channel, the device's identity, deadlines, errors.

Every call has a deadline. Retries are declared in the channel's service config and only for
calls that are safe to repeat: GetSession, Logout, ListJobs, GetThumbnail, DeleteJobs and
ReportUsage (its idempotency key makes a repeat harmless). Authenticate and LinkCard are never
retried by us: a repeated wrong PIN or password would count twice towards the lockout. ReleaseJobs
carries an idempotency key but streams, so a broken stream is reported, not replayed blindly.
KioskService calls are not retried by the channel either: cash events are retried by the kiosk's
journal with their idempotency key.

Keepalive is paired with the hub's ``SERVER_OPTIONS``: the hub accepts a ping without data
every 10 s (``min_ping_interval_without_data_ms``), so the client pings every 20 s even
without calls, which finds a dead path within 30 s without ever being answered ``too_many_pings``.
The channel reconnects by itself with exponential backoff (250 ms up to 5 s).

Failures surface as :mod:`terminal_app.errors` classes; :func:`error_for_status` is the one place
where a gRPC status becomes one. grpc has no type information here (the stubs are untyped), so
each call's answer is typed by the caller that knows the method.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc

from terminal_app.errors import (
    AccessDenied,
    HubCallError,
    HubRejected,
    HubUnreachable,
    IdempotencyConflict,
    NotEnoughCredit,
    NotRecognised,
    NotSupported,
    QuotaExhausted,
    Refused,
)

__all__ = ["CHANNEL_OPTIONS", "RETRIED_METHODS", "HubChannel", "error_for_status"]

log = logging.getLogger(__name__)

TERMINAL_ID_HEADER = "x-printgate-terminal-id"
TERMINAL_KEY_HEADER = "x-printgate-terminal-key"
SERVICE = "printgate.v1.TerminalService"
RETRIED_METHODS = (
    "GetSession",
    "ReportUsage",
    "Logout",
    "ListJobs",
    "GetThumbnail",
    "DeleteJobs",
    "ListScanProfiles",
    "SetScanProfile",
)
_SERVICE_CONFIG = {
    "methodConfig": [
        {
            "name": [{"service": SERVICE, "method": method} for method in RETRIED_METHODS],
            "retryPolicy": {
                "maxAttempts": 3,
                "initialBackoff": "0.1s",
                "maxBackoff": "1s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ]
}
CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 5_000),
    ("grpc.enable_retries", 1),
    ("grpc.service_config", json.dumps(_SERVICE_CONFIG)),
]

_BY_STATUS: dict[grpc.StatusCode, type[HubCallError]] = {
    grpc.StatusCode.UNAVAILABLE: HubUnreachable,
    grpc.StatusCode.DEADLINE_EXCEEDED: HubUnreachable,
    grpc.StatusCode.CANCELLED: HubUnreachable,
    grpc.StatusCode.UNAUTHENTICATED: NotRecognised,
    grpc.StatusCode.PERMISSION_DENIED: AccessDenied,
    grpc.StatusCode.FAILED_PRECONDITION: Refused,
    grpc.StatusCode.RESOURCE_EXHAUSTED: QuotaExhausted,
    grpc.StatusCode.ALREADY_EXISTS: IdempotencyConflict,
    grpc.StatusCode.UNIMPLEMENTED: NotSupported,
}


def error_for_status(code: grpc.StatusCode, detail: str) -> HubCallError:
    """The error for a gRPC status (anything unlisted is a plain :class:`HubRejected`)."""
    if code is grpc.StatusCode.FAILED_PRECONDITION and "cents needed" in detail:
        return NotEnoughCredit(code.name, detail)  # the hub's InsufficientFunds message
    return _BY_STATUS.get(code, HubRejected)(code.name, detail)


class HubChannel:
    """One device's channel to its hub; its identity travels as metadata on every call."""

    def __init__(
        self,
        address: str,
        terminal_id: str,
        terminal_key: str,
        *,
        deadline_s: float = 5.0,
        stream_deadline_s: float = 600.0,
    ) -> None:
        self.address = address
        self.terminal_id = terminal_id
        self.deadline_s = deadline_s
        self.stream_deadline_s = stream_deadline_s
        self._metadata = ((TERMINAL_ID_HEADER, terminal_id), (TERMINAL_KEY_HEADER, terminal_key))
        self.grpc_channel = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)

    async def close(self) -> None:
        """Close the channel (running calls are cancelled)."""
        await self.grpc_channel.close()

    async def reachable(self, timeout_s: float) -> bool:
        """Is the channel connected (or can it connect within ``timeout_s``)?"""
        try:
            await asyncio.wait_for(self.grpc_channel.channel_ready(), timeout_s)
        except (TimeoutError, grpc.aio.AioRpcError):
            return False
        return True

    def connection_failed(self) -> bool:
        """Is the channel failing to connect now? (Asks it to connect if it is idle.)"""
        state = self.grpc_channel.get_state(try_to_connect=True)
        return bool(state is grpc.ChannelConnectivity.TRANSIENT_FAILURE)

    async def call(self, method: Any, request: Any, name: str) -> Any:
        """One unary call with the identity and the deadline; a failure is a :class:`HubCallError`."""
        try:
            return await method(request, metadata=self._metadata, timeout=self.deadline_s)
        except grpc.aio.AioRpcError as exc:
            error = error_for_status(exc.code(), exc.details() or "")
            log.info("hub %s: %s", name, error)
            raise error from exc

    async def stream(self, method: Any, request: Any) -> AsyncIterator[Any]:
        """The answers of a server-streaming call (deadline ``stream_deadline_s``)."""
        call = method(request, metadata=self._metadata, timeout=self.stream_deadline_s)
        try:
            async for answer in call:
                yield answer
        except grpc.aio.AioRpcError as exc:
            raise error_for_status(exc.code(), exc.details() or "") from exc
        except asyncio.CancelledError:
            call.cancel()
            raise
