"""Look at every screen on a real panel without a hub: ``python -m terminal_app.terminal.ui.preview``.

A technician's and designer's tool: it renders sample engine states (one per screen) at the
configured size and rotation. The Right and Left keys step through the screens, ``L`` switches
the language; touches print the intents they would send. The real terminal runs the same view
on a live engine (:func:`terminal_app.terminal.ui.app.run_ui`).
"""

from __future__ import annotations

import argparse
import struct
import time
import zlib
from dataclasses import replace
from typing import Any

from terminal_app.terminal.state import (
    ColleagueView,
    Intent,
    JobView,
    MessageKey,
    ProjectView,
    ReleaseView,
    Screen,
    TerminalState,
    TrayView,
)
from terminal_app.terminal.ui.compose import Composer
from terminal_app.ui.app import configure_kivy
from terminal_app.ui.settings import ScreenBlanker, UiSettings

__all__ = ["SAMPLE_JOBS", "compose_sample", "main", "sample_png", "sample_states"]


def sample_png(width: int, height: int, accent: tuple[int, int, int]) -> bytes:
    """A small PNG of a page: white, grey text lines, an ``accent`` block (sample thumbnails)."""
    rows = []
    for y in range(height):
        pixels = bytearray()
        for x in range(width):
            margin = width // 8 <= x < width - width // 8
            if margin and height // 8 <= y < height * 3 // 8 and x < width // 2:
                pixels += bytes(accent)
            elif margin and y > height // 2 and y % 6 < 2:
                pixels += b"\xa0\xa0\xa0"
            else:
                pixels += b"\xff\xff\xff"
        rows.append(b"\x00" + bytes(pixels))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


# Unit prices of the samples: mono 5 / duplex 4, colour 15 / duplex 12 (per page side).
SAMPLE_JOBS = (
    JobView(
        1, "thesis.pdf", "alice", 12, 3, 2, False, 180, False, False, True, True, True, 90, 60, 72, 48,
        sample_png(60, 80, (200, 40, 40)), favourite=True,
    ),
    JobView(
        2, "slides.pdf", "alice", 4, 0, 1, True, 16, False, False, True, True, True, 16, 16, 16, 16,
        delegates=(ColleagueView("bob", "Bob Builder"),),
    ),
    JobView(
        3, "poster.pdf", "bob", 1, 1, 3, False, 45, True, False, False, False, False, 15, 5, 12, 4,
        sample_png(60, 80, (40, 90, 200)),
    ),
)  # fmt: skip


SAMPLE_COLLEAGUES = (
    ColleagueView("bob", "Bob Builder", "Facilities"),
    ColleagueView("bobby", "Roberta Tables-Schmidt", "Accounts"),
    ColleagueView("rob", "Rob Bobrowski"),
)
SAMPLE_PAPER_LOW = (TrayView("Tray 1", "empty", "A4"), TrayView("Tray 2", "low", "A4"))
# The section of the home screen, or the idle screen's form, each sample opens (the composer's,
# not the engine's).
SAMPLE_SECTIONS = {"jobs": "jobs", "favourites": "favourites", "pass on": "pass_on"}
SAMPLE_FORMS = {"pin": "pin", "password": "password"}


def compose_sample(composer: Composer, name: str, state: TerminalState) -> None:
    """Open in ``composer`` what the sample ``name`` shows (a form, a section, the jobs passed on)."""
    composer.follow(state)
    composer.idle(SAMPLE_FORMS.get(name, ""))
    composer.open(SAMPLE_SECTIONS.get(name, ""))
    if name == "pass on":
        composer.passing = tuple(job.job_id for job in state.jobs[:1])


