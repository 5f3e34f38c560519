"""The Kivy screens on a real engine, driven by simulated touches (run by test_under_xvfb.py).

Each test renders engine states into the real widgets, taps buttons through Kivy's input
dispatch, checks the intents the taps produced and the engine's transition, and saves a
screenshot of every screen in English and German.
"""

from __future__ import annotations

from dataclasses import replace

from printgate.v1 import admin_pb2, common_pb2

from terminal_app.terminal import (
    Cancel,
    CardPresented,
    ChooseScanProfile,
    DeleteJobs,
    DismissMessage,
    JobOverrides,
    JobView,
    LinkCard,
    Logout,
    MessageKey,
    PassJobOn,
    PinEntered,
    ReleaseAll,
    ReleaseSelected,
    ReleaseView,
    ScanProfileView,
    Screen,
    SearchColleagues,
    SelectProject,
    SetLanguage,
    StarJob,
    Touch,
)
from terminal_app.terminal.ui.preview import SAMPLE_JOBS, sample_png
from tests.terminal_app.conftest import ALICE_CARD, BOB_CARD
from tests.terminal_app.terminal.ui.conftest import UiRig

UNKNOWN_CARD = "00DEADBEEF"


def without_touches(intents: list) -> list:
    return [intent for intent in intents if not isinstance(intent, Touch)]


async def both_languages(ui: UiRig, name: str) -> None:
    """Screenshot the current screen in English and in German.

    The German one renders the engine's current state with ``language="de"`` (a SetLanguage
    intent would also restart the idle countdown and so change the screen being shot).
    """
    state = ui.rig.engine.state
    for language in ("en", "de"):
        ui.view.show(replace(state, language=language))
        ui.frame()
        ui.shot(f"{name}_{language}")
    ui.view.show(ui.rig.engine.state)
    ui.frame()


async def test_idle_screen_and_language_switch(ui: UiRig) -> None:
    assert ui.view.screen_name == "idle"
    assert ui.text("title") == "Tap your card or enter your PIN"
    assert ui.text("printer_state") == "Printer ready"
    assert ui.text("language") == "Deutsch"
    ui.shot("idle_en")
    assert await ui.tap("language") == [SetLanguage("de")]
    assert ui.rig.engine.state.language == "de"
    assert ui.text("title") == "Karte auflegen oder PIN eingeben"
    assert ui.text("open_pin") == "PIN eingeben" and ui.text("language") == "English"
    ui.shot("idle_de")
    assert await ui.tap("language") == [SetLanguage("en")]
    assert ui.text("title") == "Tap your card or enter your PIN"


async def test_pin_pad_logs_in_carol_and_logout_locks(ui: UiRig) -> None:
    assert await ui.tap("open_pin") == []  # opening the pad is local: no intent yet
    assert ui.view.screen_name == "pin" and ui.text("title") == "Enter your PIN"
    for digit in "1359":
        await ui.tap(f"pin_{digit}")
    assert ui.text("pin_mask") == "● ● ● ● "
    await ui.tap("pin_clear")
    assert ui.text("pin_mask") == ""
    for digit in "1357":
        await ui.tap(f"pin_{digit}")
    await both_languages(ui, "pin")
    assert await ui.tap("pin_ok") == [PinEntered("1357")]
    state = ui.rig.engine.state
    assert (state.screen, state.username) == (Screen.HOME, "carol")
    assert ui.view.screen_name == "home"
    assert ui.text("header_user") == "carol" and ui.text("header_balance") == "€3.00"
    assert ui.text("tile_copy") == "Copy\nUnlocked: copy now"
    assert ui.text("tile_credit") == "Credit\nBalance: €3.00\nNo page quota"
    assert ui.text("countdown") == "60 s"
    await both_languages(ui, "home")
    assert without_touches(await ui.tap("logout")) == [Logout()]
    assert not ui.rig.panel.enabled and ui.rig.engine.state.screen is Screen.IDLE
    assert ui.text("message") == "You are logged out."
    assert without_touches(await ui.tap("dismiss")) == [DismissMessage()]
    assert "message" not in ui.view.idents()


async def test_wrong_pin_shows_the_message_not_the_registration(ui: UiRig) -> None:
    await ui.tap("open_pin")
    for digit in "9999":
        await ui.tap(f"pin_{digit}")
    assert await ui.tap("pin_ok") == [PinEntered("9999")]
    assert ui.rig.engine.state.message is MessageKey.PIN_NOT_RECOGNISED
    assert ui.view.screen_name == "pin" and ui.text("message") == "PIN not recognised."


