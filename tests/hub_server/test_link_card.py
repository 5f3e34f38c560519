"""TerminalService.LinkCard through the real gRPC hub, the session's unit prices, and the
per-copy prices of each release override in ListJobs."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from printgate.v1 import common_pb2, terminal_pb2

from hub_server.server import start_hub
from tests.hub_server.conftest import HubClients, TerminalClient, admin_channel_of, hub_config
from tests.hub_server.test_release_site import THREE_PAGES_PS, open_site

CARD = "04A1B2C3D4"
NEW_CARD = "04FFEE0011"


async def link(
    terminal: TerminalClient, card: str, username: str, password: str
) -> terminal_pb2.AuthenticateResponse:
    request = terminal_pb2.LinkCardRequest(card_number=card, username=username, password=password)
    return await terminal.stub.LinkCard(request)


async def _code(call: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call  # type: ignore[misc]
    return raised.value.code(), raised.value.details() or ""


async def test_unknown_card_linked_by_password_then_a_tap_logs_in(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    await hub.create_user("alice", initial_password="pw-alice-1", credit_cents=300)
    assert await _code(terminal.tap(NEW_CARD)) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "card or PIN not recognised",
    )
    reply = await link(terminal, NEW_CARD.lower() + " ", "alice", "pw-alice-1")
    assert reply.session_token and reply.session.user.username == "alice"
    assert (reply.session.balance_cents, reply.session.auth_method) == (300, "password")
    assert (await terminal.session(reply.session_token)).user.username == "alice"
    tapped = await terminal.tap(NEW_CARD)
    assert (tapped.session.user.username, tapped.session.auth_method) == ("alice", "card")
    again = await link(terminal, NEW_CARD, "alice", "pw-alice-1")  # already hers: a retry is harmless
    assert again.session.user.username == "alice"


async def test_wrong_password_counts_like_a_password_login(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    await hub.create_user("alice", initial_password="pw-alice-1")
    limit = hub.running.hub.config.auth.max_failed_attempts
    answers = [await _code(link(terminal, NEW_CARD, "alice", f"wrong-{n}")) for n in range(limit)]
    assert answers == [(grpc.StatusCode.UNAUTHENTICATED, "username or password not recognised")] * limit
    code, message = await _code(link(terminal, NEW_CARD, "alice", "pw-alice-1"))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "locked for 30 more seconds" in message
    # the user waits everywhere (a password login too), and so does this terminal (every failure
    # there counts); the card was not linked: another terminal does not know it
    other = await hub.create_terminal("t2")
    assert (await _code(other.password("alice", "pw-alice-1")))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert (await _code(terminal.tap(NEW_CARD)))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert (await _code(other.tap(NEW_CARD)))[0] == grpc.StatusCode.UNAUTHENTICATED


async def test_unknown_usernames_count_against_the_terminal(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    other = await hub.create_terminal("t2")
    await hub.create_user("alice", initial_password="pw-alice-1")
    limit = hub.running.hub.config.auth.max_failed_attempts
    for n in range(limit):
        assert (await _code(link(terminal, NEW_CARD, f"nobody{n}", "x")))[
            0
        ] == grpc.StatusCode.UNAUTHENTICATED
    assert (await _code(link(terminal, NEW_CARD, "alice", "pw-alice-1")))[
        0
    ] == grpc.StatusCode.PERMISSION_DENIED
    assert (await link(other, NEW_CARD, "alice", "pw-alice-1")).session.user.username == "alice"


async def test_a_card_someone_holds_is_refused_without_naming_them(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    await hub.create_user("alice", card=CARD)
    await hub.create_user("mallory", initial_password="pw-mallory")
    # a wrong password says nothing about the card
    assert (await _code(link(terminal, CARD, "mallory", "nope")))[0] == grpc.StatusCode.UNAUTHENTICATED
    code, message = await _code(link(terminal, CARD, "mallory", "pw-mallory"))
    assert (code, message) == (grpc.StatusCode.FAILED_PRECONDITION, "this card cannot be linked here")
    assert "alice" not in message
    assert (await terminal.tap(CARD)).session.user.username == "alice"  # still alice's


async def test_linking_disabled_is_refused_before_any_password_work(tmp_path: Path) -> None:
    from hub_server.clock import FakeClock
    from hub_server.server import ADMIN_TOKEN_FILE

    running = await start_hub(hub_config(tmp_path / "hub", self_link_cards=False), FakeClock())
    token = (tmp_path / "hub" / ADMIN_TOKEN_FILE).read_text().strip()
    hub = HubClients(running=running, channel=admin_channel_of(running), admin_token=token, clock=FakeClock())
    try:
        terminal = await hub.create_terminal("t1")
        await hub.create_user("alice", initial_password="pw-alice-1")
        refused = (
            grpc.StatusCode.FAILED_PRECONDITION,
            "linking cards at the terminal is disabled on this hub",
        )
        assert await _code(link(terminal, NEW_CARD, "alice", "pw-alice-1")) == refused
        assert await _code(link(terminal, NEW_CARD, "alice", "wrong")) == refused  # nothing counted
        assert (await terminal.password("alice", "pw-alice-1")).session.user.username == "alice"
    finally:
        await hub.close()
        await running.stop(0)


async def test_bad_card_number_is_a_clear_error(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    await hub.create_user("alice", initial_password="pw-alice-1")
    assert (await _code(link(terminal, "x" * 500, "alice", "pw-alice-1")))[
        0
    ] == grpc.StatusCode.INVALID_ARGUMENT


async def test_session_carries_unit_prices_of_the_terminals_group(hub: HubClients) -> None:
    terminal = await hub.create_terminal("t1")
    await hub.create_user("alice", card=CARD)
    await hub.set_price(common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_MONO, 7)
    await hub.set_price(common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_COLOR, 35)
    await hub.set_price(common_pb2.FUNCTION_PRINT, common_pb2.COLOR_MODE_MONO, 6, duplex=True)
    session = (await terminal.tap(CARD)).session
    prices = {
        (line.line.function, line.line.color, line.line.paper_size, line.line.duplex): line.unit_price_cents
        for line in session.prices
    }
    assert len(session.prices) == 8  # print/copy x mono/colour x simplex/duplex, paper "*" only
    assert all(line.line.pages == 1 and line.amount_cents == line.unit_price_cents for line in session.prices)
    assert prices[common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_MONO, "*", False] == 7
    assert prices[common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_COLOR, "*", False] == 35
    assert prices[common_pb2.FUNCTION_PRINT, common_pb2.COLOR_MODE_MONO, "*", True] == 6
    assert prices[common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_MONO, "*", True] == 0
    token = (await terminal.tap(CARD)).session_token
    assert list((await terminal.session(token)).prices) == list(session.prices)


async def test_held_jobs_are_priced_per_copy_with_each_override(tmp_path: Path) -> None:
    """Prices (per page side): mono 10 / duplex 7, colour 50 / duplex 40; a 3-page job with one
    colour page, 2 copies."""
    async with open_site(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}") as site:
        document = tmp_path / "three-pages.ps"
        document.write_bytes(THREE_PAGES_PS)
        await site.submit(document, "alice", name="thesis.ps", copies=2)
        token = (await site.terminal.tap("c-alice")).session_token
        reply = await site.terminal.stub.ListJobs(terminal_pb2.ListJobsRequest(session_token=token))
        (job,) = reply.jobs
        assert (job.pages, job.color_pages, job.copies, job.duplex) == (3, 1, 2, False)
        assert job.price_per_copy_cents == 50 + 2 * 10
        assert job.estimated_price_cents == 2 * job.price_per_copy_cents
        assert job.price_mono_per_copy_cents == 3 * 10
        assert job.price_duplex_per_copy_cents == 40 + 2 * 7
        assert job.price_mono_duplex_per_copy_cents == 3 * 7


def test_config_key_defaults_on(tmp_path: Path) -> None:
    from hub_server.config import load_config

    assert load_config().auth.self_link_cards is True
    path = tmp_path / "hub.toml"
    path.write_text("[auth]\nself_link_cards = false\n")
    assert load_config(path).auth.self_link_cards is False
