"""Talking to the hub: AdminService, KioskAdminService, DirectoryService, ScanAdminService,
SiteAdminService, FleetAdminService and JobRulesService calls over TLS pinned to the hub's CA,
with the admin token and a deadline; gRPC failures turned into :mod:`admin_cli.errors`; and where
the CA, the token and secrets come from."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import grpc
from google.protobuf.message import Message
from printgate.hub_targets import BALANCING, balanced_target, split_addresses
from printgate.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    directory_pb2_grpc,
    fleet_pb2_grpc,
    kiosk_pb2_grpc,
    scan_pb2_grpc,
    sites_pb2_grpc,
)

from admin_cli.errors import AdminCommandError, HubUnreachable, UsageError
from admin_cli.render import printable

__all__ = ["AdminClient", "resolve_ca", "resolve_token", "secret", "stdin_secret"]

DEFAULT_HUB = "127.0.0.1:50052"  # the hub's admin port
DEFAULT_TIMEOUT_S = 10.0
HUB_ENV = "PRINTGATE_HUB"
CA_ENV = "PRINTGATE_HUB_CA"
TOKEN_ENV = "PRINTGATE_ADMIN_TOKEN"
TOKEN_FILE_NAME = "admin-token"
CA_FILE_NAME = "hub-ca.pem"  # written by the hub into its data directory


class AdminClient:
    """AdminService calls over TLS that trusts only ``ca_pem``, with the admin token and a
    deadline on every call. ``address`` may name several replicas, comma-separated: calls go to
    one that answers (admin calls are not retried on another: ``--idempotency-key`` makes a
    retry by hand safe)."""

    def __init__(self, address: str, token: str, timeout_s: float, ca_pem: bytes) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self._metadata = (("authorization", f"Bearer {token}"),)
        target = balanced_target(split_addresses(address))  # "a:50052,b:50052": every replica
        self._channel = grpc.secure_channel(
            target.target,
            grpc.ssl_channel_credentials(root_certificates=ca_pem),
            options=[
                *target.channel_options(),
                ("grpc.service_config", json.dumps(BALANCING)),
                ("grpc.enable_retries", 1),
            ],
        )
        self._stubs = {
            "admin": admin_pb2_grpc.AdminServiceStub(self._channel),
            "kiosk": kiosk_pb2_grpc.KioskAdminServiceStub(self._channel),
            "fleet": fleet_pb2_grpc.FleetAdminServiceStub(self._channel),
            "directory": directory_pb2_grpc.DirectoryServiceStub(self._channel),
            "scan": scan_pb2_grpc.ScanAdminServiceStub(self._channel),
            "rules": admin_pb2_grpc.JobRulesServiceStub(self._channel),
            "sites": sites_pb2_grpc.SiteAdminServiceStub(self._channel),
        }

    def call(self, method: str, request: Message, service: str = "admin") -> Message:
        """Run one RPC of AdminService (or ``service="kiosk"``: KioskAdminService, ``"fleet"``:
        FleetAdminService)."""
        try:
            reply: Message = getattr(self._stubs[service], method)(
                request, timeout=self.timeout_s, metadata=self._metadata
            )
        except grpc.RpcError as error:
            raise self._translate(error) from None
        return reply

    def stream(self, method: str, request: Message, service: str) -> list[Message]:
        """Run one server-streaming RPC to its end (within the deadline); every message it sent."""
        try:
            return list(
                getattr(self._stubs[service], method)(
                    request, timeout=self.timeout_s, metadata=self._metadata
                )
            )
        except grpc.RpcError as error:
            raise self._translate(error) from None

    def call_stream(self, method: str, request: Message) -> admin_pb2.ReportChunk:
        """Run a server-streaming RPC of AdminService whose chunks carry ``data``; one reply
        with the first chunk's name and type and every chunk's data joined."""
        joined = admin_pb2.ReportChunk()
        parts: list[bytes] = []
        try:
            for chunk in getattr(self._stubs["admin"], method)(
                request, timeout=self.timeout_s, metadata=self._metadata
            ):
                if not parts:
                    joined.file_name, joined.content_type = chunk.file_name, chunk.content_type
                parts.append(chunk.data)
        except grpc.RpcError as error:
            raise self._translate(error) from None
        joined.data = b"".join(parts)
        return joined

    def _translate(self, error: grpc.RpcError) -> AdminCommandError:
        code: grpc.StatusCode = error.code()
        details = printable(str(error.details() or ""))
        if code is grpc.StatusCode.UNAVAILABLE:
            return HubUnreachable(
                f"UNAVAILABLE: cannot reach hub at {self.address} ({details}); is it the admin port, "
                "and does the hub's certificate chain to the CA given?"
            )
        if code is grpc.StatusCode.DEADLINE_EXCEEDED:
            return HubUnreachable(
                f"DEADLINE_EXCEEDED: no answer from hub at {self.address} within {self.timeout_s:g} s"
            )
        return AdminCommandError(f"{code.name}: {details}")

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()


def resolve_token(args: argparse.Namespace) -> str:
    """The admin token: ``--token-file``, else ``DIR/admin-token``, else the environment."""
    path: Path | None = args.token_file or (args.data_dir / TOKEN_FILE_NAME if args.data_dir else None)
    if path is not None:
        try:
            token = path.read_text().strip()
        except OSError as error:
            raise UsageError(f"cannot read admin token from {path}: {error.strerror}") from None
        if not token:
            raise UsageError(f"admin token file {path} is empty")
        return token
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise UsageError(f"no admin token: give --token-file or --data-dir, or set {TOKEN_ENV}")
    return token


def resolve_ca(args: argparse.Namespace) -> bytes:
    """The certificates the hub is verified with: ``--ca``, else ``DIR/hub-ca.pem`` for
    ``--data-dir``, else the file ``PRINTGATE_HUB_CA`` names. Never the system's roots: the
    admin trusts this hub's CA only."""
    path: Path | None = args.ca or (args.data_dir / CA_FILE_NAME if args.data_dir else None)
    if path is None and os.environ.get(CA_ENV, "").strip():
        path = Path(os.environ[CA_ENV].strip())
    if path is None:
        raise UsageError(
            f"no hub CA to verify the hub with: give --ca FILE or --data-dir DIR, or set {CA_ENV}"
        )
    try:
        pem = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read the hub CA from {path}: {error.strerror}") from None
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise UsageError(f"{path} holds no PEM certificate")
    return pem


def stdin_secret(what: str) -> str:
    secret = sys.stdin.readline().rstrip("\r\n")
    if not secret:
        raise UsageError(f"no {what} on stdin")
    return secret


def secret(args: argparse.Namespace, name: str) -> str:
    """A secret from ``--NAME`` or, with ``--NAME-stdin``, the first line of stdin."""
    if getattr(args, f"{name}_stdin"):
        return stdin_secret(name)
    value: str | None = getattr(args, name)
    if not value:
        raise UsageError(f"give --{name} or --{name}-stdin")
    return value