async def test_second_factor_pin_pad_and_cancel(ui: UiRig) -> None:
    engine = ui.rig.engine
    await engine.dispatch(CardPresented(BOB_CARD))  # the reader task, not a touch
    ui.frame()
    assert ui.view.screen_name == "second_factor"
    assert ui.text("title") == "Card recognised: enter your PIN"
    await both_languages(ui, "second_factor")
    assert without_touches(await ui.tap("cancel")) == [Cancel()]
    assert engine.state.screen is Screen.IDLE and ui.view.screen_name == "idle"
    await engine.dispatch(CardPresented(BOB_CARD, read_at_s=ui.rig.clock.monotonic_s() + 10))
    ui.frame()
    for digit in "2468":
        await ui.tap(f"pin_{digit}")
    assert without_touches(await ui.tap("pin_ok")) == [PinEntered("2468")]
    assert (engine.state.screen, engine.state.username) == (Screen.HOME, "bob")
    assert ui.rig.panel.enabled


async def test_unknown_card_is_linked_by_username_and_password(ui: UiRig) -> None:
    engine, hub = ui.rig.engine, ui.rig.hub
    await hub.call_admin(
        "SetPassword",
        admin_pb2.SetPasswordRequest(user=admin_pb2.UserRef(username="alice"), password="pw-alice-1"),
    )
    await engine.dispatch(CardPresented(UNKNOWN_CARD))
    ui.frame()
    assert ui.view.screen_name == "unknown_card" and engine.state.unknown_card
    assert ui.text("title") == "Card not recognised"
    assert ui.text("unknown_body") == "Enter your username and password to link this card to your account."
    assert "message" not in ui.view.idents()  # the title says it already
    await both_languages(ui, "unknown_card")
    ui.rig.clock.advance(30)  # the engine's message expires; the form stays while the user types
    await engine.tick()
    ui.frame()
    assert engine.state.message is None and ui.view.screen_name == "unknown_card"
    assert engine.state.countdown_s == 30  # the card is offered for one idle timeout
    assert without_touches(await ui.tap("link")) == []  # empty fields: nothing is sent
    ui.view.find("username").text = "alice"
    ui.view.find("password").text = "pw-alice-0"
    assert without_touches(await ui.tap("link")) == [LinkCard("alice", "pw-alice-0")]
    assert (
        ui.view.screen_name == "unknown_card" and ui.text("message") == "Username or password not recognised."
    )
    assert ui.view.find("username").text == "alice" and ui.view.find("password").text == ""
    ui.view.find("password").text = "pw-alice-1"
    assert without_touches(await ui.tap("link")) == [LinkCard("alice", "pw-alice-1")]
    assert (engine.state.screen, engine.state.username) == (Screen.HOME, "alice")
    assert ui.text("message") == "Your card is linked to your account: next time, just tap it."
    await engine.dispatch(Logout())
    await engine.dispatch(CardPresented(UNKNOWN_CARD, read_at_s=ui.rig.clock.monotonic_s() + 10))
    assert (engine.state.screen, engine.state.username) == (Screen.HOME, "alice")  # her card now


async def test_unknown_card_form_cancel_forgets_the_card(ui: UiRig) -> None:
    await ui.rig.engine.dispatch(CardPresented(UNKNOWN_CARD))
    ui.frame()
    assert without_touches(await ui.tap("cancel")) == [Cancel()]
    assert ui.view.screen_name == "idle" and not ui.rig.engine.state.unknown_card


async def test_language_goes_back_to_the_default_after_a_session(ui: UiRig) -> None:
    await ui.tap("language")
    await ui.rig.engine.dispatch(CardPresented(ALICE_CARD))
    ui.frame()
    assert ui.text("logout") == "Abmelden"
    assert without_touches(await ui.tap("logout")) == [Logout()]
    assert (
        ui.text("title") == "Tap your card or enter your PIN" and ui.text("message") == "You are logged out."
    )


async def test_password_form_from_idle(ui: UiRig) -> None:
    await ui.tap("open_password")
    assert ui.view.screen_name == "password" and ui.text("title") == "Log in with username"
    await both_languages(ui, "password")
    await ui.tap("cancel")
    assert ui.view.screen_name == "idle"


async def test_copy_session_shows_live_pages_and_cost(ui: UiRig) -> None:
    engine = ui.rig.engine
    await engine.dispatch(CardPresented(ALICE_CARD))
    assert ui.rig.copy(3) == 3
    assert ui.rig.copy(2, color=True) == 2
    await engine.poll_copy()
    ui.frame()
    assert ui.view.screen_name == "copying"
    assert ui.text("copy_pages") == "5 pages (3 mono, 2 colour)"
    assert ui.text("copy_cost") == "Cost so far: €0.55"
    assert ui.text("copy_cap") == "Copier stops after 50 pages"
    await both_languages(ui, "copying")
    await engine.dispatch(SetLanguage("de"))
    ui.frame()
    assert ui.text("copy_pages") == "5 Seiten (3 s/w, 2 Farbe)"
    assert ui.text("copy_cost") == "Kosten bisher: 0,55 €"
    assert without_touches(await ui.tap("logout")) == [Logout()]
    assert not ui.rig.panel.enabled
    assert await ui.rig.hub.balance("alice") == 1000 - 55


