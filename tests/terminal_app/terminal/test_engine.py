"""Session engine transitions over the real hub, the real FIH panel lock and a fake clock.

Every way out of an unlocked panel is tested here: logout, tap-to-logout, idle timeout, cancel,
a session the hub revokes, an exception in a handler, and close(); plus the panel lock at start.
"""

from __future__ import annotations

import dataclasses

import pytest
from printgate.v1 import admin_pb2, common_pb2

from hw_sim.mfp import MfpSimServer
from mfp_adapters import CommunityAuth, MfpSnmp, PanelLock, PulseCounts, SnmpClient
from terminal_app.hub.values import Function, ReportReceipt, UsageReport
from terminal_app.terminal import (
    Cancel,
    CardPresented,
    ChooseScanProfile,
    CopyPages,
    DismissMessage,
    LinkCard,
    Logout,
    MessageKey,
    PasswordEntered,
    PinEntered,
    PriceHints,
    PulseCopyCounter,
    ReleaseAll,
    Screen,
    SelectProject,
    SetLanguage,
    SnmpCopyCounter,
    StartCopy,
    TerminalEngine,
    TerminalSettings,
    Touch,
)
from tests.terminal_app.conftest import ALICE_CARD, BOB_CARD, CAROL_CARD, DEFAULT_SETTINGS, Rig


def fresh_engine(rig: Rig, settings: TerminalSettings = DEFAULT_SETTINGS, **parts: object) -> TerminalEngine:
    arguments = {
        "hub": rig.client,
        "panel": rig.panel,
        "counter": PulseCopyCounter(rig.panel),
        "journal": rig.journal,
        "cache": rig.cache,
        "settings": settings,
        "clock": rig.clock,
        **parts,
    }
    return TerminalEngine(**arguments)  # type: ignore[arg-type]


async def test_tap_unlocks_copy_three_pages_logout_charges_once(rig: Rig) -> None:
    engine = rig.engine
    assert engine.state.screen is Screen.IDLE and not rig.panel.enabled
    await engine.dispatch(CardPresented(ALICE_CARD))
    state = engine.state
    assert (state.screen, state.username, state.full_name, state.balance_cents) == (
        Screen.HOME,
        "alice",
        "Alice A",
        1000,
    )
    assert rig.panel.enabled and state.panel_unlocked and state.color_allowed
    assert state.credit_pages == 1000 // 20  # the dearest page the user may make
    assert not state.jobs_supported  # the hub answers UNIMPLEMENTED to ListJobs today
    assert rig.copy(3) == 3
    await engine.poll_copy()
    assert (engine.state.screen, engine.state.copy_pages, engine.state.copy_cost_cents) == (
        Screen.COPYING,
        3,
        15,
    )
    await engine.dispatch(Logout())
    assert not rig.panel.enabled
    assert engine.state.screen is Screen.IDLE and engine.state.message is MessageKey.LOGGED_OUT
    assert engine.state.username == "" and engine.state.copy_pages == 0
    assert engine.state.pending_reports == 0 and rig.journal.pending() == []
    assert await rig.hub.balance("alice") == 1000 - 15
    assert rig.screens == [
        Screen.STARTING,
        Screen.IDLE,
        Screen.IDENTIFYING,
        Screen.HOME,
        Screen.COPYING,
        Screen.LOGGING_OUT,
        Screen.IDLE,
    ]
    assert not (await rig.hub.check_ledger()).problems


async def test_colour_and_mono_pages_are_charged_at_their_prices(rig: Rig) -> None:
    await rig.engine.dispatch(CardPresented(ALICE_CARD))
    rig.copy(2)
    rig.copy(3, color=True)
    await rig.engine.poll_copy()
    assert (rig.engine.state.copy_pages_mono, rig.engine.state.copy_pages_color) == (2, 3)
    assert rig.engine.state.copy_cost_cents == 2 * 5 + 3 * 20
    await rig.engine.dispatch(Logout())
    assert await rig.hub.balance("alice") == 1000 - 70


