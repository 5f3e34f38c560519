"""Talking to the hub: AdminService, KioskAdminService, DirectoryService and ScanAdminService
calls with the admin token and a deadline, gRPC failures turned into :mod:`admin_cli.errors`,
and where the token and secrets come from."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import grpc
from google.protobuf.message import Message
from printgate.v1 import admin_pb2_grpc, directory_pb2_grpc, kiosk_pb2_grpc, scan_pb2_grpc

from admin_cli.errors import AdminCommandError, HubUnreachable, UsageError
from admin_cli.render import printable

__all__ = ["AdminClient", "resolve_token", "secret", "stdin_secret"]

DEFAULT_HUB = "127.0.0.1:50051"
DEFAULT_TIMEOUT_S = 10.0
HUB_ENV = "PRINTGATE_HUB"
TOKEN_ENV = "PRINTGATE_ADMIN_TOKEN"
TOKEN_FILE_NAME = "admin-token"


class AdminClient:
    """AdminService calls with the admin token and a deadline on every call."""

    def __init__(self, address: str, token: str, timeout_s: float) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._channel = grpc.insecure_channel(address)
        self._stubs = {
            "admin": admin_pb2_grpc.AdminServiceStub(self._channel),
            "kiosk": kiosk_pb2_grpc.KioskAdminServiceStub(self._channel),
            "directory": directory_pb2_grpc.DirectoryServiceStub(self._channel),
            "scan": scan_pb2_grpc.ScanAdminServiceStub(self._channel),
        }

    def call(self, method: str, request: Message, service: str = "admin") -> Message:
        """Run one RPC of AdminService (or ``service="kiosk"``: KioskAdminService)."""
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

    def _translate(self, error: grpc.RpcError) -> AdminCommandError:
        code: grpc.StatusCode = error.code()
        details = printable(str(error.details() or ""))
        if code is grpc.StatusCode.UNAVAILABLE:
            return HubUnreachable(f"UNAVAILABLE: cannot reach hub at {self.address} ({details})")
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