async def test_idle_warning_counts_down_and_a_touch_keeps_the_session(ui: UiRig) -> None:
    engine = ui.rig.engine
    await engine.dispatch(CardPresented(ALICE_CARD))
    ui.rig.clock.advance(48)
    await engine.tick()
    ui.frame()
    assert engine.state.idle_warning and engine.state.countdown_s == 12
    assert ui.text("idle_warning") == "Still there? Logging out in 12 s"
    ui.rig.clock.advance(1)
    await engine.tick()
    ui.frame()
    assert ui.text("idle_warning") == "Still there? Logging out in 11 s"
    await both_languages(ui, "idle_warning")
    assert await ui.tap("stay") == [Touch(), Touch()]  # the touch itself and the button
    assert engine.state.countdown_s == 60 and not engine.state.idle_warning
    assert "idle_warning" not in ui.view.idents()
    ui.rig.clock.advance(61)
    await engine.tick()
    ui.frame()
    assert engine.state.screen is Screen.IDLE and ui.text("message") == "Logged out after inactivity."
    assert not ui.rig.panel.enabled


async def test_clear_messages_jammed_credit_offline(ui: UiRig) -> None:
    engine, hub = ui.rig.engine, ui.rig.hub
    engine.printer_status(["jammed", "lowToner"])
    ui.frame()
    assert ui.text("printer_state") == "Printer: paper jam, toner low"
    assert ui.text("message") == "The printer is jammed. Please ask for help."
    await both_languages(ui, "msg_printer_jammed")
    engine.printer_status([])
    await engine.dispatch(DismissMessage())
    await hub.create_user("dave", card="00D0D0D0D0", credit_cents=0)
    await engine.dispatch(CardPresented("00D0D0D0D0"))
    ui.frame()
    assert engine.state.message is MessageKey.NOT_ENOUGH_CREDIT and not ui.rig.panel.enabled
    assert ui.text("message") == "Not enough credit. Please top up your account."
    assert ui.text("tile_copy") == "Copy\nTap to unlock"  # the credit is too small to unlock it
    await both_languages(ui, "msg_not_enough_credit")
    await engine.dispatch(Logout())
    # Offline: alice is in the offline cache after one online login; the hub goes away.
    await engine.dispatch(CardPresented(ALICE_CARD, read_at_s=ui.rig.clock.monotonic_s() + 10))
    await engine.dispatch(Logout())
    await hub.running.stop(0)
    ui.rig.clock.advance(10)
    await engine.dispatch(CardPresented(ALICE_CARD))
    ui.frame()
    state = engine.state
    assert (state.screen, state.offline, state.offline_session) == (Screen.HOME, True, True)
    assert ui.text("offline") == "Offline mode"
    assert ui.text("message").startswith("Offline mode: the server cannot be reached.")
    assert ui.text("tile_credit") == "Credit\nShown after reconnect\nNo page quota"
    await both_languages(ui, "msg_offline")


async def test_project_selection(ui: UiRig) -> None:
    engine, hub = ui.rig.engine, ui.rig.hub
    await hub.call_admin(
        "UpsertRole",
        admin_pb2.Role(name="projects", allowed_functions=[common_pb2.FUNCTION_COPY], project_required=True),
    )
    await hub.call_admin("CreateProject", admin_pb2.Project(code="grant-7", name="Grant 7", all_users=True))
    await hub.call_admin("CreateProject", admin_pb2.Project(code="lab-2", name="Lab 2", all_users=True))
    await hub.create_user("gina", card="00ABAB0001", credit_cents=100, roles=["projects"])
    await engine.dispatch(CardPresented("00ABAB0001"))
    ui.frame()
    assert ui.view.screen_name == "select_project" and not ui.rig.panel.enabled
    assert ui.text("project_grant-7") == "Grant 7 (grant-7)"
    assert "project_own" not in ui.view.idents()  # required: no own-account choice
    await both_languages(ui, "select_project")
    assert without_touches(await ui.tap("project_lab-2")) == [SelectProject("lab-2")]
    assert (engine.state.screen, engine.state.project) == (Screen.HOME, "lab-2") and ui.rig.panel.enabled


def local_taps(ui: UiRig):
    async def tap(ident: str) -> list:
        return await ui.tap(ident, dispatch=False)

    return tap


def sample_jobs() -> tuple[JobView, ...]:
    """thesis (colour, 2 copies, every override), slides (mono, already duplex), poster (bob's,
    delegated, no overrides)."""
    return SAMPLE_JOBS


