"""Offline: the hub stops, cached users still log in and copy, the journal charges them on reconnect."""

from __future__ import annotations

import dataclasses

from terminal_app.terminal import (
    CardPresented,
    Logout,
    MessageKey,
    OfflineCache,
    OfflinePolicy,
    PinEntered,
    Screen,
    TerminalSettings,
)
from tests.terminal_app.conftest import ALICE_CARD, BOB_CARD, CAROL_CARD, DEFAULT_SETTINGS, Rig, restart_hub
from tests.terminal_app.terminal.test_engine import fresh_engine


async def login_once(rig: Rig, card: str = ALICE_CARD, pin: str = "") -> None:
    """An online login and logout, so the terminal caches the user."""
    await rig.engine.dispatch(CardPresented(card))
    if pin:
        await rig.engine.dispatch(PinEntered(pin))
    assert rig.engine.state.screen is Screen.HOME and not rig.engine.state.offline
    await rig.engine.dispatch(Logout())
    rig.clock.advance(DEFAULT_SETTINGS.relogin_guard_s)


async def test_cached_user_copies_offline_and_is_charged_once_on_reconnect(rig: Rig) -> None:
    await login_once(rig)
    await rig.hub.running.stop(0)
    engine = rig.engine
    await engine.dispatch(CardPresented(ALICE_CARD))
    state = engine.state
    assert (state.screen, state.offline, state.offline_session) == (Screen.HOME, True, True)
    assert state.message is MessageKey.OFFLINE_MODE
    assert state.available_cents == 500 and state.credit_pages == 500 // 20  # the offline credit cap
    assert rig.panel.enabled
    rig.copy(3)
    rig.copy(1, color=True)
    await engine.dispatch(Logout())
    assert not rig.panel.enabled and engine.state.pending_reports == 1
    await engine.flush_journal()  # still offline: nothing lost, nothing sent
    assert engine.state.pending_reports == 1 and engine.state.offline
    await restart_hub(rig.hub)
    assert await rig.client.reachable(5.0)
    await engine.flush_journal()
    await engine.flush_journal()  # a second replay finds nothing to send
    assert (engine.state.pending_reports, engine.state.offline) == (0, False)
    assert await rig.hub.balance("alice") == 1000 - 3 * 5 - 20
    assert not (await rig.hub.check_ledger()).problems


async def test_offline_spending_lowers_the_cached_balance(rig: Rig) -> None:
    await rig.hub.create_user("ivy", card=CAROL_CARD, credit_cents=30)
    await login_once(rig, CAROL_CARD)
    await rig.hub.running.stop(0)
    await rig.engine.dispatch(CardPresented(CAROL_CARD))
    assert rig.engine.state.credit_pages == 1  # 30 cents at the colour price
    rig.copy(1, color=True)
    await rig.engine.dispatch(Logout())
    rig.clock.advance(DEFAULT_SETTINGS.relogin_guard_s)
    await rig.engine.dispatch(CardPresented(CAROL_CARD))
    assert rig.engine.state.message is MessageKey.NOT_ENOUGH_CREDIT and not rig.panel.enabled


async def test_offline_second_factor_checks_the_cached_pin_hash(rig: Rig) -> None:
    await login_once(rig, BOB_CARD, pin="2468")
    await rig.hub.running.stop(0)
    engine = rig.engine
    await engine.dispatch(CardPresented(BOB_CARD))
    assert engine.state.screen is Screen.SECOND_FACTOR and engine.state.offline
    await engine.dispatch(PinEntered("1111"))
    assert (engine.state.screen, engine.state.message) == (Screen.IDLE, MessageKey.PIN_NOT_RECOGNISED)
    await engine.dispatch(CardPresented(BOB_CARD))
    await engine.dispatch(PinEntered("2468"))
    assert (engine.state.screen, engine.state.username) == (Screen.HOME, "bob") and rig.panel.enabled