async def test_login_without_copies_reports_nothing(rig: Rig) -> None:
    await rig.engine.dispatch(CardPresented(ALICE_CARD))
    await rig.engine.dispatch(Logout())
    assert rig.journal.pending() == [] and await rig.hub.balance("alice") == 1000
    assert not rig.panel.enabled


async def test_unknown_card_is_refused_and_the_message_expires(rig: Rig) -> None:
    await rig.engine.dispatch(CardPresented("00DEADBEEF"))
    state = rig.engine.state
    assert (state.screen, state.message) == (Screen.IDLE, MessageKey.CARD_NOT_RECOGNISED)
    assert state.unknown_card and state.countdown_s == 60 and not rig.panel.enabled
    assert "00DEADBEEF" not in repr(state)  # the number stays in the engine
    rig.clock.advance(DEFAULT_SETTINGS.message_s - 0.1)
    await rig.engine.tick()
    assert rig.engine.state.message is MessageKey.CARD_NOT_RECOGNISED
    rig.clock.advance(0.2)
    await rig.engine.tick()
    assert rig.engine.state.message is None and rig.engine.state.unknown_card
    rig.clock.advance(60)  # the idle timeout forgets the card
    await rig.engine.tick()
    assert not rig.engine.state.unknown_card and rig.engine.state.countdown_s is None
    await rig.engine.dispatch(LinkCard("alice", "pw"))  # nothing to link: ignored
    assert rig.engine.state.screen is Screen.IDLE and rig.engine.state.message is None


async def set_password(rig: Rig, username: str, password: str) -> None:
    await rig.hub.call_admin(
        "SetPassword",
        admin_pb2.SetPasswordRequest(user=admin_pb2.UserRef(username=username), password=password),
    )


async def test_unknown_card_linked_by_password_then_a_tap_logs_in(rig: Rig) -> None:
    engine = rig.engine
    await set_password(rig, "carol", "pw-carol-1")
    await engine.dispatch(CardPresented("00C0FFEE00"))
    assert engine.state.unknown_card
    await engine.dispatch(LinkCard("carol", "typo"))
    state = engine.state
    assert (state.screen, state.message, state.unknown_card) == (
        Screen.IDLE,
        MessageKey.PASSWORD_NOT_RECOGNISED,
        True,
    )
    await engine.dispatch(LinkCard("carol", "pw-carol-1"))
    state = engine.state
    assert (state.screen, state.username, state.message) == (Screen.HOME, "carol", MessageKey.CARD_LINKED)
    assert not state.unknown_card and rig.panel.enabled
    await engine.dispatch(CardPresented("00C0FFEE00", read_at_s=rig.clock.monotonic_s()))  # her card now
    assert engine.state.screen is Screen.IDLE and not rig.panel.enabled  # tap-to-logout
    rig.clock.advance(10)
    await engine.dispatch(CardPresented("00C0FFEE00"))
    assert (engine.state.screen, engine.state.username) == (Screen.HOME, "carol")


async def test_a_refused_link_logs_in_by_password_and_says_so(rig: Rig) -> None:
    engine = rig.engine
    await set_password(rig, "carol", "pw-carol-1")
    await engine.dispatch(CardPresented("00C0FFEE01"))
    await rig.hub.call_admin(  # meanwhile the help desk gave the card to bob
        "AddCard", admin_pb2.Card(user=admin_pb2.UserRef(username="bob"), number="00C0FFEE01")
    )
    await engine.dispatch(LinkCard("carol", "pw-carol-1"))
    state = engine.state
    assert (state.screen, state.username, state.message) == (
        Screen.HOME,
        "carol",
        MessageKey.CARD_LINK_REFUSED,
    )
    await engine.dispatch(Logout())
    await engine.dispatch(CardPresented("00C0FFEE01", read_at_s=rig.clock.monotonic_s() + 10))
    assert engine.state.screen is Screen.SECOND_FACTOR  # still bob's (card + PIN)


async def test_cancel_forgets_the_unknown_card(rig: Rig) -> None:
    engine = rig.engine
    await engine.dispatch(CardPresented("00C0FFEE02"))
    await engine.dispatch(Cancel())
    assert not engine.state.unknown_card and engine.state.countdown_s is None
    await set_password(rig, "carol", "pw-carol-1")
    await engine.dispatch(LinkCard("carol", "pw-carol-1"))
    assert engine.state.screen is Screen.IDLE and engine.state.username == ""


