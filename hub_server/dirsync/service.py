"""DirectoryService over gRPC: translation only, between messages and :class:`DirectorySync`.

The hub registers it with the admin check it uses for AdminService (``authorize(context)``
returns the admin's name or ends the call). Blocking work (LDAP, the write transaction) runs in
worker threads. The errors of this subpackage map to gRPC status codes here, in one table.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from printgate.v1 import directory_pb2, directory_pb2_grpc

from .errors import (
    DirectoryBindRefused,
    DirectoryConfigError,
    DirectoryError,
    DirectorySearchError,
    DirectoryUnavailable,
    SyncRefused,
    UnknownSource,
)
from .store import RunRecord
from .sync import DirectorySync, TestReport

# UNAVAILABLE is kept for "no hub answered": a directory the hub cannot read is ABORTED.
_STATUS: tuple[tuple[type[DirectoryError], grpc.StatusCode], ...] = (
    (UnknownSource, grpc.StatusCode.NOT_FOUND),
    (SyncRefused, grpc.StatusCode.FAILED_PRECONDITION),
    (DirectoryConfigError, grpc.StatusCode.FAILED_PRECONDITION),
    (DirectoryUnavailable, grpc.StatusCode.ABORTED),
    (DirectoryBindRefused, grpc.StatusCode.ABORTED),
    (DirectorySearchError, grpc.StatusCode.ABORTED),
)


def status_for(error: DirectoryError) -> grpc.StatusCode:
    """The gRPC status a directory error is reported with."""
    return next((status for kind, status in _STATUS if isinstance(error, kind)), grpc.StatusCode.UNKNOWN)


def _timestamp(microseconds: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromMicroseconds(microseconds)
    return stamp


def _test_message(report: TestReport) -> directory_pb2.DirectorySourceTest:
    server = report.server
    return directory_pb2.DirectorySourceTest(
        source=report.source,
        ok=report.ok,
        server=server.url if server else "",
        vendor=server.vendor if server else "",
        active_directory=bool(server and server.active_directory),
        paged_results=bool(server and server.paged_results),
        users=report.users,
        groups=report.groups,
        nested_mode=report.nested_mode,
        message=report.message,
    )


def _run_message(run: RunRecord) -> directory_pb2.DirectoryRun:
    return directory_pb2.DirectoryRun(
        started=_timestamp(run.started_us),
        finished=_timestamp(run.finished_us),
        outcome=run.outcome,
        forced=run.forced,
        server=run.server,
        counts=run.counts,
        message=run.message,
    )


class DirectoryServicer(directory_pb2_grpc.DirectoryServiceServicer):
    """Test, sync and status of the hub's directory sources."""

    def __init__(
        self, sync: DirectorySync, authorize: Callable[[grpc.aio.ServicerContext], Awaitable[str]]
    ) -> None:
        self.sync = sync
        self.authorize = authorize

    async def TestDirectory(
        self, request: directory_pb2.DirectoryTestRequest, context: grpc.aio.ServicerContext
    ) -> directory_pb2.DirectoryTestResponse:
        await self.authorize(context)
        try:
            names = (
                [self.sync.config.source(request.source).name]
                if request.source
                else [s.name for s in self.sync.config.sources]
            )
        except DirectoryError as error:
            await context.abort(status_for(error), str(error))
        reports = [await asyncio.to_thread(self.sync.test, name) for name in names]
        return directory_pb2.DirectoryTestResponse(sources=[_test_message(r) for r in reports])

    async def SyncDirectory(
        self, request: directory_pb2.DirectorySyncRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[directory_pb2.DirectorySyncEvent]:
        await self.authorize(context)
        try:
            result = await asyncio.to_thread(
                self.sync.sync, request.source, dry_run=request.dry_run, force=request.force
            )
        except DirectoryError as error:
            await context.abort(status_for(error), str(error))
        assert result.plan is not None
        for change in result.plan.changes:
            yield directory_pb2.DirectorySyncEvent(
                change=directory_pb2.DirectoryChange(
                    action=change.action, username=change.username, detail=change.detail
                )
            )
        yield directory_pb2.DirectorySyncEvent(
            summary=directory_pb2.DirectorySyncSummary(
                source=result.source,
                outcome=result.outcome,
                server=result.server,
                counts=result.counts,
                would_refuse=result.would_refuse,
            )
        )

    async def GetDirectoryStatus(
        self, request: directory_pb2.DirectoryStatusRequest, context: grpc.aio.ServicerContext
    ) -> directory_pb2.DirectoryStatusResponse:
        await self.authorize(context)
        statuses = await asyncio.to_thread(self.sync.status)
        return directory_pb2.DirectoryStatusResponse(
            sources=[
                directory_pb2.DirectorySourceStatus(
                    source=s.source,
                    servers=list(s.servers),
                    active_users=s.active_users,
                    disabled_users=s.disabled_users,
                    runs=[_run_message(run) for run in s.runs],
                    next_run=_timestamp(s.next_run_us) if s.next_run_us else None,
                )
                for s in statuses
            ]
        )
