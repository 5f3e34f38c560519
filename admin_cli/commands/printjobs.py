"""``printgate admin printjob ...`` and ``delegation ...``: held print jobs and who may release them."""

from __future__ import annotations

import argparse
from typing import Any

from google.protobuf.message import Message
from printgate.v1 import admin_pb2

from admin_cli.render import printable, record_of, said, table_of
from admin_cli.verbs import Verb, VerbTable, user_ref

PRINT_JOB_COLUMNS = (
    "id",
    "owner",
    "submitted_by",
    "name",
    "state",
    "pages",
    "color_pages",
    "copies",
    "size_bytes",
)


def _delegation(args: argparse.Namespace) -> Message:
    delegation = admin_pb2.Delegation(owner=user_ref(args.owner))
    if args.to_user:
        delegation.delegate_user.username = args.to_user
    else:
        delegation.delegate_group = args.to_group
    return delegation


def _delegations_report(reply: Any, args: argparse.Namespace) -> str:
    rows = [
        f"{printable(d.owner.username)} -> "
        + (
            f"user {printable(d.delegate_user.username)}"
            if d.HasField("delegate_user")
            else f"group {printable(d.delegate_group)}"
        )
        for d in reply.delegations
    ]
    return "\n".join(rows) or "(none)"


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("printjob", "held print jobs (pull printing)")
    listing = verbs.add(
        "list",
        "held and recent print jobs, newest first",
        Verb(
            "ListPrintJobs",
            lambda a: admin_pb2.ListPrintJobsRequest(
                owner=user_ref(a.owner) if a.owner else None, limit=a.limit
            ),
            table_of("jobs", PRINT_JOB_COLUMNS),
        ),
    )
    listing.add_argument("--owner", metavar="USERNAME")
    listing.add_argument("--limit", type=int, default=0, help="at most this many (default and maximum 1000)")
    delete = verbs.add(
        "delete",
        "cancel jobs and shred their documents",
        Verb(
            "DeletePrintJobs",
            lambda a: admin_pb2.DeletePrintJobsRequest(job_ids=a.job_id),
            lambda reply, args: f"{reply.deleted} job(s) deleted",
        ),
    )
    delete.add_argument("job_id", type=int, nargs="+")
    assign = verbs.add(
        "assign",
        "give a job held for claiming (unknown submitter) to a user",
        Verb(
            "AssignPrintJob",
            lambda a: admin_pb2.AssignPrintJobRequest(job_id=a.job_id, owner=user_ref(a.username)),
            record_of(PRINT_JOB_COLUMNS),
        ),
    )
    assign.add_argument("job_id", type=int)
    assign.add_argument("username")
    verbs.group("delegation", "who may release whose print jobs")
    for name, method, done, help_text in (
        ("add", "DelegateJobs", "delegated", "let a user or a group release OWNER's jobs"),
        ("remove", "UndelegateJobs", "delegation removed", "withdraw a delegation"),
    ):
        parser = verbs.add(name, help_text, Verb(method, _delegation, said(done)), "owner")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--to-user", metavar="USERNAME")
        target.add_argument("--to-group", metavar="GROUP")
    listing = verbs.add(
        "list",
        "delegations (of one owner, or all)",
        Verb(
            "ListDelegations",
            lambda a: admin_pb2.ListDelegationsRequest(owner=user_ref(a.owner) if a.owner else None),
            _delegations_report,
        ),
    )
    listing.add_argument("--owner", metavar="USERNAME")