async def test_language_goes_back_to_the_default_after_logout_and_timeout(rig: Rig) -> None:
    engine = rig.engine
    await engine.dispatch(SetLanguage("de"))
    await engine.dispatch(CardPresented(ALICE_CARD))
    assert engine.state.language == "de"
    await engine.dispatch(Logout())
    assert engine.state.language == "en" and engine.state.message is MessageKey.LOGGED_OUT
    await engine.dispatch(PinEntered("1357"))
    await engine.dispatch(SetLanguage("de"))  # switched for this session
    rig.clock.advance(61)
    await engine.tick()
    assert (engine.state.message, engine.state.language) == (MessageKey.TIMED_OUT, "en")


async def test_second_factor_wrong_then_right_pin(rig: Rig) -> None:
    engine = rig.engine
    await engine.dispatch(CardPresented(BOB_CARD))
    assert engine.state.screen is Screen.SECOND_FACTOR and not rig.panel.enabled
    await engine.dispatch(PinEntered("1111"))
    assert (engine.state.screen, engine.state.message) == (Screen.IDLE, MessageKey.PIN_NOT_RECOGNISED)
    assert not engine.state.unknown_card  # a wrong PIN is no unknown card
    await engine.dispatch(CardPresented(BOB_CARD))
    await engine.dispatch(PinEntered("2468"))
    assert (engine.state.screen, engine.state.username) == (Screen.HOME, "bob")
    assert rig.panel.enabled


async def test_second_factor_cancel_and_timeout_return_to_idle(rig: Rig) -> None:
    engine = rig.engine
    await engine.dispatch(CardPresented(BOB_CARD))
    await engine.dispatch(Cancel())
    assert engine.state.screen is Screen.IDLE and engine.state.countdown_s is None
    await engine.dispatch(CardPresented(BOB_CARD))
    assert engine.state.countdown_s == 60
    rig.clock.advance(60)
    await engine.tick()
    assert engine.state.screen is Screen.IDLE and not rig.panel.enabled
    await engine.dispatch(PinEntered("2468"))  # the pending card was forgotten: a PIN alone is not enough
    assert engine.state.message is MessageKey.ACCESS_DENIED and engine.state.screen is Screen.IDLE


async def test_pin_only_and_password_logins(rig: Rig) -> None:
    engine = rig.engine
    await engine.dispatch(PinEntered("1357"))
    assert (engine.state.screen, engine.state.username) == (Screen.HOME, "carol")
    await engine.dispatch(Logout())
    await rig.hub.call_admin(
        "SetPassword",
        admin_pb2.SetPasswordRequest(user=admin_pb2.UserRef(username="carol"), password="pw-carol-1"),
    )
    await engine.dispatch(PasswordEntered("carol", "wrong"))
    assert engine.state.message is MessageKey.PASSWORD_NOT_RECOGNISED
    await engine.dispatch(PasswordEntered("carol", "pw-carol-1"))
    assert engine.state.screen is Screen.HOME and rig.panel.enabled


async def test_idle_countdown_warning_touch_and_timeout(rig: Rig) -> None:
    engine = rig.engine
    await engine.dispatch(CardPresented(ALICE_CARD))
    assert (engine.state.countdown_s, engine.state.idle_warning) == (60, False)
    rig.clock.advance(44.5)
    await engine.tick()
    assert (engine.state.countdown_s, engine.state.idle_warning) == (16, False)
    rig.clock.advance(1.0)
    await engine.tick()
    assert (engine.state.countdown_s, engine.state.idle_warning) == (15, True)
    await engine.dispatch(Touch())
    assert (engine.state.countdown_s, engine.state.idle_warning) == (60, False)
    rig.copy(2)
    rig.clock.advance(59)
    await engine.poll_copy()  # pages made: activity restarts the countdown too
    assert engine.state.countdown_s == 60
    rig.clock.advance(60)
    await engine.tick()
    assert (engine.state.screen, engine.state.message) == (Screen.IDLE, MessageKey.TIMED_OUT)
    assert not rig.panel.enabled and await rig.hub.balance("alice") == 990