async def test_offline_pin_only_login(rig: Rig) -> None:
    await rig.engine.dispatch(PinEntered("1357"))
    await rig.engine.dispatch(Logout())
    await rig.hub.running.stop(0)
    await rig.engine.dispatch(PinEntered("1357"))
    assert (rig.engine.state.screen, rig.engine.state.username) == (Screen.HOME, "carol")
    await rig.engine.dispatch(Logout())
    await rig.engine.dispatch(PinEntered("9999"))
    assert rig.engine.state.message is MessageKey.OFFLINE_REFUSED


async def test_unknown_card_offline_is_refused_by_default(rig: Rig) -> None:
    await rig.hub.running.stop(0)
    await rig.engine.dispatch(CardPresented(ALICE_CARD))  # alice exists, but this terminal never saw her
    state = rig.engine.state
    assert (state.screen, state.message, state.offline) == (Screen.IDLE, MessageKey.OFFLINE_REFUSED, True)
    assert not rig.panel.enabled


async def test_allowed_unknown_card_gets_a_capped_session_charged_by_card_later(rig: Rig) -> None:
    settings = dataclasses.replace(
        DEFAULT_SETTINGS, offline=OfflinePolicy(unknown_users="allow", unknown_user_page_cap=3)
    )
    engine = fresh_engine(rig, settings=settings)
    await engine.start()
    await rig.hub.create_user("hank", card=CAROL_CARD, credit_cents=200)
    await rig.hub.running.stop(0)
    await engine.dispatch(CardPresented(CAROL_CARD))
    assert (engine.state.screen, engine.state.credit_pages) == (Screen.HOME, 3)
    assert rig.copy(2) == 2 and rig.copy(1) == 1 and rig.copy(1) == 0  # the cap stops the copier
    await engine.dispatch(Logout())
    rig.clock.advance(settings.relogin_guard_s)
    await engine.dispatch(CardPresented("00FFFFFFFF"))  # a card nobody owns
    rig.copy(1)
    await engine.dispatch(Logout())
    assert engine.state.pending_reports == 2
    await restart_hub(rig.hub)
    await rig.client.reachable(5.0)
    await engine.flush_journal()
    assert await rig.hub.balance("hank") == 200 - 3 * 5
    assert engine.state.pending_reports == 0
    [failed] = rig.journal.failed()
    assert failed.deferred_card == "00FFFFFFFF" and "not recognised" in failed.last_error


async def test_cache_keeps_hashes_only_and_honours_ttl_and_size(rig: Rig) -> None:
    await login_once(rig, BOB_CARD, pin="2468")
    rig.store.execute("PRAGMA wal_checkpoint(FULL)")
    stored = b"".join(p.read_bytes() for p in rig.store_path.parent.glob("terminal.db*"))
    assert b"2468" not in stored and BOB_CARD.encode() not in stored
    small = OfflineCache(rig.store, b"k" * 32, rig.clock, ttl_s=100, max_users=1)
    assert small.by_card(BOB_CARD) is not None
    rig.clock.advance(101)
    assert small.by_card(BOB_CARD) is None and len(small) == 0
    await login_once(rig, ALICE_CARD)
    await rig.engine.dispatch(PinEntered("1357"))
    await rig.engine.dispatch(Logout())
    assert small.by_pin("1357") is not None  # the most recently seen user stays
    assert small.by_card(ALICE_CARD) is None and len(small) == 1


async def test_a_report_whose_acknowledgement_was_lost_is_charged_once(rig: Rig) -> None:
    await rig.engine.dispatch(CardPresented(ALICE_CARD))
    rig.copy(2)
    await rig.hub.running.stop(0)
    await rig.engine.dispatch(Logout())
    [entry] = rig.journal.pending()
    await restart_hub(rig.hub)
    await rig.client.reachable(5.0)
    first = await rig.client.report_usage(entry.report)  # applied, but "the answer was lost"
    await rig.engine.flush_journal()
    assert rig.journal.pending() == [] and await rig.hub.balance("alice") == 990
    assert first.charged_cents == 10


def test_offline_policy_validates() -> None:
    for bad in ({"unknown_users": "maybe"}, {"credit_cap_cents": -1}):
        try:
            OfflinePolicy(**bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} accepted")
    assert TerminalSettings(offline=OfflinePolicy(unknown_users="allow")).offline.unknown_users == "allow"
