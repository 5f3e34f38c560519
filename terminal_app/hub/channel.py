"""The call core of the hub client: one grpc.aio channel, the device's identity, deadlines, errors.

The channel is mutual TLS to the hub's device port: the device's certificate (from its
enrollment, :mod:`terminal_app.hub.enrollment`) names it, and the hub is verified against the CA
pinned at enrollment. New credentials (a renewal, a re-enrollment) are taken with
:meth:`HubChannel.use`: calls from then on go over a new connection, running ones finish on the
old. A device whose certificate has expired does not call at all (its handshake would fail like
an unreachable hub): :class:`~terminal_app.errors.DeviceRefused` at once, so it can say "enroll
again" instead of "offline".

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

Several hub replicas (the enrollment's endpoints, or ``[hub] address`` as a comma-separated
list): the one channel spreads calls round robin over the replicas whose health service says
SERVING and leaves a dead one at once (:mod:`printgate.hub_targets`); a retried call above goes to
another replica with the same request, so ReportUsage's idempotency key keeps a repeat from being
charged twice.

Failures surface as :mod:`terminal_app.errors` classes; :func:`error_for_status` is the one place
where a gRPC status becomes one. grpc has no type information here (the stubs are untyped), so
each call's answer is typed by the caller that knows the method.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar, cast

import grpc
from printgate.device_trust import REFUSED_HEADER, DeviceRefusal
from printgate.hub_targets import BALANCING, balanced_target, split_addresses

from terminal_app.errors import (
    AccessDenied,
    DeviceDisabled,
    DeviceRefused,
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
from terminal_app.hub.enrollment import Credentials, CredentialState

__all__ = ["CHANNEL_OPTIONS", "RETRIED_METHODS", "HubChannel", "error_for_status"]

log = logging.getLogger(__name__)
T = TypeVar("T")

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
    "SetFavourite",  # setting a star twice changes nothing, as does passing a job on twice
    "SearchColleagues",
    "DelegateJob",
)
_SERVICE_CONFIG = {
    **BALANCING,
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
    ],
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


def error_for_status(code: grpc.StatusCode, detail: str, refusal: str = "") -> HubCallError:
    """The error for a gRPC status (anything unlisted is a plain :class:`HubRejected`);
    ``refusal`` is the hub's :data:`~printgate.device_trust.REFUSED_HEADER` trailer, if any."""
    if code is grpc.StatusCode.UNAUTHENTICATED and refusal:
        kind = DeviceDisabled if refusal == DeviceRefusal.REVOKED else DeviceRefused
        return kind(code.name, detail)
    if code is grpc.StatusCode.FAILED_PRECONDITION and "cents needed" in detail:
        return NotEnoughCredit(code.name, detail)  # the hub's InsufficientFunds message
    return _BY_STATUS.get(code, HubRejected)(code.name, detail)


def _error_of(exc: grpc.aio.AioRpcError) -> HubCallError:
    trailers = dict(exc.trailing_metadata() or ())
    refusal = trailers.get(REFUSED_HEADER, "")
    return error_for_status(exc.code(), exc.details() or "", refusal if isinstance(refusal, str) else "")


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class HubChannel:
    """One device's mutual-TLS channel to its hub, with the credentials it enrolled with.

    ``address`` overrides where the device's enrollment said to call (``credentials.endpoints``);
    either may name several replicas (``address`` comma-separated).
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        address: str = "",
        deadline_s: float = 5.0,
        stream_deadline_s: float = 600.0,
        now: Callable[[], datetime.datetime] = _utcnow,
    ) -> None:
        self.addresses = split_addresses(address) if address else credentials.endpoints
        self.deadline_s = deadline_s
        self.stream_deadline_s = stream_deadline_s
        self._refusal: DeviceRefused | None = None
        self._now = now
        self._credentials = credentials
        self._stubs: dict[type, Any] = {}
        self._retired: set[asyncio.Task[None]] = set()
        self.grpc_channel = self._open(credentials)

    def _open(self, credentials: Credentials) -> grpc.aio.Channel:
        channel_credentials = grpc.ssl_channel_credentials(*credentials.channel_material())
        target = balanced_target(self.addresses)  # names resolved again with each new connection
        options = [*CHANNEL_OPTIONS, *target.channel_options()]
        return grpc.aio.secure_channel(target.target, channel_credentials, options=options)

    @property
    def credentials(self) -> Credentials:
        """The credentials calls are made with now."""
        return self._credentials

    @property
    def device_id(self) -> str:
        """The device's id at the hub (from its certificate)."""
        return self._credentials.device_id

    def stub(self, stub_class: type[T]) -> T:
        """A stub of ``stub_class`` on the current connection."""
        cached = self._stubs.get(stub_class)
        if cached is not None:
            return cast(T, cached)
        stub = self._stubs[stub_class] = stub_class(self.grpc_channel)  # type: ignore[call-arg]
        return stub

    def use(self, credentials: Credentials) -> None:
        """Call with new credentials from now on (a renewal or a new enrollment); calls running
        on the old connection may finish (it closes after ``stream_deadline_s``)."""
        old = self.grpc_channel
        self._credentials = credentials
        self.grpc_channel = self._open(credentials)
        self._stubs.clear()
        self._refusal = None
        task = asyncio.get_running_loop().create_task(old.close(grace=self.stream_deadline_s))
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)

    async def close(self) -> None:
        """Close the channel (running calls are cancelled)."""
        await self.grpc_channel.close()
        for task in list(self._retired):
            task.cancel()

    @property
    def refusal(self) -> DeviceRefused | None:
        """Why the hub refuses this device now: its certificate has expired, or the hub said so
        on the last call that reached it (None: trusted, as far as the device knows)."""
        if self._credentials.state(self._now()) is CredentialState.EXPIRED:
            end = self._credentials.certificate.not_valid_after_utc.isoformat(timespec="seconds")
            return DeviceRefused(
                "UNAUTHENTICATED", f"this device's certificate expired at {end}: enroll it again"
            )
        return self._refusal

    def _refused(self, error: HubCallError) -> HubCallError:
        if isinstance(error, DeviceRefused):
            self._refusal = error
        return error

    def _check_certificate(self) -> None:
        refused = self.refusal
        if refused is not None and refused is not self._refusal:  # expired: do not even dial
            raise refused

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
        """One unary call with the deadline; a failure is a :class:`HubCallError`."""
        self._check_certificate()
        try:
            return await method(request, timeout=self.deadline_s)
        except grpc.aio.AioRpcError as exc:
            error = self._refused(_error_of(exc))
            log.info("hub %s: %s", name, error)
            raise error from exc

    async def stream(self, method: Any, request: Any) -> AsyncIterator[Any]:
        """The answers of a server-streaming call (deadline ``stream_deadline_s``)."""
        self._check_certificate()
        call = method(request, timeout=self.stream_deadline_s)
        try:
            async for answer in call:
                yield answer
        except grpc.aio.AioRpcError as exc:
            raise self._refused(_error_of(exc)) from exc
        except asyncio.CancelledError:
            call.cancel()
            raise