async def test_job_list_composes_release_and_delete(ui: UiRig) -> None:
    """The job list on a live session. The hub's ListJobs needs print intake, so the jobs are
    rendered from the session's state with sample jobs added; the intents are checked exactly."""
    engine = ui.rig.engine
    tap = local_taps(ui)  # the sample jobs are not in the hub: record the intents, do not send them
    await engine.dispatch(CardPresented(ALICE_CARD))
    state = replace(engine.state, jobs=sample_jobs(), jobs_supported=True)
    ui.view.show(state)
    ui.frame()
    assert ui.view.screen_name == "home" and ui.text("tile_jobs") == "Print my jobs\n3 waiting"
    assert ui.text("tile_favourites") == "Favourites\n1 kept"
    assert without_touches(await tap("tile_jobs")) == []  # opening the list is local
    assert ui.view.screen_name == "jobs"
    assert ui.text("job_1_name") == "thesis.pdf\n12 p. × 2 · colour"  # its star is an icon
    assert "\ue838" in ui.view.find("job_1_name").text  # the star
    assert ui.text("job_2_name") == "slides.pdf\n4 p. × 1 · mono · Bob Builder"  # passed on to bob
    assert ui.text("job_3_name") == "poster.pdf\n1 p. × 3 · colour · bob"
    assert ui.text("job_1_price") == "€1.80"
    assert "job_2_duplex" not in ui.view.idents() and "job_2_mono" not in ui.view.idents()  # mono, duplex
    assert "job_3_mono" not in ui.view.idents() and "job_3_fewer" not in ui.view.idents()  # not allowed
    await tap("job_1_select")
    await tap("job_1_fewer")
    assert ui.text("job_1_copies") == "1" and ui.text("job_1_price") == "€0.90"
    await tap("job_1_mono")
    assert ui.text("job_1_price") == "€0.60"  # the hub's mono price of one copy
    assert type(ui.view.find("job_1_thumbnail")).__name__ == "Image"  # the PNG, not the sketch
    assert ui.view.find("job_1_thumbnail").texture.size == (60, 80)
    assert type(ui.view.find("job_2_thumbnail")).__name__ != "Image"  # no PNG: the sketch
    assert ui.text("job_1_select") == "☑ " and ui.text("job_1_mono") == "☑ Mono"
    for language in ("de", "en"):  # the same state and choices in both languages
        ui.view.show(replace(state, language=language))
        ui.frame()
        ui.shot(f"jobs_{language}")
    assert ui.text("job_1_price") == "€0.60"
    await tap("job_3_select")
    assert without_touches(await tap("print_selected")) == [
        ReleaseSelected(job_ids=(1, 3), overrides=((1, JobOverrides(mono=True, copies=1)),))
    ]
    assert ui.text("job_1_select") == "☐ " and ui.text("job_1_price") == "€1.80"  # sent: choices reset
    await tap("job_1_select")
    await tap("job_3_select")
    assert without_touches(await tap("delete")) == [DeleteJobs(job_ids=(1, 3))]
    assert without_touches(await tap("print_all")) == [ReleaseAll()]
    await engine.dispatch(SetLanguage("de"))
    ui.view.show(replace(engine.state, jobs=sample_jobs(), jobs_supported=True))
    ui.frame()
    assert ui.text("job_1_name") == "thesis.pdf\n12 S. × 2 · Farbe"  # choices of vanished jobs are dropped
    uncounted = replace(sample_jobs()[1], estimate_note="cannot be counted: the stream ends inside a page")
    ui.view.show(replace(engine.state, jobs=(uncounted,), jobs_supported=True, language="en"))
    ui.frame()
    assert ui.text("job_2_name") == (
        "slides.pdf\n4 p. × 1 · mono · pages estimated (cannot be counted: the stream ends inside a page)"
        " · Bob Builder"  # passed on to bob
    )
    ruled = replace(sample_jobs()[0], duplex=True, rule_note="more than 60 pages: printed duplex")
    ui.view.show(replace(engine.state, jobs=(ruled,), jobs_supported=True, language="de"))
    ui.frame()
    assert (
        ui.text("job_1_name")
        == "thesis.pdf\n12 S. × 2 · Farbe · Druckregel: more than 60 pages: printed duplex"
    )
    ui.view.show(replace(engine.state, jobs=(ruled,), jobs_supported=True, language="en"))
    ui.frame()
    assert (
        ui.text("job_1_name")
        == "thesis.pdf\n12 p. × 2 · colour · print rule: more than 60 pages: printed duplex"
    )
    await tap("back")
    assert ui.view.screen_name == "home"


