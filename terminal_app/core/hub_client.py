"""The terminal's gRPC client for TerminalService (grpc.aio).

Every call has a deadline. Retries are declared in the channel's service config and only for
calls that are safe to repeat: GetSession, Logout, ListJobs, GetThumbnail, DeleteJobs and
ReportUsage (its idempotency key makes a repeat harmless). Authenticate and LinkCard are never
retried by us: a repeated wrong PIN or password would count twice towards the lockout. ReleaseJobs carries an
idempotency key but streams, so a broken stream is reported, not replayed blindly.

Keepalive is paired with the hub's ``SERVER_OPTIONS``: the hub accepts a ping without data
every 10 s (``min_ping_interval_without_data_ms``), so the terminal pings every 20 s even
without calls, which finds a dead path within 30 s without ever being answered ``too_many_pings``.
The channel reconnects by itself with exponential backoff (250 ms up to 5 s).

Failures surface as :mod:`terminal_app.core.errors` classes (``error_for_status``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from printgate.v1 import terminal_pb2, terminal_pb2_grpc

from terminal_app.core.errors import error_for_status

__all__ = ["CHANNEL_OPTIONS", "RETRIED_METHODS", "HubClient"]

log = logging.getLogger(__name__)
T = TypeVar("T")

TERMINAL_ID_HEADER = "x-printgate-terminal-id"
TERMINAL_KEY_HEADER = "x-printgate-terminal-key"
SERVICE = "printgate.v1.TerminalService"
RETRIED_METHODS = ("GetSession", "ReportUsage", "Logout", "ListJobs", "GetThumbnail", "DeleteJobs")
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


class HubClient:
    """One terminal's connection to its hub; identity travels as metadata on every call."""

    def __init__(
        self,
        address: str,
        terminal_id: str,
        terminal_key: str,
        *,
        deadline_s: float = 5.0,
        release_deadline_s: float = 600.0,
    ) -> None:
        self.address = address
        self.terminal_id = terminal_id
        self.deadline_s = deadline_s
        self.release_deadline_s = release_deadline_s
        self._metadata = ((TERMINAL_ID_HEADER, terminal_id), (TERMINAL_KEY_HEADER, terminal_key))
        self._channel = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
        self._stub = terminal_pb2_grpc.TerminalServiceStub(self._channel)

    async def close(self) -> None:
        """Close the channel (running calls are cancelled)."""
        await self._channel.close()

    async def reachable(self, timeout_s: float) -> bool:
        """Is the channel connected (or can it connect within ``timeout_s``)?"""
        try:
            await asyncio.wait_for(self._channel.channel_ready(), timeout_s)
        except (TimeoutError, grpc.aio.AioRpcError):
            return False
        return True

    def connection_failed(self) -> bool:
        """Is the channel failing to connect now? (Asks it to connect if it is idle.)"""
        return self._channel.get_state(try_to_connect=True) is grpc.ChannelConnectivity.TRANSIENT_FAILURE

    async def _call(self, method: Callable[..., Awaitable[T]], request: Any, name: str) -> T:
        try:
            return await method(request, metadata=self._metadata, timeout=self.deadline_s)
        except grpc.aio.AioRpcError as exc:
            error = error_for_status(exc.code(), exc.details() or "")
            log.info("hub %s: %s", name, error)
            raise error from exc

    # -- identification --------------------------------------------------------------------

    async def authenticate_card(self, number: str, pin: str = "") -> terminal_pb2.AuthenticateResponse:
        """Identify by card (and its PIN when the hub asked for a second factor)."""
        request = terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number=number, pin=pin))
        return await self._call(self._stub.Authenticate, request, "Authenticate")

    async def authenticate_pin(self, pin: str) -> terminal_pb2.AuthenticateResponse:
        """Identify by PIN alone."""
        request = terminal_pb2.AuthenticateRequest(pin=terminal_pb2.PinCredential(pin=pin))
        return await self._call(self._stub.Authenticate, request, "Authenticate")

    async def authenticate_password(self, username: str, password: str) -> terminal_pb2.AuthenticateResponse:
        """Identify by username and password."""
        credential = terminal_pb2.PasswordCredential(username=username, password=password)
        request = terminal_pb2.AuthenticateRequest(password=credential)
        return await self._call(self._stub.Authenticate, request, "Authenticate")

    async def link_card(self, number: str, username: str, password: str) -> terminal_pb2.AuthenticateResponse:
        """Link a card the hub does not know to the user this password proves; their session."""
        request = terminal_pb2.LinkCardRequest(card_number=number, username=username, password=password)
        return await self._call(self._stub.LinkCard, request, "LinkCard")

    # -- sessions ----------------------------------------------------------------------------

    async def get_session(self, token: str) -> terminal_pb2.Session:
        """The session's user, money and permissions now."""
        request = terminal_pb2.GetSessionRequest(session_token=token)
        return await self._call(self._stub.GetSession, request, "GetSession")

    async def report_usage(
        self, request: terminal_pb2.ReportUsageRequest
    ) -> terminal_pb2.ReportUsageResponse:
        """Charge usage; the request's idempotency key makes a repeat harmless."""
        return await self._call(self._stub.ReportUsage, request, "ReportUsage")

    async def logout(self, token: str) -> None:
        """End a session on the hub."""
        await self._call(self._stub.Logout, terminal_pb2.LogoutRequest(session_token=token), "Logout")

    # -- held jobs ---------------------------------------------------------------------------

    async def list_jobs(self, token: str) -> list[terminal_pb2.HeldJob]:
        """Held jobs the session's user may release here."""
        reply = await self._call(
            self._stub.ListJobs, terminal_pb2.ListJobsRequest(session_token=token), "ListJobs"
        )
        return list(reply.jobs)

    async def thumbnail(self, token: str, job_id: int) -> bytes:
        """A PNG of the job's first page."""
        request = terminal_pb2.GetThumbnailRequest(session_token=token, job_id=job_id)
        reply = await self._call(self._stub.GetThumbnail, request, "GetThumbnail")
        return bytes(reply.png)

    async def delete_jobs(self, token: str, job_ids: list[int]) -> int:
        """Delete held jobs; returns how many were deleted."""
        request = terminal_pb2.DeleteJobsRequest(session_token=token, job_ids=job_ids)
        reply = await self._call(self._stub.DeleteJobs, request, "DeleteJobs")
        return int(reply.deleted)

    async def release_jobs(
        self, request: terminal_pb2.ReleaseJobsRequest
    ) -> AsyncIterator[terminal_pb2.ReleaseProgress]:
        """Release jobs; yields progress until every job is printed, failed or refused."""
        call = self._stub.ReleaseJobs(request, metadata=self._metadata, timeout=self.release_deadline_s)
        try:
            async for progress in call:
                yield progress
        except grpc.aio.AioRpcError as exc:
            raise error_for_status(exc.code(), exc.details() or "") from exc
        except asyncio.CancelledError:
            call.cancel()
            raise