async def test_idle_timeout_is_configurable_within_bounds() -> None:
    assert TerminalSettings(idle_timeout_s=10).idle_timeout_s == 10
    assert TerminalSettings(idle_timeout_s=3600).idle_timeout_s == 3600
    for bad in (9.9, 3601):
        with pytest.raises(ValueError, match="idle_timeout_s"):
            TerminalSettings(idle_timeout_s=bad)


async def test_same_card_logs_out_and_a_card_left_on_the_reader_does_not_log_in_again(rig: Rig) -> None:
    engine = rig.engine
    await engine.dispatch(CardPresented(ALICE_CARD, read_at_s=rig.clock.monotonic_s()))
    await engine.dispatch(CardPresented(BOB_CARD))  # another card during a session: ignored
    assert engine.state.username == "alice"
    rig.copy(1)
    await engine.dispatch(CardPresented(ALICE_CARD, read_at_s=rig.clock.monotonic_s()))
    assert engine.state.screen is Screen.IDLE and not rig.panel.enabled
    assert await rig.hub.balance("alice") == 995
    rig.clock.advance(1)
    await engine.dispatch(CardPresented(ALICE_CARD, read_at_s=rig.clock.monotonic_s() - 2))  # queued before
    await engine.dispatch(CardPresented(ALICE_CARD, read_at_s=rig.clock.monotonic_s()))  # still lying there
    assert engine.state.screen is Screen.IDLE and not rig.panel.enabled
    await engine.dispatch(CardPresented(BOB_CARD))  # someone else may log in at once
    assert engine.state.screen is Screen.SECOND_FACTOR
    await engine.dispatch(Cancel())
    rig.clock.advance(DEFAULT_SETTINGS.relogin_guard_s)
    await engine.dispatch(CardPresented(ALICE_CARD, read_at_s=rig.clock.monotonic_s()))
    assert engine.state.screen is Screen.HOME


async def test_no_credit_keeps_the_panel_locked(rig: Rig) -> None:
    await rig.hub.create_user("dora", card=CAROL_CARD)
    await rig.engine.dispatch(CardPresented(CAROL_CARD))
    state = rig.engine.state
    assert (state.screen, state.message, state.credit_pages) == (
        Screen.HOME,
        MessageKey.NOT_ENOUGH_CREDIT,
        None,
    )
    assert not rig.panel.enabled
    await rig.engine.dispatch(StartCopy())
    assert not rig.panel.enabled


async def test_credit_pages_stop_the_copier(rig: Rig) -> None:
    await rig.hub.create_user("erin", card=CAROL_CARD, credit_cents=45)
    await rig.engine.dispatch(CardPresented(CAROL_CARD))
    assert rig.engine.state.credit_pages == 2  # 45 cents at the colour price of 20
    assert rig.copy(1) == rig.copy(1) == 1
    assert rig.copy(1) == 0  # the FIH dropped enable after the second impression
    await rig.engine.poll_copy()
    assert rig.engine.state.message is MessageKey.CREDIT_USED_UP
    await rig.engine.dispatch(Logout())
    assert await rig.hub.balance("erin") == 35


async def test_blocked_user_may_log_in_but_not_copy(rig: Rig) -> None:
    await rig.hub.create_user("fred", card=CAROL_CARD, credit_cents=10)
    token = (await rig.terminal.tap(CAROL_CARD)).session_token
    await rig.terminal.report(token, "made", 4, color=common_pb2.COLOR_MODE_COLOR, performed=True)
    await rig.engine.dispatch(CardPresented(CAROL_CARD))
    state = rig.engine.state
    assert (state.screen, state.message, state.copy_allowed) == (Screen.HOME, MessageKey.USER_BLOCKED, False)
    assert state.arrears_cents == 70 and not rig.panel.enabled


