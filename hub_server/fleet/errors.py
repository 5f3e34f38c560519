"""The fleet's exceptions, and their gRPC status codes in one place::

FleetError
├── UnknownDevice        NOT_FOUND            no device with that id has ever reported
├── UnknownCommand       NOT_FOUND
├── UnknownRollout       NOT_FOUND
├── InvalidRequest       INVALID_ARGUMENT     bad verb, arguments, configuration document, waves
├── DeviceRevoked        FAILED_PRECONDITION  the device's certificate was revoked
├── RolloutState         FAILED_PRECONDITION  pause/resume in the wrong state
└── SourceConflict       (internal)           an MQTT message for a printer the hub polls itself
"""

from __future__ import annotations

import grpc

__all__ = [
    "DeviceRevoked",
    "FleetError",
    "InvalidRequest",
    "RolloutState",
    "SourceConflict",
    "UnknownCommand",
    "UnknownDevice",
    "UnknownRollout",
    "grpc_status_for",
]


class FleetError(Exception):
    """Base of every fleet error."""


class UnknownDevice(FleetError, LookupError):
    """No device with that id is known to the fleet."""


class UnknownCommand(FleetError, LookupError):
    """No command with that id."""


class UnknownRollout(FleetError, LookupError):
    """No roll-out with that id."""


class InvalidRequest(FleetError, ValueError):
    """A request that can never succeed as it is."""


class DeviceRevoked(FleetError):
    """The device's certificate was revoked: it gets no commands."""


class RolloutState(FleetError):
    """The roll-out is not in a state that allows this."""


class SourceConflict(FleetError):
    """A message about a device id that another source owns."""


_CODES: list[tuple[type[FleetError], grpc.StatusCode]] = [
    (UnknownDevice, grpc.StatusCode.NOT_FOUND),
    (UnknownCommand, grpc.StatusCode.NOT_FOUND),
    (UnknownRollout, grpc.StatusCode.NOT_FOUND),
    (InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT),
    (DeviceRevoked, grpc.StatusCode.FAILED_PRECONDITION),
    (RolloutState, grpc.StatusCode.FAILED_PRECONDITION),
]


def grpc_status_for(error: FleetError) -> grpc.StatusCode:
    """The status code a fleet error is answered with."""
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.INTERNAL