async def test_held_jobs_from_the_hub_released_as_mono_and_deleted(print_ui: UiRig) -> None:
    """Real held jobs (ipptool into the hub's intake), released through the real hub to the
    simulated MFP: the taps on the list become the exact intents, and the engine's answer is shown."""
    ui, engine = print_ui, print_ui.rig.engine
    await engine.dispatch(CardPresented(ALICE_CARD))
    ui.frame()
    assert ui.view.screen_name == "home" and ui.text("tile_jobs") == "Print my jobs\n2 waiting"
    await ui.tap("tile_jobs")
    assert ui.view.screen_name == "jobs"
    thesis, notes = sorted(engine.state.jobs, key=lambda job: job.name, reverse=True)
    assert (thesis.name, thesis.pages, thesis.color_pages, thesis.copies) == ("thesis.ps", 3, 1, 2)
    assert thesis.price_cents == 2 * (50 + 2 * 10)  # colour page 50, mono pages 10, two copies
    # ipptool sent it without a password (the hub's queue cannot ask for one yet): marked so
    assert ui.text(f"job_{thesis.job_id}_name") == "thesis.ps\n3 p. × 2 · colour · sent without a password"
    assert ui.text(f"job_{thesis.job_id}_price") == "€1.40"
    await ui.tap(f"job_{thesis.job_id}_select")
    thumbnail = ui.view.find(f"job_{thesis.job_id}_thumbnail")  # the hub's PNG of page 1
    assert type(thumbnail).__name__ == "Image" and thesis.thumbnail_png.startswith(b"\x89PNG")
    await ui.tap(f"job_{thesis.job_id}_mono")
    assert ui.text(f"job_{thesis.job_id}_price") == "€0.60"  # exact: 2 copies x 3 mono pages x 10
    await ui.tap(f"job_{thesis.job_id}_duplex")
    assert ui.text(f"job_{thesis.job_id}_price") == "€0.42"  # 2 x 3 x 7 (mono duplex)
    await ui.tap(f"job_{thesis.job_id}_duplex")
    ui.shot("jobs_from_hub_en")
    sent = without_touches(await ui.tap("print_selected"))
    assert sent == [
        ReleaseSelected(job_ids=(thesis.job_id,), overrides=((thesis.job_id, JobOverrides(mono=True)),))
    ]
    state = engine.state
    assert state.message is MessageKey.RELEASE_DONE and ui.text("message") == "1 printed, 0 failed."
    assert [(job.name, job.printed) for job in state.jobs] == [("thesis.ps", True), ("notes.ps", False)]
    assert ui.text(f"job_{thesis.job_id}_name") == (
        "thesis.ps\n3 p. × 2 · colour · printed before · sent without a password"
    )
    assert state.balance_cents == 1000 - 2 * 3 * 10  # printed in mono: 6 mono pages
    assert ui.text("header_balance") == "€9.40"
    await ui.tap(f"job_{notes.job_id}_select")
    assert without_touches(await ui.tap("delete")) == [DeleteJobs(job_ids=(notes.job_id,))]
    assert [job.name for job in engine.state.jobs] == ["thesis.ps"]
    assert ui.text("message") == "1 job(s) deleted." and f"job_{notes.job_id}_name" not in ui.view.idents()


async def test_scan_tile_picks_the_profile_for_the_mfps_scans(ui: UiRig) -> None:
    engine = ui.rig.engine
    await engine.dispatch(CardPresented(ALICE_CARD))
    profiles = (
        ScanProfileView("scan-to-me", "Scan to me", "Scan an mich", 0, False),
        ScanProfileView(
            "scan-to-me-searchable", "Scan to me (searchable)", "Scan an mich (durchsuchbar)", 0, True
        ),
    )
    ui.view.show(replace(engine.state, screen=Screen.HOME, scan_profiles=profiles, scan_profile="scan-to-me"))
    ui.frame()
    assert ui.text("tile_scan") == "Scan\nScan to me"
    assert without_touches(await ui.tap("tile_scan")) == []  # opening the choice is local
    assert ui.view.screen_name == "scan"
    assert ui.text("scan_to") == "Scans go to:"
    assert ui.text("scan_scan-to-me") == "☑ Scan to me"
    assert ui.text("scan_scan-to-me-searchable") == "☐ Scan to me (searchable)"
    tapped = await ui.tap("scan_scan-to-me-searchable", dispatch=False)
    assert without_touches(tapped) == [ChooseScanProfile("scan-to-me-searchable")]
    ui.view.show(replace(engine.state, screen=Screen.HOME, scan_profiles=profiles, language="de"))
    ui.frame()
    assert ui.text("scan_to") == "Scans gehen an:" and ui.text("scan_scan-to-me") == "☐ Scan an mich"
    await ui.tap("back")
    assert ui.view.screen_name == "home" and ui.text("tile_scan") == "Scannen"
    ui.view.show(replace(engine.state, screen=Screen.HOME, scan_profiles=()))
    ui.frame()
    assert "tile_scan" not in ui.view.idents()  # no scanning at this printer: no tile