async def test_project_is_chosen_before_the_panel_unlocks(rig: Rig) -> None:
    await rig.hub.call_admin(
        "UpsertRole",
        admin_pb2.Role(name="projects", allowed_functions=[common_pb2.FUNCTION_COPY], project_required=True),
    )
    await rig.hub.call_admin(
        "CreateProject", admin_pb2.Project(code="grant-7", name="Grant 7", all_users=True)
    )
    await rig.hub.create_user("gina", card=CAROL_CARD, credit_cents=100, roles=["projects"])
    engine = rig.engine
    await engine.dispatch(CardPresented(CAROL_CARD))
    assert engine.state.screen is Screen.SELECT_PROJECT and not rig.panel.enabled
    assert [p.code for p in engine.state.projects] == ["grant-7"]
    await engine.dispatch(StartCopy())
    assert engine.state.message is MessageKey.PROJECT_REQUIRED and not rig.panel.enabled
    await engine.dispatch(SelectProject("nope"))
    assert engine.state.screen is Screen.SELECT_PROJECT
    await engine.dispatch(SelectProject("grant-7"))
    assert (engine.state.screen, engine.state.project) == (Screen.HOME, "grant-7") and rig.panel.enabled
    rig.copy(2)
    await engine.dispatch(Logout())
    accounts = await rig.hub.call_admin("ListAccounts", admin_pb2.ListAccountsRequest())
    balances = {a.name: a.balance_cents for a in accounts.accounts}
    assert balances["project:grant-7"] == -10 and await rig.hub.balance("gina") == 100


async def test_release_is_unavailable_until_the_hub_offers_it(rig: Rig) -> None:
    await rig.engine.dispatch(CardPresented(ALICE_CARD))
    await rig.engine.dispatch(ReleaseAll())
    state = rig.engine.state
    assert (state.screen, state.message) == (Screen.HOME, MessageKey.RELEASE_UNAVAILABLE)
    assert rig.panel.enabled  # the copy session goes on
    assert Screen.RELEASING in rig.screens


async def test_no_scan_tile_where_the_hub_takes_no_scans(rig: Rig) -> None:
    await rig.engine.dispatch(CardPresented(ALICE_CARD))
    assert (rig.engine.state.scan_profiles, rig.engine.state.scan_profile) == ((), "")
    await rig.engine.dispatch(ChooseScanProfile("scan-to-me"))
    state = rig.engine.state
    assert (state.screen, state.message, state.scan_profile) == (Screen.HOME, MessageKey.SCAN_UNAVAILABLE, "")


async def test_a_session_the_hub_revoked_ends_with_the_panel_locked(rig: Rig) -> None:
    await rig.engine.dispatch(CardPresented(ALICE_CARD))
    rig.copy(1)
    await rig.hub.call_admin(
        "UpdateUser",
        admin_pb2.UpdateUserRequest(
            user=admin_pb2.UserRef(username="alice"), fields=["active"], values=admin_pb2.User(active=False)
        ),
    )
    await rig.engine.dispatch(ReleaseAll())  # the session refresh after it finds the user gone
    assert (rig.engine.state.screen, rig.engine.state.message) == (Screen.IDLE, MessageKey.ACCESS_DENIED)
    assert not rig.panel.enabled
    assert await rig.hub.balance("alice") == 995  # usage made is still charged


class BrokenCounter(PulseCopyCounter):
    """A counter whose live read fails: the engine must still lock the panel."""

    async def live(self) -> CopyPages:
        raise RuntimeError("counter exploded")


async def test_an_exception_in_a_handler_locks_the_panel_and_charges(rig: Rig) -> None:
    engine = fresh_engine(rig, counter=BrokenCounter(rig.panel))
    await engine.start()
    await engine.dispatch(CardPresented(ALICE_CARD))
    rig.copy(2)
    await engine._guarded(engine.poll_copy(), "copy poll")
    assert engine.state.screen is Screen.IDLE and not rig.panel.enabled
    await rig.client.reachable(1.0)
    await engine.flush_journal()
    assert await rig.hub.balance("alice") == 990


async def test_close_logs_out_and_locks(rig: Rig) -> None:
    await rig.engine.dispatch(CardPresented(ALICE_CARD))
    rig.copy(1)
    await rig.engine.close()
    assert not rig.panel.enabled and await rig.hub.balance("alice") == 995


