"""``printgate admin directory test | sync [--dry-run] [--force] | status``: the command logic.

These functions talk to a hub's DirectoryService through a stub and print for a person; they
import nothing of the hub (only the generated ``printgate.v1`` stubs), so the admin CLI package
can call them as they are. Each returns the exit code:

====  ==========================================================================
0     done (a sync with conflicts is done: they are printed and recorded)
1     the hub refused or failed the run (its status and message on stderr); a
      test with a source that does not work
====  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

import grpc
from printgate.v1 import directory_pb2

Metadata = Sequence[tuple[str, str]]
ORDER = (
    "create",
    "adopt",
    "update",
    "rename",
    "enable",
    "disable",
    "cards",
    "card-move",
    "pin",
    "conflict",
    "problem",
)


def _when(stamp: Any) -> str:
    if not stamp.seconds and not stamp.nanos:
        return "-"
    return datetime.fromtimestamp(stamp.seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _counts(counts: Any) -> str:
    shown = [f"{counts[a]} {a}" for a in ORDER if counts.get(a)]
    return ", ".join(shown) or "no changes"


def _failed(error: grpc.RpcError, err: TextIO) -> int:
    err.write(f"printgate admin: {error.code().name}: {error.details()}\n")
    return 1


def directory_test(
    stub: Any, metadata: Metadata, timeout_s: float, source: str, out: TextIO, err: TextIO
) -> int:
    """Connect, bind and count for each source (or ``source``)."""
    try:
        reply = stub.TestDirectory(
            directory_pb2.DirectoryTestRequest(source=source), metadata=metadata, timeout=timeout_s
        )
    except grpc.RpcError as error:
        return _failed(error, err)
    for test in reply.sources:
        if test.ok:
            kind = "Active Directory" if test.active_directory else test.vendor
            out.write(
                f"{test.source}: ok via {test.server} "
                f"({kind}, paged results {'yes' if test.paged_results else 'no'}): "
                f"{test.users} users, {test.groups} groups, nested groups {test.nested_mode}"
                + (f"; {test.message}" if test.message else "")
                + "\n"
            )
        else:
            out.write(f"{test.source}: FAILED: {test.message}\n")
    return 0 if all(t.ok for t in reply.sources) else 1


def directory_sync(
    stub: Any,
    metadata: Metadata,
    timeout_s: float,
    source: str,
    dry_run: bool,
    force: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    """Print the diff line by line, then the summary; a dry run says nothing was changed."""
    request = directory_pb2.DirectorySyncRequest(source=source, dry_run=dry_run, force=force)
    try:
        for event in stub.SyncDirectory(request, metadata=metadata, timeout=timeout_s):
            if event.HasField("change"):
                change = event.change
                out.write(
                    f"{change.action:<9} {change.username}"
                    + (f": {change.detail}" if change.detail else "")
                    + "\n"
                )
            else:
                summary = event.summary
                done = "dry run, nothing was changed" if summary.outcome == "dry-run" else "applied"
                out.write(f"{summary.source} via {summary.server}: {_counts(summary.counts)} ({done})\n")
                if summary.would_refuse:
                    out.write(f"the real run would stop: {summary.would_refuse}\n")
    except grpc.RpcError as error:
        return _failed(error, err)
    return 0


def directory_status(stub: Any, metadata: Metadata, timeout_s: float, out: TextIO, err: TextIO) -> int:
    """Each source: its servers, linked users, next scheduled run and latest runs."""
    try:
        reply = stub.GetDirectoryStatus(
            directory_pb2.DirectoryStatusRequest(), metadata=metadata, timeout=timeout_s
        )
    except grpc.RpcError as error:
        return _failed(error, err)
    for status in reply.sources:
        out.write(
            f"{status.source}: {', '.join(status.servers)}; {status.active_users} active, "
            f"{status.disabled_users} disabled users; next run {_when(status.next_run)}\n"
        )
        for run in status.runs:
            forced = " (forced)" if run.forced else ""
            out.write(f"  {_when(run.started)}  {run.outcome}{forced}  {_counts(run.counts)}")
            out.write(f"  {run.message}\n" if run.message else "\n")
    return 0
