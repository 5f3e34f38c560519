"""The UI's plain-Python parts: the composer, the screen choice, texts, settings and blanking."""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

import pytest

from terminal_app.errors import ConfigError
from terminal_app.terminal import (
    DeleteJobs,
    JobOverrides,
    JobView,
    LinkCard,
    MessageKey,
    PassJobOn,
    PasswordEntered,
    PinEntered,
    ReleaseSelected,
    Screen,
    SearchColleagues,
    StarJob,
    TerminalState,
)
from terminal_app.terminal.ui.compose import MAX_PIN_DIGITS, Composer, visible_screen
from terminal_app.terminal.ui.i18n import CATALOGUE, message_text, missing_keys, money, tr
from terminal_app.ui.settings import LAYOUTS, MIN_TARGET_PX, ScreenBlanker, UiSettings, layout_for
from terminal_app.ui.theme import HIGH_CONTRAST, ICON_FONT, ICONS, PALETTE

IDLE = TerminalState(screen=Screen.IDLE)


def job(job_id: int = 1, copies: int = 4, price_cents: int = 400, allowed: bool = True) -> JobView:
    """10 pages, 2 in colour; one copy costs price_cents / copies, 70 % of it in mono, 60 % in
    duplex, 40 % in mono duplex (as the hub would price them)."""
    per_copy = price_cents // copies
    return JobView(
        job_id, "a.pdf", "alice", 10, 2, copies, False, price_cents, False, False, allowed, allowed, allowed,
        per_copy, per_copy * 7 // 10, per_copy * 6 // 10, per_copy * 4 // 10,
    )  # fmt: skip


def test_every_text_exists_in_both_languages() -> None:
    assert missing_keys() == {}
    assert set(CATALOGUE) == {"en", "de"}
    assert all(CATALOGUE[language][key.value] for language in CATALOGUE for key in MessageKey)


def test_message_texts_with_arguments() -> None:
    state = replace(IDLE, message=MessageKey.RELEASE_DONE, message_args=(("printed", "2"), ("failed", "1")))
    assert message_text(state) == "2 printed, 1 failed."
    assert message_text(replace(state, language="de")) == "2 gedruckt, 1 fehlgeschlagen."
    jammed = replace(IDLE, message=MessageKey.PRINTER_ERROR, message_args=(("errors", "noPaper, doorOpen"),))
    assert message_text(replace(jammed, language="de")) == "Druckerproblem: kein Papier, Klappe offen"
    assert message_text(IDLE) == ""
    assert tr("fr", "logout") == "Logout"  # an unknown language falls back to English


@pytest.mark.parametrize(
    ("cents", "en", "de"), [(0, "€0.00", "0,00 €"), (1234, "€12.34", "12,34 €"), (-5, "-€0.05", "-0,05 €")]
)
def test_money(cents: int, en: str, de: str) -> None:
    assert (money(cents, "en"), money(cents, "de")) == (en, de)


def test_pin_digits_are_capped_and_ok_sends_once() -> None:
    composer = Composer()
    for digit in "1234567890123456x":
        composer.digit(digit)
    assert composer.pin == "123456789012"[:MAX_PIN_DIGITS]
    assert composer.pin_entered() == PinEntered("123456789012")
    assert composer.pin == "" and composer.pin_entered() is None


def test_unknown_card_form_while_the_engine_offers_the_card_not_after_a_typed_pin() -> None:
    composer = Composer()
    composer.follow(IDLE)
    composer.idle("password")
    composer.username, composer.password = "someone", "half-typed"
    refused = replace(IDLE, message=MessageKey.CARD_NOT_RECOGNISED, unknown_card=True)
    composer.follow(replace(IDLE, screen=Screen.IDENTIFYING))
    composer.follow(refused)
    assert visible_screen(refused, composer) == "unknown_card"
    assert (composer.username, composer.password) == ("", "")  # a fresh form for the card
    offered = replace(IDLE, unknown_card=True)
    composer.follow(offered)  # the engine's message expires: the form stays
    assert visible_screen(offered, composer) == "unknown_card"
    assert composer.link_card() is None  # empty fields: nothing to send
    composer.username, composer.password = " carol ", "pw"
    assert composer.link_card() == LinkCard("carol", "pw") and composer.password == ""
    composer.follow(IDLE)  # the engine forgot the card (cancel, timeout)
    assert visible_screen(IDLE, composer) == "idle"
    composer.idle("pin")
    composer.digit("9")
    composer.pin_entered()
    composer.follow(replace(IDLE, screen=Screen.IDENTIFYING))
    wrong_pin = replace(IDLE, message=MessageKey.PIN_NOT_RECOGNISED)
    composer.follow(wrong_pin)
    assert visible_screen(wrong_pin, composer) == "pin"


def test_password_needs_both_fields_and_is_forgotten_after_sending() -> None:
    composer = Composer(username=" alice ", password="")
    assert composer.password_entered() is None
    composer.password = "secret"
    assert composer.password_entered() == PasswordEntered("alice", "secret")
    assert composer.password == ""