async def test_star_reprint_from_favourites_and_pass_a_job_on(print_ui: UiRig) -> None:
    """Favourites and a job passed on, through the real hub: the taps become the exact intents, the
    hub keeps the star and the colleague, and the screens show what it holds."""
    from mfp_adapters import PaperTray
    from mfp_adapters.mib import TrayState

    ui, engine = print_ui, print_ui.rig.engine
    await ui.rig.hub.create_user("bob", card=BOB_CARD, full_name="Bob Builder", department="Works")
    await engine.dispatch(CardPresented(ALICE_CARD))
    ui.frame()
    assert ui.text("tile_favourites") == "Favourites\n0 kept"
    thesis, notes = sorted(engine.state.jobs, key=lambda job: job.name, reverse=True)
    await ui.tap("tile_jobs")
    await ui.tap(f"job_{thesis.job_id}_select")
    assert without_touches(await ui.tap("star")) == [StarJob(thesis.job_id, True)]
    assert ui.text("message") == "Kept as a favourite (1 of 20): print it again any time."
    assert [job.name for job in engine.state.favourites] == ["thesis.ps"]
    await ui.tap("back")
    assert ui.text("tile_favourites") == "Favourites\n1 kept"
    await ui.tap("tile_favourites")
    assert ui.view.screen_name == "favourites" and "print_all" not in ui.view.idents()
    assert f"job_{notes.job_id}_name" not in ui.view.idents()  # the favourites only
    await ui.tap(f"job_{thesis.job_id}_select")
    await ui.tap("print_selected")
    assert ui.text("message") == "1 printed, 0 failed."
    await ui.tap(f"job_{thesis.job_id}_select")
    await ui.tap("print_selected")  # printed again from the favourites
    assert ui.text("message") == "1 printed, 0 failed."
    assert engine.state.balance_cents == 1000 - 2 * 2 * 70 == await ui.rig.hub.balance("alice")
    assert (
        ui.text(f"job_{thesis.job_id}_name")
        == "thesis.ps\n3 p. × 2 · colour · printed before · sent without a password"
    )
    await ui.tap("back")
    await ui.tap("tile_jobs")
    await ui.tap(f"job_{notes.job_id}_select")
    assert without_touches(await ui.tap("pass_on")) == []  # opening the search is local
    assert ui.view.screen_name == "pass_on"
    assert ui.text("title") == "Let a colleague print: notes.ps"
    assert ui.text("colleague_hint") == "Type two letters or more of a name, then Search."
    ui.view.find("colleague_query").text = "bui"
    assert without_touches(await ui.tap("search")) == [SearchColleagues("bui")]
    assert ui.text("colleague_bob") == "Bob Builder · Works"
    await both_languages(ui, "pass_on_from_hub")
    assert without_touches(await ui.tap("colleague_bob")) == [PassJobOn(notes.job_id, "bob")]
    assert ui.text("message") == "Bob Builder can now print this job (charged to you)."
    assert ui.view.screen_name == "jobs"
    assert (
        ui.text(f"job_{notes.job_id}_name")
        == "notes.ps\n3 p. × 1 · colour · sent without a password · Bob Builder"
    )
    trays = [
        PaperTray(1, "Tray 1", "A4", "sheetFeedAutoRemovableTray", False, 0, 500, 0.0, TrayState.EMPTY),
        PaperTray(3, "Bypass", "A4", "sheetFeedManual", True, 0, 100, 0.0, TrayState.EMPTY),
    ]
    engine.printer_trays(trays)
    ui.frame()
    assert ui.text("paper_low") == "Paper low: Tray 1 (A4) empty"  # before anything is released
    ui.shot("jobs_paper_low_en")


async def test_transient_screens_render(ui: UiRig) -> None:
    """Screens the engine passes through within one call, rendered from its state type."""
    base = ui.rig.engine.state
    jobs = sample_jobs()
    releasing = replace(
        base,
        screen=Screen.RELEASING,
        username="alice",
        jobs=jobs,
        release=(ReleaseView(1, "printed", pages_printed=24, charged_cents=180), ReleaseView(2, "sending")),
    )
    cases = {
        "releasing": releasing,
        "identifying": replace(base, screen=Screen.IDENTIFYING),
        "logging_out": replace(base, screen=Screen.LOGGING_OUT),
        "out_of_order": replace(base, screen=Screen.OUT_OF_ORDER, message=MessageKey.PANEL_FAULT),
    }
    expected = {
        "releasing": ("Printing …", "Drucken …"),
        "identifying": ("One moment, please …", "Einen Moment bitte …"),
        "logging_out": ("Logging out …", "Abmelden …"),
        "out_of_order": ("Out of order", "Außer Betrieb"),
    }
    for name, state in cases.items():
        for index, language in enumerate(("en", "de")):
            ui.view.show(replace(state, language=language))
            ui.frame()
            assert ui.view.screen_name == name
            assert ui.text("title") == expected[name][index]
            ui.shot(f"{name}_{language}")
    ui.view.show(replace(releasing, language="en"))
    ui.frame()
    assert ui.text("release_1") == "thesis.pdf: printed · 24 · €1.80"
    assert ui.text("release_2") == "slides.pdf: sending"


