"""Test clients of a TLS hub: the admin's channel (pinned to the hub CA), and devices that enroll
with a real token over the real enrollment service and call with their own certificate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
from printgate.v1 import admin_pb2

from terminal_app.hub.enrollment import Credentials, DeviceEnrollment

KIND_NAMES: dict[admin_pb2.TerminalKind, str] = {
    admin_pb2.TERMINAL_KIND_TERMINAL: "terminal",
    admin_pb2.TERMINAL_KIND_KIOSK: "kiosk",
}
CallAdmin = Callable[[str, Any], Awaitable[Any]]


def admin_channel(address: str, ca_file: Path) -> grpc.aio.Channel:
    """A channel to the admin port that trusts only the hub's CA."""
    return grpc.aio.secure_channel(address, grpc.ssl_channel_credentials(ca_file.read_bytes()))


async def new_token(
    call_admin: CallAdmin,
    terminal_id: str,
    printer: str = "",
    kind: admin_pb2.TerminalKind = admin_pb2.TERMINAL_KIND_TERMINAL,
) -> str:
    """An enrollment token for exactly ``terminal_id``."""
    request = admin_pb2.CreateEnrollmentTokenRequest(kind=kind, printer=printer, terminal_id=terminal_id)
    reply = await call_admin("CreateEnrollmentToken", request)
    return str(reply.token)


async def enroll_device(
    call_admin: CallAdmin,
    state_dir: Path,
    terminal_id: str,
    printer: str = "",
    kind: admin_pb2.TerminalKind = admin_pb2.TERMINAL_KIND_TERMINAL,
) -> Credentials:
    """Enroll a device the way a terminal does: a token from the admin, then the device's own
    key, CSR and pinned CA (terminal_app's enrollment client)."""
    token = await new_token(call_admin, terminal_id, printer, kind)
    return await DeviceEnrollment(state_dir, KIND_NAMES[kind]).enroll(token)


def device_channel(credentials: Credentials, address: str = "") -> grpc.aio.Channel:
    """The device's mutual-TLS channel to the hub's device port (its enrolled endpoint)."""
    anchor, key, chain = credentials.channel_material()
    target = address or credentials.endpoints[0]
    return grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(anchor, key, chain))