def sample_states() -> list[tuple[str, TerminalState]]:
    """One plausible state per screen, in the order a session passes through them (the job list,
    the favourites and the colleague search are sections of the home screen: see
    :data:`SAMPLE_SECTIONS`)."""
    idle = TerminalState(screen=Screen.IDLE, printer_name="mfp-1", printer_location="Floor 2, by the lifts")
    alice = replace(
        idle,
        screen=Screen.HOME,
        username="alice",
        full_name="Alice A",
        balance_cents=1000,
        available_cents=1000,
        copy_allowed=True,
        color_allowed=True,
        panel_unlocked=True,
        countdown_s=60,
    )
    return [
        ("idle", idle),
        ("pin", idle),
        ("password", idle),
        ("unknown card", replace(idle, unknown_card=True, message=MessageKey.CARD_NOT_RECOGNISED)),
        ("printer jammed", replace(idle, printer_errors=("jammed",), message=MessageKey.PRINTER_JAMMED)),
        ("identifying", replace(idle, screen=Screen.IDENTIFYING)),
        ("second factor", replace(idle, screen=Screen.SECOND_FACTOR, countdown_s=60)),
        (
            "project",
            replace(alice, screen=Screen.SELECT_PROJECT, projects=(ProjectView("grant-7", "Grant 7"),)),
        ),
        ("home", alice),
        ("home with jobs", replace(alice, jobs=SAMPLE_JOBS, paper_low=SAMPLE_PAPER_LOW)),
        ("jobs", replace(alice, jobs=SAMPLE_JOBS)),
        ("favourites", replace(alice, jobs=SAMPLE_JOBS)),
        ("pass on", replace(alice, jobs=SAMPLE_JOBS, colleagues=SAMPLE_COLLEAGUES)),
        (
            "releasing",
            replace(
                alice,
                screen=Screen.RELEASING,
                jobs=SAMPLE_JOBS,
                release=(ReleaseView(1, "sending"),),
                paper_low=SAMPLE_PAPER_LOW[1:],
            ),
        ),
        ("copying", replace(alice, screen=Screen.COPYING, copy_pages_mono=3, copy_cost_cents=15)),
        ("not enough credit", replace(alice, panel_unlocked=False, message=MessageKey.NOT_ENOUGH_CREDIT)),
        ("offline", replace(alice, offline=True, offline_session=True, message=MessageKey.OFFLINE_MODE)),
        ("idle warning", replace(alice, countdown_s=9, idle_warning=True)),
        ("logging out", replace(idle, screen=Screen.LOGGING_OUT)),
        ("out of order", replace(idle, screen=Screen.OUT_OF_ORDER, message=MessageKey.PANEL_FAULT)),
    ]


def _parse(argv: list[str] | None) -> tuple[UiSettings, str]:
    parser = argparse.ArgumentParser(prog="python -m terminal_app.terminal.ui.preview", description=__doc__)
    parser.add_argument("--size", default="800x480", help="panel size WIDTHxHEIGHT (default 800x480)")
    parser.add_argument("--rotation", type=int, default=0, choices=(0, 90, 180, 270))
    parser.add_argument("--language", default="en", choices=("en", "de"))
    parser.add_argument("--fullscreen", action="store_true")
    args = parser.parse_args(argv)
    width, _, height = args.size.partition("x")
    settings = UiSettings(
        width_px=int(width), height_px=int(height), rotation=args.rotation, fullscreen=args.fullscreen
    )
    return settings, str(args.language)


def main(argv: list[str] | None = None) -> int:
    """Open the preview window; returns when it is closed."""
    settings, language = _parse(argv)
    configure_kivy(settings)
    from kivy.base import runTouchApp
    from kivy.core.window import Window

    from terminal_app.terminal.ui.view import TerminalView

    states = sample_states()
    position = [0]

    def submit(intent: Intent) -> None:
        print(f"intent: {intent!r}", flush=True)

    view = TerminalView(submit, ScreenBlanker(0, time.monotonic()), time.monotonic)

    def show(step: int) -> None:
        position[0] = (position[0] + step) % len(states)
        name, state = states[position[0]]
        state = replace(state, language=language)
        compose_sample(view.composer, name, state)
        view.show(state)
        Window.set_title(f"printgate preview: {name} ({position[0] + 1}/{len(states)})")

    def on_key(_window: Any, key: int, *_args: Any) -> bool:
        nonlocal language
        if key in (275, 276):  # Right, Left
            show(1 if key == 275 else -1)
        elif key == ord("l"):
            language = "de" if language == "en" else "en"
            show(0)
        return True

    Window.bind(on_key_down=on_key)
    show(0)
    runTouchApp(view)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
