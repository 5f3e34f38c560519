"""The UI contract: the state's fields, the screens, the message keys and the intents.

The Kivy screens are built on exactly these names; this test fails when one is added, renamed
or removed, so a change to the contract is a deliberate one (and the UI is changed with it).
"""

from __future__ import annotations

import dataclasses
import typing

from terminal_app.terminal import MessageKey, Screen, TerminalState, state


def test_state_fields() -> None:
    assert [f.name for f in dataclasses.fields(TerminalState)] == [
        "screen", "language", "offline", "message", "message_args", "unknown_card",
        "username", "full_name", "offline_session", "balance_cents", "available_cents", "postpaid",
        "arrears_cents", "quotas", "quota_pages_left", "copy_allowed", "color_allowed", "projects",
        "project_required", "project", "jobs", "jobs_supported", "release", "colleagues",
        "printer_name", "printer_location", "paper_low", "scan_profiles", "scan_profile", "panel_unlocked",
        "copy_pages_mono", "copy_pages_color", "copy_cost_cents", "credit_pages", "prices",
        "countdown_s", "idle_warning", "printer_errors", "pending_reports",
    ]  # fmt: skip


def test_screens_and_messages() -> None:
    assert [s.value for s in Screen] == [
        "starting", "idle", "identifying", "second_factor", "select_project", "home", "releasing",
        "copying", "logging_out", "out_of_order", "disabled", "reenroll",
    ]  # fmt: skip
    assert len(MessageKey) == 36 and MessageKey("printer_jammed") is MessageKey.PRINTER_JAMMED
    assert MessageKey.OPERATOR_NOTICE.value == "operator_notice"  # the fleet's show_message
    # a tapped card, a typed PIN and a typed password each have their own "not recognised"
    assert [key.value for key in MessageKey][:5] == [
        "card_not_recognised", "pin_not_recognised", "password_not_recognised", "card_linked",
        "card_link_refused",
    ]  # fmt: skip


def test_intents() -> None:
    names = [kind.__name__ for kind in typing.get_args(state.Intent)]
    assert names == [
        "CardPresented", "PinEntered", "PasswordEntered", "LinkCard", "Cancel", "Logout", "SelectProject",
        "SetLanguage", "ReleaseSelected", "ReleaseAll", "DeleteJobs", "StarJob",
        "SearchColleagues", "PassJobOn", "StartCopy", "ChooseScanProfile", "Touch", "DismissMessage",
        "ShowNotice",
    ]  # fmt: skip
    for kind in typing.get_args(state.Intent):
        assert dataclasses.is_dataclass(kind) and getattr(kind, "__dataclass_params__").frozen  # noqa: B009


def test_job_view_fields() -> None:
    assert [f.name for f in dataclasses.fields(state.JobView)] == [
        "job_id", "name", "owner", "pages", "color_pages", "copies", "duplex", "price_cents", "delegated",
        "printed", "allowed_mono", "allowed_duplex", "allowed_fewer_copies", "price_per_copy_cents",
        "price_mono_per_copy_cents", "price_duplex_per_copy_cents", "price_mono_duplex_per_copy_cents",
        "thumbnail_png", "owner_verified", "analysing", "may_have_printed", "favourite", "delegates",
        "estimate_note", "rule_note",
    ]  # fmt: skip