def test_job_choices_build_exact_intents_and_prices() -> None:
    composer = Composer()
    first, second, fixed = job(1), job(2, copies=1, price_cents=50), job(3, allowed=False)
    jobs = (first, second, fixed)
    assert composer.release_selected(jobs) is None and composer.delete_selected(jobs) is None
    composer.toggle_selected(first)
    composer.toggle_selected(fixed)
    for _ in range(5):
        composer.change_copies(first, -1)
    assert composer.copies(first) == 1 and composer.price(first) == 100
    composer.change_copies(first, +9)
    assert composer.copies(first) == 4 and composer.choice(1).copies == 0  # back to as submitted
    composer.change_copies(first, -1)
    composer.toggle_duplex(first)
    composer.toggle_mono(fixed)  # not allowed: no change
    composer.change_copies(fixed, -1)
    assert composer.price(first) == 3 * 60  # duplex: the hub's duplex price per copy, 3 copies
    composer.toggle_mono(first)
    assert composer.price(first) == 3 * 40
    composer.toggle_mono(first)
    assert composer.release_selected(jobs) == ReleaseSelected(
        job_ids=(1, 3), overrides=((1, JobOverrides(duplex=True, copies=3)),)
    )
    assert composer.jobs == {} and composer.release_selected(jobs) is None  # sent: choices forgotten
    composer.toggle_selected(second)
    assert composer.delete_selected(jobs) == DeleteJobs(job_ids=(2,))
    assert composer.delete_selected(jobs) is None
    session = replace(IDLE, screen=Screen.HOME, username="alice", jobs=(second,))
    composer.follow(session)
    assert set(composer.jobs) <= {2}  # choices of jobs no longer listed are dropped
    composer.follow(IDLE)
    assert composer.jobs == {}


def test_visible_screen_names() -> None:
    composer = Composer()
    home = replace(IDLE, screen=Screen.HOME, username="alice")
    assert visible_screen(home, composer) == "home"
    assert visible_screen(replace(home, jobs=(job(),)), composer) == "home"  # the tiles first
    for section in ("jobs", "favourites"):
        composer.open(section)
        assert visible_screen(replace(home, jobs=(job(),)), composer) == section
    composer.open("nonsense")
    assert composer.section == "favourites"
    composer.open("")
    assert visible_screen(home, composer) == "home"
    assert visible_screen(replace(IDLE, screen=Screen.COPYING), composer) == "copying"


def test_stars_and_passing_on_build_exact_intents() -> None:
    mine, starred, bobs = (
        job(1),
        replace(job(2), favourite=True),
        replace(job(3), owner="bob", delegated=True),
    )
    jobs = (mine, starred, bobs)
    home = replace(IDLE, screen=Screen.HOME, username="alice", jobs=jobs)
    composer = Composer()
    composer.follow(home)
    composer.open("favourites")
    assert composer.listed(home) == (starred,)
    for one in jobs:
        composer.toggle_selected(one)
    # some selected own jobs lack a star: the button stars them; bob's job is not hers to star
    assert composer.star_selected(jobs, "alice") == [StarJob(1, True)]
    assert composer.selected_ids(jobs) == (3,)  # sent: her jobs are unselected, bob's stays
    composer.toggle_selected(starred)
    assert composer.star_selected(jobs, "alice") == [StarJob(2, False)]  # all starred: unstar
    composer.pass_on_selected(jobs, "alice")
    assert composer.section == "favourites" and composer.passing == ()  # only bob's was selected
    composer.toggle_selected(mine)
    composer.toggle_selected(starred)
    composer.pass_on_selected(jobs, "alice")
    assert (composer.section, composer.passing) == ("pass_on", (1, 2))
    assert visible_screen(home, composer) == "pass_on"
    composer.colleague_query = "  bo "
    assert composer.search() == SearchColleagues("bo")
    assert composer.pass_to("bob") == [PassJobOn(1, "bob"), PassJobOn(2, "bob")]
    assert (composer.section, composer.passing, composer.selected_ids(jobs)) == ("jobs", (), (3,))
    composer.passing, composer.section = (1,), "pass_on"
    assert composer.pass_to("bob", withdraw=True) == [PassJobOn(1, "bob", withdraw=True)]
    composer.passing, composer.section = (1,), "pass_on"
    composer.follow(replace(home, jobs=(starred,)))  # the job went away meanwhile: back to the list
    assert (composer.section, composer.passing) == ("jobs", ())
    composer.follow(IDLE)  # the session ended: nothing open
    assert (composer.section, composer.colleague_query) == ("", "")


def test_layouts_and_rotation() -> None:
    sizes = {name: tuple(int(side) for side in name.split("x")) for name in LAYOUTS}
    assert {name: layout_for(width, height).name for name, (width, height) in sizes.items()} == {
        n: n for n in LAYOUTS
    }
    assert all(layout.target_px >= MIN_TARGET_PX for layout in LAYOUTS.values())
    portrait = UiSettings(width_px=1024, height_px=600, rotation=90)
    assert portrait.logical_size == (600, 1024) and portrait.layout.name == "1024x600"


