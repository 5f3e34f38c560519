"""``printgate admin directory test | sync [--dry-run] [--force] | status``: the hub's directory
sync (DirectoryService, docs/directory.md).

``sync`` prints one line per change, then the summary; a dry run says nothing was changed.
Exit codes as every verb's: 0 done (a sync with conflicts is done: they are printed and
recorded), 1 the hub refused or could not run it (a run that would disable too many users, a
directory it cannot read) or a tested source does not work, 3 the hub cannot be reached.
A sync reads the whole directory first: its deadline is :data:`SYNC_TIMEOUT_S` unless
``--timeout-s`` says otherwise.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from printgate.v1 import directory_pb2

from admin_cli.render import printable
from admin_cli.verbs import Verb, VerbTable

__all__ = ["SYNC_TIMEOUT_S", "add_verbs"]

SYNC_TIMEOUT_S = 1800.0  # a first sync of 100,000 users takes about two minutes
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
    "warning",
)


def _when(stamp: Any) -> str:
    if not stamp.seconds and not stamp.nanos:
        return "-"
    return datetime.fromtimestamp(stamp.seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _counts(counts: Any) -> str:
    shown = [f"{counts[action]} {action}" for action in ORDER if counts.get(action)]
    return ", ".join(shown) or "no changes"


def _test_report(reply: Any, args: argparse.Namespace) -> str:
    lines = []
    for test in reply.sources:
        if not test.ok:
            lines.append(f"{printable(test.source)}: FAILED: {printable(test.message)}")
            continue
        kind = "Active Directory" if test.active_directory else printable(test.vendor)
        lines.append(
            f"{printable(test.source)}: ok via {printable(test.server)} "
            f"({kind}, paged results {'yes' if test.paged_results else 'no'}): "
            f"{test.users} users, {test.groups} groups, nested groups {test.nested_mode}"
            + (f"; {printable(test.message)}" if test.message else "")
        )
    return "\n".join(lines) or "(no directory sources configured)"


def _failed_sources(reply: Any) -> str | None:
    failed = [test.source for test in reply.sources if not test.ok]
    return f"directory source(s) not working: {', '.join(failed)}" if failed else None


def _sync_report(events: list[Any], args: argparse.Namespace) -> str:
    lines = []
    for event in events:
        if event.HasField("change"):
            change = event.change
            detail = f": {printable(change.detail)}" if change.detail else ""
            lines.append(f"{change.action:<9} {printable(change.username)}{detail}")
            continue
        summary = event.summary
        done = "dry run, nothing was changed" if summary.outcome == "dry-run" else "applied"
        lines.append(
            f"{printable(summary.source)} via {printable(summary.server)}: {_counts(summary.counts)} ({done})"
        )
        if summary.would_refuse:
            lines.append(f"the real run would stop: {printable(summary.would_refuse)}")
    return "\n".join(lines)


def _status_report(reply: Any, args: argparse.Namespace) -> str:
    lines = []
    for status in reply.sources:
        lines.append(
            f"{printable(status.source)}: {', '.join(printable(s) for s in status.servers)}; "
            f"{status.active_users} active, {status.disabled_users} disabled users; "
            f"next run {_when(status.next_run)}"
        )
        for run in status.runs:
            forced = " (forced)" if run.forced else ""
            message = f"  {printable(run.message)}" if run.message else ""
            lines.append(f"  {_when(run.started)}  {run.outcome}{forced}  {_counts(run.counts)}{message}")
    return "\n".join(lines) or "(no directory sources configured)"


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("directory", "users, groups and cards synced from LDAP / Active Directory")
    test = verbs.add(
        "test",
        "connect, bind and count users and groups of each source",
        Verb(
            "TestDirectory",
            lambda a: directory_pb2.DirectoryTestRequest(source=a.source or ""),
            _test_report,
            verdict=_failed_sources,
            service="directory",
            timeout_s=SYNC_TIMEOUT_S,
        ),
    )
    test.add_argument("--source", metavar="NAME", help="only this source")
    sync = verbs.add(
        "sync",
        "sync a source: print the diff (--dry-run: and change nothing)",
        Verb(
            "SyncDirectory",
            lambda a: directory_pb2.DirectorySyncRequest(source=a.source, dry_run=a.dry_run, force=a.force),
            _sync_report,
            service="directory",
            stream="events",
            timeout_s=SYNC_TIMEOUT_S,
        ),
    )
    sync.add_argument("--source", metavar="NAME", required=True)
    sync.add_argument("--dry-run", action="store_true", help="print the exact diff, change nothing")
    sync.add_argument(
        "--force", action="store_true", help="apply even if it disables more users than the guard allows"
    )
    verbs.add(
        "status",
        "linked users, the next scheduled run and the latest runs of each source",
        Verb(
            "GetDirectoryStatus",
            lambda a: directory_pb2.DirectoryStatusRequest(),
            _status_report,
            service="directory",
        ),
    )
