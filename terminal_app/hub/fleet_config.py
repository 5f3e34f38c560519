"""The device's central-configuration fetch (``FleetDeviceService.FetchConfig``, mutual TLS)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import grpc
from printgate.v1 import fleet_pb2, fleet_pb2_grpc

from terminal_app.hub.channel import error_for_status
from terminal_app.hub.values import FetchedConfig

__all__ = ["FETCH_TIMEOUT_S", "Fetch", "fleet_config_fetcher"]

FETCH_TIMEOUT_S = 15.0
Fetch = Callable[[str], Awaitable[FetchedConfig]]


def fleet_config_fetcher(channel: grpc.aio.Channel) -> Fetch:
    """A fetch function over the device's mutual-TLS channel to the hub; a failed call raises
    the hub client's errors (``HubUnreachable`` is a ``ConnectionError``), a document that is not
    a JSON object ``ValueError``."""
    stub = fleet_pb2_grpc.FleetDeviceServiceStub(channel)

    async def fetch(known_version: str) -> FetchedConfig:
        try:
            reply = await stub.FetchConfig(
                fleet_pb2.FetchConfigRequest(known_version=known_version), timeout=FETCH_TIMEOUT_S
            )
        except grpc.aio.AioRpcError as exc:
            raise error_for_status(exc.code(), exc.details() or "") from None
        document = json.loads(reply.document_json or "{}")
        if not isinstance(document, dict):
            raise ValueError("the hub's configuration is not a JSON object")
        return FetchedConfig(reply.version, document)

    return fetch
