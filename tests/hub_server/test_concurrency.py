"""Fifty terminals charging one prepaid account at once, through real gRPC."""

from __future__ import annotations

import asyncio

import grpc
from printgate.v1 import common_pb2

from tests.hub_server.conftest import HubClients, TerminalClient

CLIENTS = 50
CHARGES_PER_CLIENT = 10
PRICE_CENTS = 7
START_CENTS = 1000


async def test_fifty_clients_never_overdraw_one_account(hub: HubClients) -> None:
    await hub.set_price(common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_MONO, PRICE_CENTS)
    await hub.create_user("shared", card="5AAA", credit_cents=START_CENTS)
    # Each terminal is enrolled with its own certificate and calls on its own connection.
    terminals = [await hub.create_terminal(f"t{index}") for index in range(CLIENTS)]

    async def client(terminal: TerminalClient) -> list[str]:
        token = (await terminal.tap("5AAA")).session_token
        outcomes = []
        for charge in range(CHARGES_PER_CLIENT):
            try:
                await terminal.report(token, f"{terminal.terminal_id}-{charge}", 1)
                outcomes.append("ok")
            except grpc.aio.AioRpcError as error:
                outcomes.append(error.code().name)
        return outcomes

    results = await asyncio.gather(*(client(t) for t in terminals))
    outcomes = [outcome for client_outcomes in results for outcome in client_outcomes]
    accepted = outcomes.count("ok")
    assert accepted == START_CENTS // PRICE_CENTS == 142
    assert outcomes.count("FAILED_PRECONDITION") == CLIENTS * CHARGES_PER_CLIENT - accepted
    assert await hub.balance("shared") == START_CENTS - accepted * PRICE_CENTS == 6
    check = await hub.check_ledger()
    assert check.ok, check.problems
