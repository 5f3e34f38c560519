"""The device's calls of ``FleetDeviceService`` (mutual TLS, the hub client's channel): fetch its
central configuration, upload a diagnostics bundle."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from printgate.fleet_wire import DIAGNOSTICS_MAX_BYTES
from printgate.v1 import fleet_pb2, fleet_pb2_grpc

from terminal_app.hub.channel import HubChannel
from terminal_app.hub.values import FetchedConfig

__all__ = ["Fetch", "FleetCalls"]

Fetch = Callable[[str], Awaitable[FetchedConfig]]


class FleetCalls:
    """``FleetDeviceService`` over the device's channel (its deadline, its error translation:
    ``HubUnreachable`` is a ``ConnectionError``); follows a renewed certificate by itself."""

    def __init__(self, channel: HubChannel) -> None:
        self.channel = channel

    @property
    def _stub(self) -> fleet_pb2_grpc.FleetDeviceServiceStub:
        return self.channel.stub(fleet_pb2_grpc.FleetDeviceServiceStub)

    async def fetch_config(self, known_version: str) -> FetchedConfig:
        """The device's effective configuration at the hub; ``ValueError`` when the document
        is not a JSON object."""
        request = fleet_pb2.FetchConfigRequest(known_version=known_version)
        reply: fleet_pb2.DeviceConfig = await self.channel.call(
            self._stub.FetchConfig, request, "FetchConfig"
        )
        document = json.loads(reply.document_json or "{}")
        if not isinstance(document, dict):
            raise ValueError("the hub's configuration is not a JSON object")
        return FetchedConfig(reply.version, document)

    async def upload_diagnostics(self, command_id: str, bundle: bytes) -> int:
        """Upload a bundle for a ``collect_diagnostics`` command; the size the hub stored."""
        if len(bundle) > DIAGNOSTICS_MAX_BYTES:
            raise ValueError(f"diagnostics bundle of {len(bundle)} bytes is over {DIAGNOSTICS_MAX_BYTES}")
        request = fleet_pb2.UploadDiagnosticsRequest(command_id=command_id, bundle=bundle)
        reply: fleet_pb2.UploadDiagnosticsResponse = await self.channel.call(
            self._stub.UploadDiagnostics, request, "UploadDiagnostics"
        )
        return int(reply.size_bytes)