async def test_blanking_after_inactivity_swallows_the_waking_touch(ui: UiRig) -> None:
    ui.rig.clock.advance(59)
    ui.view.check_blanking()
    assert "blank" not in ui.view.idents()
    ui.rig.clock.advance(1)
    ui.view.check_blanking()
    ui.frame()
    assert "blank" in ui.view.idents()
    assert await ui.tap("language") == []  # woke the screen, did nothing else
    assert "blank" not in ui.view.idents() and ui.rig.engine.state.language == "en"
    await ui.rig.engine.dispatch(CardPresented(ALICE_CARD))
    ui.rig.clock.advance(120)
    ui.view.check_blanking()
    assert "blank" not in ui.view.idents()  # never during a session


def buttons_are_touch_targets(ui: UiRig) -> list[str]:
    """Every button at least 48 px both ways and fully inside the window; returns offenders."""
    from terminal_app.ui.settings import MIN_TARGET_PX
    from terminal_app.ui.widgets import TouchButton, walk_idents

    bad = []
    width, height = ui.view.size
    for ident, widget in walk_idents(ui.view):
        if not isinstance(widget, TouchButton):
            continue
        x, y = widget.to_window(*widget.pos)
        inside = x >= -1 and y >= -1 and x + widget.width <= width + 1 and y + widget.height <= height + 1
        if min(widget.size) < MIN_TARGET_PX or not inside:
            bad.append(f"{ident} {list(widget.size)} at {(x, y)}")
    return bad


async def test_layouts_at_three_sizes_keep_touch_targets(ui: UiRig) -> None:
    engine = ui.rig.engine
    await engine.dispatch(CardPresented(ALICE_CARD))
    state = replace(engine.state, jobs=sample_jobs(), jobs_supported=True)
    ui.view.composer.open("jobs")
    for width, height in ((800, 480), (1024, 600), (1280, 800)):
        ui.resize(width, height)
        assert ui.view.size == [width, height]
        ui.view.show(state)
        ui.frame(3)
        assert ui.view.layout.name == f"{width}x{height}" and ui.view.screen_name == "jobs"
        assert buttons_are_touch_targets(ui) == []
        if width != 800:
            ui.shot("jobs_en")
    ui.view.composer.open("")
    ui.resize(800, 480)


# Shot at 800x480 by the sweep below (the other screens are shot where a test drives them).
SWEEP_SHOTS = {"home with jobs": "home_jobs", "favourites": "favourites", "pass on": "pass_on"}


async def test_every_screen_fits_at_three_sizes_in_both_languages(ui: UiRig) -> None:
    """Every sample screen at 800x480, 1024x600 and 1280x800 in English and German: no label's text
    overflows its box, no button is smaller than a touch target or off the screen. Then the site's
    look: an accent colour and a logo, and high contrast with large text on the larger panels."""
    from terminal_app.terminal.ui.preview import compose_sample, sample_states
    from terminal_app.ui.theme import Look
    from tests.terminal_app.ui_checks import layout_problems

    looks: list[tuple[str, Look, tuple[tuple[int, int], ...]]] = [
        ("", Look(), ((800, 480), (1024, 600), (1280, 800)))
    ]
    looks.append(("_high_contrast", Look(high_contrast=True, large_text=True), ((1024, 600), (1280, 800))))
    checked = 0
    try:
        for suffix, look, sizes in looks:
            ui.view.look = look
            for width, height in sizes:
                ui.resize(width, height)
                for name, sample in sample_states():
                    for language in ("en", "de"):
                        state = replace(sample, language=language)
                        compose_sample(ui.view.composer, name, state)
                        ui.view.show(state)
                        ui.view.redraw()
                        ui.frame(2)
                        problems = layout_problems(ui.view)  # touch targets too
                        assert problems == [], f"{name} {language} {width}x{height}{suffix}: {problems}"
                        checked += 1
                        if name in SWEEP_SHOTS and (width, suffix) == (800, ""):
                            ui.shot(f"{SWEEP_SHOTS[name]}_{language}")
                        elif name in ("home with jobs", "jobs") and suffix and language == "de":
                            ui.shot(f"{SWEEP_SHOTS.get(name, name)}{suffix}_{language}")
        assert checked == len(sample_states()) * 2 * (3 + 2)
        ui.resize(800, 480)
        logo = ui.rig.store_path.parent / "logo.png"
        logo.write_bytes(sample_png(120, 40, (120, 30, 160)))
        ui.view.look = Look(accent="#7b1fa2", logo=str(logo))
        state = replace(dict(sample_states())["home with jobs"], language="en")
        compose_sample(ui.view.composer, "home with jobs", state)
        ui.view.show(state)
        ui.view.redraw()
        ui.frame(3)
        assert layout_problems(ui.view) == []
        assert ui.view.find("logo").texture.size == (120, 40)
        assert tuple(ui.view.find("tile_jobs").background_color) == (0x7B / 255, 0x1F / 255, 0xA2 / 255, 1.0)
        ui.shot("home_site_look_en")
    finally:
        ui.view.look = Look()
        ui.view.composer.open("")
        ui.resize(800, 480)


