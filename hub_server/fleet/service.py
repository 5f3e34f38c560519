"""The fleet's gRPC services: translation only, between ``fleet.proto`` and :class:`FleetComponent`.

The hub wiring gives each servicer how to authenticate: ``authorize(context)`` returns the
admin's name for the audit record (or aborts), ``identify(context)`` returns the calling
device's id from its client certificate (``HubPki.authenticator``). Fleet errors are answered
with the status codes of :func:`hub_server.fleet.errors.grpc_status_for`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from printgate.v1 import fleet_pb2, fleet_pb2_grpc

from hub_server.fleet.component import FleetComponent
from hub_server.fleet.errors import FleetError, InvalidRequest, grpc_status_for
from hub_server.fleet.rollouts import Wave

__all__ = ["FleetAdminServicer", "FleetDeviceServicer"]

Authorize = Callable[[grpc.aio.ServicerContext], Awaitable[str]]
_SCOPES = {fleet_pb2.CONFIG_SCOPE_DEVICE: "device", fleet_pb2.CONFIG_SCOPE_GROUP: "group"}
_SCOPE_ENUM = {name: value for value, name in _SCOPES.items()}


def _time(us: int | None) -> Timestamp | None:
    if us is None:
        return None
    stamp = Timestamp()
    stamp.FromMicroseconds(us)
    return stamp


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text or "{}")
    except ValueError:
        raise InvalidRequest(f"{what} is not JSON") from None


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except FleetError as error:
        raise _Abort(grpc_status_for(error), str(error)) from None


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


async def _call(context: grpc.aio.ServicerContext, work: Callable[[], Awaitable[Any]]) -> Any:
    try:
        with _errors():
            return await work()
    except _Abort as abort:
        await context.abort(abort.code, str(abort))


def device_message(row: Mapping[str, Any]) -> fleet_pb2.FleetDevice:
    return fleet_pb2.FleetDevice(
        id=row["device_id"],
        kind=row["kind"],
        group=row["group_name"],
        online=bool(row["online"]),
        last_seen=_time(row["last_seen_us"]),
        software_version=row["software_version"],
        config_version=row["config_version"],
        source=row["source"],
        open_alerts=int(row.get("open_alerts") or 0),
    )


def command_message(row: Mapping[str, Any]) -> fleet_pb2.FleetCommand:
    return fleet_pb2.FleetCommand(
        id=row["id"],
        device_id=row["device_id"],
        verb=row["verb"],
        args_json=row["args_json"],
        issued_by=row["issued_by"],
        issued_at=_time(row["issued_us"]),
        deadline=_time(row["deadline_us"]),
        status=row["status"],
        detail=row["detail"],
        result_json=row["result_json"],
        finished_at=_time(row["finished_us"]),
    )


def alert_message(row: Mapping[str, Any]) -> fleet_pb2.FleetAlert:
    return fleet_pb2.FleetAlert(
        id=row["id"],
        device_id=row["device_id"],
        kind=row["kind"],
        subject=row["subject"],
        detail=row["detail"],
        raised_at=_time(row["raised_us"]),
        cleared_at=_time(row["cleared_us"]),
    )


def config_message(row: Mapping[str, Any]) -> fleet_pb2.ConfigVersion:
    return fleet_pb2.ConfigVersion(
        scope=_SCOPE_ENUM[row["scope"]],
        name=row["name"],
        version=row["version"],
        document_json=row["document_json"],
        created_by=row["created_by"],
        created_at=_time(row["created_us"]),
    )


def rollout_message(row: Mapping[str, Any]) -> fleet_pb2.Rollout:
    return fleet_pb2.Rollout(
        id=row["id"],
        bundle_version=row["bundle_version"],
        state=row["state"],
        current_wave=row["current_wave"],
        waves=[fleet_pb2.RolloutWave(**wave) for wave in json.loads(row["waves_json"])],
        max_failure_percent=row["max_failure_percent"],
        targets=[
            fleet_pb2.RolloutTarget(
                device_id=t["device_id"],
                wave=t["wave"],
                status=t["status"],
                detail=t["detail"],
                command_id=t["command_id"] or "",
            )
            for t in row["targets"]
        ],
        created_by=row["created_by"],
        pause_reason=row["pause_reason"],
    )


class FleetAdminServicer(fleet_pb2_grpc.FleetAdminServiceServicer):
    """The admin verbs of ``printgate admin fleet``."""

    def __init__(self, fleet: FleetComponent, authorize: Authorize) -> None:
        self.fleet = fleet
        self.authorize = authorize

    async def ListDevices(self, request: Any, context: Any) -> Any:
        await self.authorize(context)
        rows = self.fleet.list_devices(request.kind, request.group, request.offline_only)
        return fleet_pb2.ListDevicesResponse(devices=[device_message(row) for row in rows])

    async def ShowDevice(self, request: Any, context: Any) -> Any:
        await self.authorize(context)

        async def work() -> Any:
            row = self.fleet.device(request.id)
            row["open_alerts"] = len(alerts := self.fleet.alerts(device_id=request.id))
            return fleet_pb2.DeviceDetail(
                device=device_message(row),
                state_json=row["state_json"],
                alerts=[alert_message(a) for a in alerts],
                recent_commands=[command_message(c) for c in self.fleet.recent_commands(request.id)],
            )

        return await _call(context, work)

    async def DeviceHistory(self, request: Any, context: Any) -> Any:
        await self.authorize(context)

        async def work() -> Any:
            rows = self.fleet.history(request.id, request.limit)
            return fleet_pb2.DeviceHistoryResponse(
                entries=[
                    fleet_pb2.HistoryEntry(
                        at=_time(r["at_us"]), kind=r["kind"], summary_json=r["summary_json"]
                    )
                    for r in rows
                ]
            )

        return await _call(context, work)

    async def SendCommand(self, request: Any, context: Any) -> Any:
        who = await self.authorize(context)

        async def work() -> Any:
            args = _json(request.args_json, "args_json")
            row = await self.fleet.send_command(
                request.device_id, request.verb, args, who, timeout_s=request.timeout_s
            )
            return command_message(row)

        return await _call(context, work)

    async def SendFleetCommand(self, request: Any, context: Any) -> Any:
        who = await self.authorize(context)

        async def work() -> Any:
            args = _json(request.args_json, "args_json")
            rows = await self.fleet.send_to_fleet(
                request.verb, args, who, kind=request.kind, group=request.group, timeout_s=request.timeout_s
            )
            return fleet_pb2.FleetCommandList(commands=[command_message(row) for row in rows])

        return await _call(context, work)

    async def GetCommand(self, request: Any, context: Any) -> Any:
        await self.authorize(context)

        async def work() -> Any:
            return command_message(self.fleet.command(request.id))

        return await _call(context, work)

    async def ListAlerts(self, request: Any, context: Any) -> Any:
        await self.authorize(context)
        rows = self.fleet.alerts(include_cleared=request.include_cleared, device_id=request.device_id)
        return fleet_pb2.ListAlertsResponse(alerts=[alert_message(row) for row in rows])

    async def PutConfig(self, request: Any, context: Any) -> Any:
        who = await self.authorize(context)

        async def work() -> Any:
            scope = _SCOPES.get(request.scope)
            if scope is None:
                raise InvalidRequest("scope is CONFIG_SCOPE_DEVICE or CONFIG_SCOPE_GROUP")
            document = _json(request.document_json, "document_json")
            return config_message(await self.fleet.put_config(scope, request.name, document, who))

        return await _call(context, work)

    async def GetConfig(self, request: Any, context: Any) -> Any:
        await self.authorize(context)

        async def work() -> Any:
            scope = _SCOPES.get(request.scope)
            row = self.fleet.get_config(scope, request.name, request.version) if scope else None
            if row is None:
                raise InvalidRequest(f"no configuration for {request.name!r} in that scope and version")
            return config_message(row)

        return await _call(context, work)

    async def SetDeviceGroup(self, request: Any, context: Any) -> Any:
        await self.authorize(context)

        async def work() -> Any:
            return device_message(await self.fleet.set_group(request.device_id, request.group))

        return await _call(context, work)

    async def StartRollout(self, request: Any, context: Any) -> Any:
        who = await self.authorize(context)

        async def work() -> Any:
            row = await self.fleet.start_rollout(
                who,
                bundle_url=request.bundle_url,
                bundle_version=request.bundle_version,
                bundle_sha256=request.bundle_sha256,
                waves=[Wave(w.percent, w.group) for w in request.waves],
                max_failure_percent=request.max_failure_percent,
                kind=request.kind,
            )
            return rollout_message(row)

        return await _call(context, work)

    async def GetRollout(self, request: Any, context: Any) -> Any:
        await self.authorize(context)

        async def work() -> Any:
            return rollout_message(self.fleet.rollout(request.id))

        return await _call(context, work)

    async def PauseRollout(self, request: Any, context: Any) -> Any:
        who = await self.authorize(context)

        async def work() -> Any:
            return rollout_message(await self.fleet.pause_rollout(request.id, who))

        return await _call(context, work)

    async def ResumeRollout(self, request: Any, context: Any) -> Any:
        await self.authorize(context)

        async def work() -> Any:
            return rollout_message(await self.fleet.resume_rollout(request.id))

        return await _call(context, work)


class FleetDeviceServicer(fleet_pb2_grpc.FleetDeviceServiceServicer):
    """What enrolled devices call over mutual TLS."""

    def __init__(self, fleet: FleetComponent, identify: Authorize) -> None:
        self.fleet = fleet
        self.identify = identify

    async def FetchConfig(self, request: Any, context: Any) -> Any:
        device_id = await self.identify(context)

        async def work() -> Any:
            effective = self.fleet.effective_config(device_id)
            return fleet_pb2.DeviceConfig(
                version=effective.version,
                document_json=json.dumps(effective.document, sort_keys=True),
                group_version=effective.group_version,
                device_version=effective.device_version,
            )

        return await _call(context, work)

    async def UploadDiagnostics(self, request: Any, context: Any) -> Any:
        device_id = await self.identify(context)

        async def work() -> Any:
            size = await self.fleet.store_diagnostics(device_id, request.command_id, request.bundle)
            return fleet_pb2.UploadDiagnosticsResponse(size_bytes=size)

        return await _call(context, work)