def test_the_look_is_data_accent_logo_contrast_and_large_text(tmp_path: Path) -> None:
    plain = layout_for(800, 480)
    assert plain.colour("primary") == PALETTE["primary"] and plain.logo == "" and plain.animate
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n")
    settings = UiSettings.from_mapping(
        {"width_px": 1024, "height_px": 600, "accent": "#7B1FA2", "logo": str(logo)}
        | {"high_contrast": True, "large_text": True, "animate": False}
    )
    site = settings.layout
    assert site.colour("primary") == (0x7B / 255, 0x1F / 255, 0xA2 / 255, 1.0)
    assert site.colour("background") == HIGH_CONTRAST["background"] == (0, 0, 0, 1)
    assert (site.logo, site.animate) == (str(logo), False)
    assert (site.font_px, site.title_px, site.target_px) == (30, 42, 95)  # 1024x600 a quarter larger
    assert site.name == "1024x600" and site.large and not plain.large
    assert set(PALETTE) == set(HIGH_CONTRAST)
    for table, wording in (
        ({"accent": "purple"}, "expected a colour"),
        ({"accent": "#12345"}, "expected a colour"),
        ({"logo": str(tmp_path / "missing.png")}, "is not a file"),
        ({"high_contrast": "yes"}, "expected bool"),
        ({"accent": 7}, "expected str"),
        ({"large_text": True}, "needs a panel of 600 px"),  # 800x480 has no room for it
    ):
        with pytest.raises(ConfigError, match=wording):
            UiSettings.from_mapping(table)


def test_icons_come_from_the_vendored_font_with_its_licence() -> None:
    font = Path(ICON_FONT)
    assert font.is_file() and font.stat().st_size < 20_000  # a subset, not the 350 kB font
    licence = font.with_name("LICENSE-MaterialIcons.txt").read_text()
    assert "Apache License" in licence and "Version 2.0" in licence
    assert len(set(ICONS.values())) == len(ICONS)  # one glyph, one name
    assert all(len(glyph) == 1 and 0xE000 <= ord(glyph) <= 0xF8FF for glyph in ICONS.values())
    cmap = _font_code_points(font.read_bytes())
    assert {ord(glyph) for glyph in ICONS.values()} <= cmap


def _font_code_points(data: bytes) -> set[int]:
    """The code points a TrueType font maps (its format 4 cmap subtable), read by hand: the subset
    must hold every icon the screens name."""
    tables = {
        data[12 + 16 * n : 16 + 16 * n]: struct.unpack(">I", data[20 + 16 * n : 24 + 16 * n])[0]
        for n in range(struct.unpack(">H", data[4:6])[0])
    }
    cmap = tables[b"cmap"]
    found: set[int] = set()
    for n in range(struct.unpack(">H", data[cmap + 2 : cmap + 4])[0]):
        offset = cmap + struct.unpack(">I", data[cmap + 8 + 8 * n : cmap + 12 + 8 * n])[0]
        if struct.unpack(">H", data[offset : offset + 2])[0] != 4:
            continue
        segments = struct.unpack(">H", data[offset + 6 : offset + 8])[0] // 2
        ends = struct.unpack(f">{segments}H", data[offset + 14 : offset + 14 + 2 * segments])
        starts_at = offset + 16 + 2 * segments
        starts = struct.unpack(f">{segments}H", data[starts_at : starts_at + 2 * segments])
        for start, end in zip(starts, ends, strict=True):
            if start != 0xFFFF:
                found.update(range(start, end + 1))
    return found


def test_display_settings_from_toml_table() -> None:
    settings = UiSettings.from_mapping(
        {"width_px": 1280, "height_px": 800, "rotation": 180, "blank_after_s": 60}
    )
    assert (settings.rotation, settings.blank_after_s, settings.layout.name) == (180, 60.0, "1280x800")
    for table, wording in (
        ({"rotation": 45}, "rotation must be one of"),
        ({"colour": "red"}, "unknown key"),
        ({"fullscreen": 1}, "expected bool"),
        ({"width_px": True}, "expected int"),
        ({"width_px": 200}, "too small"),
        ({"blank_after_s": -1}, ">= 0"),
    ):
        with pytest.raises(ConfigError, match=wording):
            UiSettings.from_mapping(table)


def test_blanker_blanks_idle_only_and_swallows_the_waking_touch() -> None:
    blanker = ScreenBlanker(blank_after_s=30, now_s=0)
    assert not blanker.check(29.9, may_blank=True)
    assert blanker.check(30, may_blank=True)
    assert blanker.touch(31) is True and not blanker.blanked
    assert blanker.touch(32) is False
    assert not blanker.check(100, may_blank=False)  # a session or a message keeps it lit
    assert not blanker.check(129, may_blank=True) and blanker.check(130, may_blank=True)
    assert not ScreenBlanker(0, 0).check(10**6, may_blank=True)  # 0: never
