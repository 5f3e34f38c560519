"""ReportUsage through the real gRPC hub: prices, accounts, quotas, arrears, idempotency."""

from __future__ import annotations

import grpc
import pytest
from printgate.v1 import admin_pb2, common_pb2, terminal_pb2

from tests.hub_server.conftest import HubClients, TerminalClient

CARD = "CAFE0001"
PRINT, COPY, SCAN = common_pb2.FUNCTION_PRINT, common_pb2.FUNCTION_COPY, common_pb2.FUNCTION_SCAN
MONO, COLOR = common_pb2.COLOR_MODE_MONO, common_pb2.COLOR_MODE_COLOR


async def _error(call: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call  # type: ignore[misc]
    return raised.value.code(), raised.value.details() or ""


async def _site(hub: HubClients, credit_cents: int = 1000) -> tuple[TerminalClient, str]:
    await hub.set_price(COPY, MONO, 10)
    await hub.set_price(COPY, MONO, 8, duplex=True)
    await hub.set_price(COPY, COLOR, 50)
    await hub.set_price(PRINT, MONO, 10)
    terminal = await hub.create_terminal("t1")
    await hub.create_user("alice", card=CARD, credit_cents=credit_cents)
    token = (await terminal.tap(CARD)).session_token
    return terminal, token


async def test_copies_are_priced_per_page_and_charged_once(hub: HubClients) -> None:
    terminal, token = await _site(hub)
    reply = await terminal.report(token, "job-1", 7, color=COLOR)
    assert reply.outcome == terminal_pb2.REPORT_OUTCOME_CREATED
    assert reply.charged_cents == 350
    assert reply.balance_cents == 650
    assert [(line.unit_price_cents, line.amount_cents) for line in reply.priced_lines] == [(50, 350)]
    replay = await terminal.report(token, "job-1", 7, color=COLOR)
    assert replay.outcome == terminal_pb2.REPORT_OUTCOME_ALREADY_APPLIED
    assert replay.transaction_id == reply.transaction_id
    assert replay.balance_cents == 650
    assert await hub.balance("alice") == 650
    ledger = await hub.call_admin(
        "GetLedger", admin_pb2.GetLedgerRequest(user=admin_pb2.UserRef(username="alice"))
    )
    assert [(e.kind, e.amount_cents, e.balance_after_cents) for e in ledger.entries] == [
        ("usage", -350, 650),
        ("adjustment", 1000, 1000),
    ]
    assert (await hub.check_ledger()).ok


async def test_same_key_with_another_payload_is_a_conflict(hub: HubClients) -> None:
    terminal, token = await _site(hub)
    await terminal.report(token, "job-1", 3)
    code, message = await _error(terminal.report(token, "job-1", 4))
    assert code == grpc.StatusCode.ALREADY_EXISTS and "different request" in message
    assert await hub.balance("alice") == 970


async def test_duplex_copies_use_the_duplex_price_for_every_side(hub: HubClients) -> None:
    terminal, token = await _site(hub)
    reply = await terminal.report(token, "d", 20, duplex=True)  # 10 sheets, 20 sides
    assert reply.charged_cents == 160


async def test_a_charge_asked_in_advance_is_refused_without_credit(hub: HubClients) -> None:
    terminal, token = await _site(hub, credit_cents=95)
    code, message = await _error(terminal.report(token, "p1", 10, function=PRINT))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "100 cents needed, 95 available" in message
    assert await hub.balance("alice") == 95
    # the failed key left nothing behind: after a top-up the same report goes through
    await hub.credit("alice", 5)
    assert (await terminal.report(token, "p1", 10, function=PRINT)).balance_cents == 0


async def test_an_overrun_copy_session_is_posted_and_blocks_the_user(hub: HubClients) -> None:
    terminal, token = await _site(hub, credit_cents=95)
    reply = await terminal.report(token, "copy-1", 12, performed=True)
    assert reply.charged_cents == 120
    assert reply.balance_cents == 0
    assert reply.arrears_cents == 25
    assert reply.blocked
    session = await terminal.session(token)
    assert session.blocked and list(session.allowed_functions) == [] and session.arrears_cents == 25
    code, _ = await _error(terminal.report(token, "copy-2", 1))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    # a top-up pays the arrears first, and unblocks
    assert await hub.credit("alice", 100) == 75
    session = await terminal.session(token)
    assert not session.blocked and session.arrears_cents == 0 and session.balance_cents == 75
    assert (await hub.check_ledger()).ok


async def test_credit_limit_allows_an_overdraft(hub: HubClients) -> None:
    terminal, token = await _site(hub, credit_cents=10)
    await hub.call_admin(
        "SetCreditLimit",
        admin_pb2.SetCreditLimitRequest(user=admin_pb2.UserRef(username="alice"), credit_limit_cents=50),
    )
    reply = await terminal.report(token, "o1", 6)
    assert reply.balance_cents == -50
    assert (await _error(terminal.report(token, "o2", 1)))[0] == grpc.StatusCode.FAILED_PRECONDITION
    code, message = await _error(
        hub.call_admin(
            "SetCreditLimit",
            admin_pb2.SetCreditLimitRequest(user=admin_pb2.UserRef(username="alice"), credit_limit_cents=0),
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "below that limit" in message


async def test_project_and_department_accounts(hub: HubClients) -> None:
    await hub.set_price(COPY, MONO, 10)
    terminal = await hub.create_terminal("t1")
    await hub.create_user("bob", card="B0B", department="Physics", billing=admin_pb2.BILLING_DEPARTMENT)
    await hub.call_admin(
        "CreateProject", admin_pb2.Project(code="grant-7", name="Grant 7", groups=["Physics"])
    )
    await hub.call_admin("CreateProject", admin_pb2.Project(code="secret", name="Other dept"))
    token = (await terminal.tap("B0B")).session_token
    session = await terminal.session(token)
    assert session.postpaid and session.account == "department:Physics"
    assert [p.code for p in session.projects] == ["grant-7"]
    assert (await terminal.report(token, "a", 3)).account == "department:Physics"
    charged = await terminal.report(token, "b", 4, project="grant-7")
    assert (charged.account, charged.balance_cents) == ("project:grant-7", -40)
    assert (await _error(terminal.report(token, "c", 1, project="secret")))[
        0
    ] == grpc.StatusCode.PERMISSION_DENIED
    accounts = await hub.call_admin("ListAccounts", admin_pb2.ListAccountsRequest())
    balances = {a.name: a.balance_cents for a in accounts.accounts}
    assert balances["department:Physics"] == -30
    assert balances["system:revenue"] == 70
    assert sum(balances.values()) == 0


async def _quota(
    hub: HubClients,
    limit: int,
    action: common_pb2.QuotaAction,
    scope: common_pb2.QuotaColorScope = common_pb2.QUOTA_COLOR_SCOPE_COLOR,
) -> None:
    await hub.call_admin(
        "CreateQuotaRule",
        admin_pb2.QuotaRule(
            name="colour per day",
            everyone=True,
            period=common_pb2.QUOTA_PERIOD_DAY,
            unit=common_pb2.QUOTA_UNIT_PAGES,
            color_scope=scope,
            limit=limit,
            action=action,
        ),
    )


async def test_blocking_quota_refuses_then_rolls_over_next_day(hub: HubClients) -> None:
    terminal, token = await _site(hub, credit_cents=100_000)
    await _quota(hub, 10, common_pb2.QUOTA_ACTION_BLOCK)
    await terminal.report(token, "q1", 8, color=COLOR)
    code, message = await _error(terminal.report(token, "q2", 3, color=COLOR))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "colour per day" in message
    assert (await terminal.report(token, "q3", 50, color=MONO)).charged_cents == 500  # mono is not counted
    session = await terminal.session(token)
    assert [(q.used, q.remaining) for q in session.quotas] == [(8, 2)]
    # copies already made are counted even past the limit
    assert (await terminal.report(token, "q4", 5, color=COLOR, performed=True)).charged_cents == 250
    assert [(q.used, q.remaining) for q in (await terminal.session(token)).quotas] == [(13, 0)]
    hub.clock.advance(24 * 3600)
    token = (await terminal.tap(CARD)).session_token
    assert [(q.used, q.remaining) for q in (await terminal.session(token)).quotas] == [(0, 10)]
    await terminal.report(token, "q5", 10, color=COLOR)


async def test_warning_quota_allows_and_warns(hub: HubClients) -> None:
    terminal, token = await _site(hub, credit_cents=100_000)
    await _quota(hub, 2, common_pb2.QUOTA_ACTION_WARN)
    reply = await terminal.report(token, "w1", 3, color=COLOR)
    assert reply.quota_warnings == ["quota 'colour per day' exceeded: 3 of 2 pages"]


async def test_role_without_colour_or_scan(hub: HubClients) -> None:
    await hub.call_admin(
        "UpsertRole", admin_pb2.Role(name="student", allowed_functions=[PRINT, COPY], color_allowed=False)
    )
    terminal, _ = await _site(hub)
    await hub.create_user("sam", card="5A11", credit_cents=1000, roles=["student"])
    token = (await terminal.tap("5A11")).session_token
    assert (await _error(terminal.report(token, "s1", 1, color=COLOR)))[
        0
    ] == grpc.StatusCode.PERMISSION_DENIED
    assert (await _error(terminal.report(token, "s2", 1, function=SCAN)))[
        0
    ] == grpc.StatusCode.PERMISSION_DENIED
    assert (await terminal.report(token, "s3", 1)).charged_cents == 10


async def test_printer_group_prices_win_over_default(hub: HubClients) -> None:
    await hub.set_price(COPY, MONO, 10)
    await hub.set_price(COPY, MONO, 4, group="cheap")
    await hub.call_admin(
        "UpsertPrinter", admin_pb2.Printer(name="basement", address="10.0.0.9", printer_group="cheap")
    )
    terminal = await hub.create_terminal("t-base", printer="basement")
    await hub.create_user("alice", card=CARD, credit_cents=100)
    token = (await terminal.tap(CARD)).session_token
    assert (await terminal.report(token, "g1", 5)).charged_cents == 20


@pytest.mark.parametrize(
    "pages, paper, key, expected",
    [
        (-1, "A4", "k", "pages must be"),
        (10**7, "A4", "k", "pages must be"),
        (1, "", "k", "paper size"),
        (1, "A4", "", "idempotency key"),
        (1, "A4", "k" * 200, "idempotency key"),
    ],
)
async def test_bad_usage_is_refused_clearly(
    hub: HubClients, pages: int, paper: str, key: str, expected: str
) -> None:
    terminal, token = await _site(hub)
    code, message = await _error(terminal.report(token, key, pages, paper_size=paper))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and expected in message
    assert await hub.balance("alice") == 1000


async def test_usage_after_logout_is_still_charged_for_journal_replay(hub: HubClients) -> None:
    terminal, token = await _site(hub)
    await terminal.logout(token)
    hub.clock.advance(3600)
    assert (await terminal.report(token, "late-1", 2, performed=True)).charged_cents == 20
    hub.clock.advance(8 * 24 * 3600)
    assert (await _error(terminal.report(token, "late-2", 2, performed=True)))[
        0
    ] == grpc.StatusCode.UNAUTHENTICATED