async def test_the_idle_hint_pulses_once_a_second_only_on_the_idle_screen(ui: UiRig) -> None:
    from terminal_app.terminal.ui.view import renders_in_software
    from terminal_app.ui.theme import Look

    assert renders_in_software() and ui.view.gpu_renders is False  # Xvfb draws with llvmpipe
    assert ui.view._pulse is None  # so the hint stands still here
    ui.view.gpu_renders = True  # as on a panel with a GPU
    ui.view.redraw()
    hint = ui.view.find("idle_icon")
    seen = set()
    for _ in range(3):
        ui.view._pulse_step(1.0)
        seen.add(hint.opacity)
    assert seen == {1.0, 0.45}
    assert ui.view._pulse is not None and ui.view._pulse.timeout == 1.0  # one step a second, not per frame
    await ui.rig.engine.dispatch(CardPresented(ALICE_CARD))
    ui.frame()
    assert ui.view._pulse is None  # no animation in a session
    await ui.rig.engine.dispatch(Logout())
    ui.frame()
    assert ui.view._pulse is not None
    ui.view.look = Look(animate=False)
    ui.view.redraw()
    assert ui.view._pulse is None
    ui.view.look, ui.view.gpu_renders = Look(), False
    ui.view.redraw()


async def test_rotation_lays_out_portrait(ui: UiRig) -> None:
    ui.window.rotation = 90
    try:
        ui.frame(3)
        assert ui.view.size == [480, 800]
        # Taps are not simulated here: under rotation Kivy maps device coordinates itself.
        ui.view.composer.idle("pin")
        ui.view.redraw()
        ui.frame(3)
        assert ui.view.screen_name == "pin"
        pad, title = ui.view.find("pin_1"), ui.view.find("title")
        assert pad.top < title.y  # portrait: the pad sits below the prompt, not beside it
        assert buttons_are_touch_targets(ui) == []
        ui.shot("pin_en_rotated")
    finally:
        ui.window.rotation = 0
        ui.frame(3)


# Last in this file: App.stop() ends Kivy's event loop for the rest of the process.
async def test_run_ui_wiring_engine_run_loop_and_app(rig, kivy_window) -> None:
    """The app as run_ui starts it: engine.run() and Kivy's async loop together, a card tap from
    the reader task, a touch on Logout, and the panel locked again."""
    import asyncio

    from terminal_app.terminal.ui.app import build_app, stop_ui
    from terminal_app.ui.settings import UiSettings

    engine = rig.engine
    running = asyncio.create_task(engine.run())
    app = build_app(engine.subscribe, engine.submit, UiSettings(blank_after_s=0))

    async def until(condition, what: str) -> None:
        for _ in range(500):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"timed out waiting for {what}")

    async def drive() -> None:
        await until(lambda: getattr(app, "view", None) is not None and app.view.screen_name == "idle", "idle")
        engine.submit(CardPresented(ALICE_CARD))
        await until(lambda: app.view.screen_name == "home", "home on screen")
        assert rig.panel.enabled and "Alice A" in app.view.find("header_user").text
        logout = app.view.find("logout")
        await asyncio.sleep(0.05)
        from tests.terminal_app.conftest import tap_at

        tap_at(*logout.to_window(*logout.center))
        await until(lambda: engine.state.screen is Screen.IDLE, "logout")
        await until(lambda: app.view.screen_name == "idle", "idle on screen")
        assert not rig.panel.enabled and engine.state.message is MessageKey.LOGGED_OUT
        stop_ui()

    try:
        await asyncio.wait_for(asyncio.gather(app.async_run(async_lib="asyncio"), drive()), 30)
    finally:
        await engine.close()
        await running