async def test_start_locks_a_panel_a_crashed_process_left_unlocked(rig: Rig) -> None:
    rig.panel.unlock()
    assert rig.panel.enabled
    engine = fresh_engine(rig)
    assert engine.state.screen is Screen.STARTING
    await engine.start()
    assert engine.state.screen is Screen.IDLE and not rig.panel.enabled


class HistoryPanel(PanelLock):
    """A panel lock that records calls and can be made to fail (the engine is what is tested)."""

    def __init__(self) -> None:
        self.history: list[str] = []
        self.fail_lock = False

    def unlock(self, *, allow_color: bool = True, credit_pages: int | None = None) -> None:
        self.history.append(f"unlock color={allow_color} credit={credit_pages}")

    async def lock(self) -> PulseCounts:
        self.history.append("lock")
        if self.fail_lock:
            raise OSError("relay driver not answering")
        return PulseCounts()

    def counts(self) -> PulseCounts:
        return PulseCounts()


async def test_a_panel_that_cannot_lock_puts_the_terminal_out_of_order(rig: Rig) -> None:
    panel = HistoryPanel()
    panel.fail_lock = True
    engine = fresh_engine(rig, panel=panel, counter=PulseCopyCounter(panel))
    await engine.start()
    assert (engine.state.screen, engine.state.message) == (Screen.OUT_OF_ORDER, MessageKey.PANEL_FAULT)
    await engine.dispatch(CardPresented(ALICE_CARD))
    assert engine.state.screen is Screen.OUT_OF_ORDER and "unlock" not in " ".join(panel.history)
    await engine.tick()
    assert engine.state.screen is Screen.OUT_OF_ORDER
    panel.fail_lock = False
    await engine.tick()
    assert engine.state.screen is Screen.IDLE
    await engine.dispatch(CardPresented(ALICE_CARD))
    panel.fail_lock = True
    await engine.dispatch(Logout())
    assert engine.state.screen is Screen.OUT_OF_ORDER and engine.state.username == ""
    assert panel.history == ["lock", "lock", "lock", "unlock color=True credit=50", "lock", "lock"]


