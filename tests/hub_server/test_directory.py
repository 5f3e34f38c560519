"""Directory administration through gRPC: CSV import rules and clear refusals."""

from __future__ import annotations

import grpc
import pytest
from printgate.v1 import admin_pb2, common_pb2

from tests.hub_server.conftest import HubClients


async def _import(hub: HubClients, csv: str, dry_run: bool = False) -> admin_pb2.ImportUsersResponse:
    return await hub.call_admin("ImportUsers", admin_pb2.ImportUsersRequest(csv=csv, dry_run=dry_run))


async def test_partial_csv_changes_only_the_columns_it_has(hub: HubClients) -> None:
    await hub.call_admin(
        "UpsertRole",
        admin_pb2.Role(name="staff", allowed_functions=[common_pb2.FUNCTION_PRINT], color_allowed=True),
    )
    await hub.create_user(
        "zed",
        email="zed@example.org",
        department="Physics",
        roles=["staff"],
        active=False,
        credit_limit_cents=300,
    )
    report = await _import(hub, "username,full_name,roles\nzed,Zed Z,\nnew,New Person,\n")
    assert (report.created, report.updated, report.errors) == (1, 1, 0)
    user = await hub.call_admin("GetUser", admin_pb2.UserRef(username="zed"))
    assert (
        user.full_name,
        user.email,
        user.department,
        list(user.roles),
        user.active,
        user.credit_limit_cents,
    ) == (
        "Zed Z",
        "zed@example.org",
        "Physics",
        ["staff"],
        False,
        300,
    )
    cleared = await _import(hub, "username,email\nzed,\n")
    assert cleared.updated == 1
    assert (await hub.call_admin("GetUser", admin_pb2.UserRef(username="zed"))).email == ""


async def test_dry_run_reports_and_changes_nothing(hub: HubClients) -> None:
    report = await _import(hub, "username,card_numbers\nann,AA01;AA02\nbad name,\n", dry_run=True)
    assert (report.dry_run, report.created, report.errors) == (True, 1, 1)
    assert [(r.line, r.action) for r in report.rows] == [(2, "created"), (3, "error")]
    users = await hub.call_admin("ListUsers", admin_pb2.ListUsersRequest())
    assert users.total == 0


async def test_csv_card_of_another_user_is_an_error_row(hub: HubClients) -> None:
    await hub.create_user("owner", card="C0FFEE")
    report = await _import(hub, "username,card_numbers\nthief,c0ffee\n")
    assert report.errors == 1 and "belongs to another user" in report.rows[0].message
    users = await hub.call_admin("ListUsers", admin_pb2.ListUsersRequest(query="thief"))
    assert users.total == 0


async def _refusal(call: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call  # type: ignore[misc]
    return raised.value.code(), raised.value.details() or ""


async def test_unknown_terminal_unlock_and_duplicate_group_are_refused(hub: HubClients) -> None:
    assert await _refusal(
        hub.call_admin("UnlockIdentity", admin_pb2.UnlockIdentityRequest(terminal_id="nosuch"))
    ) == (grpc.StatusCode.NOT_FOUND, "no terminal 'nosuch'")
    await hub.call_admin("CreateGroup", admin_pb2.Group(name="Library"))
    assert await _refusal(hub.call_admin("CreateGroup", admin_pb2.Group(name="Library"))) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "group 'Library' already exists",
    )


async def test_set_price_answers_with_what_was_stored(hub: HubClients) -> None:
    stored = await hub.call_admin(
        "SetPrice",
        admin_pb2.Price(
            function=common_pb2.FUNCTION_PRINT, color=common_pb2.COLOR_MODE_MONO, price_cents_per_page=12
        ),
    )
    assert (stored.printer_group, stored.paper_size, stored.price_cents_per_page) == ("default", "*", 12)