async def test_language_snapshot_and_subscribers(rig: Rig) -> None:
    seen: list[str] = []
    unsubscribe = rig.engine.subscribe(lambda state: seen.append(state.language))
    await rig.engine.dispatch(SetLanguage("de"))
    await rig.engine.dispatch(SetLanguage("xx"))
    unsubscribe()
    await rig.engine.dispatch(SetLanguage("en"))
    assert seen == ["en", "de"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rig.engine.state.screen = Screen.HOME  # type: ignore[misc]
    await rig.engine.dispatch(DismissMessage())


async def test_printer_errors_become_messages(rig: Rig) -> None:
    rig.engine.printer_status(["jammed"])
    assert rig.engine.state.message is MessageKey.PRINTER_JAMMED
    rig.engine.printer_status(["doorOpen", "lowToner"])
    assert rig.engine.state.message is MessageKey.PRINTER_ERROR
    assert rig.engine.state.message_args == (("errors", "doorOpen, lowToner"),)
    rig.engine.printer_status([])
    assert rig.engine.state.printer_errors == ()


async def test_the_sessions_prices_replace_the_hints(rig: Rig) -> None:
    engine = fresh_engine(rig, settings=dataclasses.replace(DEFAULT_SETTINGS, prices=PriceHints(1, 1)))
    await engine.start()
    assert engine.state.prices == PriceHints(1, 1)  # before the hub answered: the hints
    await engine.dispatch(CardPresented(ALICE_CARD))
    assert engine.state.prices == PriceHints(copy_mono_cents=5, copy_color_cents=20)
    rig.copy(2)
    rig.copy(1, color=True)
    await engine.poll_copy()
    assert engine.state.copy_cost_cents == 2 * 5 + 20
    # an A4 price beats "*" (the terminal reports A4 copies); the hub's new price shows at the next login
    await rig.hub.call_admin(
        "SetPrice",
        admin_pb2.Price(
            printer_group="default",
            function=common_pb2.FUNCTION_COPY,
            color=common_pb2.COLOR_MODE_MONO,
            paper_size="A4",
            price_cents_per_page=4,
        ),
    )
    await engine.dispatch(Logout())
    # the charge at logout was priced at the new A4 price: learnt (kept as the offline fallback)
    assert engine.state.prices == PriceHints(copy_mono_cents=4, copy_color_cents=20)
    assert await rig.hub.balance("alice") == 1000 - (2 * 4 + 20)
    await engine.dispatch(CardPresented(ALICE_CARD, read_at_s=rig.clock.monotonic_s() + 10))
    assert engine.state.prices == PriceHints(copy_mono_cents=4, copy_color_cents=20)


async def test_a_copy_session_cut_by_a_crash_is_charged_at_the_next_start(rig: Rig) -> None:
    async with MfpSimServer(device=rig.mfp) as server:
        snmp = MfpSnmp(SnmpClient("127.0.0.1", server.snmp_port, CommunityAuth("public")))
        dying = fresh_engine(rig, counter=SnmpCopyCounter(snmp))
        await dying.start()
        await dying.dispatch(CardPresented(ALICE_CARD))
        assert rig.copy(3) == 3
        [open_copy] = rig.journal.open_copies()  # the process dies here: no logout, no lock
        assert open_copy.baseline == {"copy_mono": 0, "copy_color": 0, "scan_sent": 0}
        restarted = fresh_engine(rig, counter=SnmpCopyCounter(snmp))
        await restarted.start()
        assert not rig.panel.enabled and rig.journal.open_copies() == []
        assert restarted.state.pending_reports == 1
        await restarted.flush_journal()
        assert await rig.hub.balance("alice") == 1000 - 15
        await snmp.client.aclose()


async def test_the_copy_report_carries_the_mfps_scan_counter_never_charged(rig: Rig) -> None:
    """The scan counter's difference over the session goes to the hub with the copies (and alone,
    in a report without lines, when the session only scanned); after a crash it is recovered too."""
    sent: list[UsageReport] = []
    report_usage = rig.client.report_usage

    async def spy(report: UsageReport) -> ReportReceipt:
        sent.append(report)
        return await report_usage(report)

    rig.client.report_usage = spy  # type: ignore[method-assign]
    async with MfpSimServer(device=rig.mfp) as server:
        snmp = MfpSnmp(SnmpClient("127.0.0.1", server.snmp_port, CommunityAuth("public")))
        engine = fresh_engine(rig, counter=SnmpCopyCounter(snmp))
        await engine.start()
        await engine.dispatch(CardPresented(ALICE_CARD))
        assert rig.copy(2) == 2
        rig.mfp.scan(3)
        await engine.dispatch(Logout())
        await engine.dispatch(CardPresented(ALICE_CARD, read_at_s=rig.clock.monotonic_s() + 10))
        rig.mfp.scan(4)
        await engine.dispatch(Logout())
        await engine.dispatch(CardPresented(ALICE_CARD, read_at_s=rig.clock.monotonic_s() + 20))
        rig.mfp.scan(1)
        [open_copy] = rig.journal.open_copies()  # the process dies here
        assert open_copy.baseline == {"copy_mono": 2, "copy_color": 0, "scan_sent": 7}
        restarted = fresh_engine(rig, counter=SnmpCopyCounter(snmp))
        await restarted.start()
        await restarted.flush_journal()
        await snmp.client.aclose()
    assert [
        (r.scan_counter_pages, r.scan_counter_sent_only, [(line.function, line.pages) for line in r.lines])
        for r in sent
    ] == [(3, True, [(Function.COPY, 2)]), (4, True, []), (1, True, [])]  # Kyocera's scans sent
    assert await rig.hub.balance("alice") == 1000 - 2 * 5  # the copies; scans are never charged here


async def test_pulses_of_a_session_cut_by_a_crash_cannot_be_charged(rig: Rig) -> None:
    await rig.engine.dispatch(CardPresented(ALICE_CARD))
    rig.copy(2)
    restarted = fresh_engine(rig)
    await restarted.start()
    assert rig.journal.open_copies() == [] and restarted.state.pending_reports == 0
    assert not rig.panel.enabled
