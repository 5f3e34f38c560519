"""UI test fixtures.

Kivy exits the whole process (rc 102, no summary) when it cannot open a window, so the Kivy tests
(``kivy_screens.py``, not collected by the normal run) run in a pytest subprocess started by
``test_under_xvfb.py`` against an Xvfb this conftest starts on a free display and stops by PID.
Inside that subprocess, ``ui`` puts a real :class:`TerminalView` on the real engine of the
terminal tests' ``rig`` (real in-process hub, real panel lock on MockFactory pins).
"""

from __future__ import annotations

import itertools
import os
import select
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from terminal_app.core.state import Intent, TerminalState
from tests.terminal_app.conftest import Rig

SCREENS_DIR_ENV = "PRINTGATE_SCREENS_DIR"  # where the Kivy tests write their screenshots
XVFB_SCREEN = "1280x800x24"


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """A private Xvfb on a display number it picks itself (``-displayfd``); stopped by PID."""
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.fail("Xvfb is not installed (apt-get install xvfb): the UI tests need it")
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [
            binary,
            "-displayfd",
            str(write_end),
            "-screen",
            "0",
            XVFB_SCREEN,
            "-nolisten",
            "tcp",
            "+extension",
            "GLX",
        ],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 20.0)
        number = os.read(read_end, 32).decode().strip() if ready else ""
        if not number.isdigit():
            process.kill()
            _, errors = process.communicate(timeout=5)
            pytest.fail(f"Xvfb did not start: {errors.decode(errors='replace')[-500:]}")
        yield f":{number}"
    finally:
        os.close(read_end)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


# ------------------------------------------------------------------ inside the Kivy subprocess


@pytest.fixture(scope="session")
def kivy_window() -> Any:
    """Kivy's window (created once per process, on the Xvfb display from the environment)."""
    from terminal_app.ui.app import configure_kivy
    from terminal_app.ui.settings import UiSettings

    configure_kivy(UiSettings(virtual_keyboard=False))
    from kivy.base import EventLoop
    from kivy.core.window import Window

    EventLoop.ensure_window()
    return Window


_touch_ids = itertools.count(1)


def _tap_at(x: float, y: float) -> None:
    """A finger down and up at window coordinates, through Kivy's input dispatch."""
    from kivy.base import EventLoop
    from kivy.input.motionevent import MotionEvent

    class Finger(MotionEvent):
        def depack(self, args: dict[str, float]) -> None:
            self.sx, self.sy = args["x"], args["y"]
            super().depack(args)

    window = EventLoop.window
    args = {"x": x / (window.width - 1.0), "y": y / (window.height - 1.0)}
    finger = Finger("test-finger", next(_touch_ids), args, is_touch=True, type_id="touch")
    finger.profile = ["pos"]
    EventLoop.post_dispatch_input("begin", finger)
    EventLoop.post_dispatch_input("end", finger)


@dataclass
class UiRig:
    """A TerminalView on a real engine. Touches are recorded as intents, then dispatched."""

    rig: Rig
    window: Any
    view: Any
    sent: list[Intent] = field(default_factory=list)
    dispatched: list[Intent] = field(default_factory=list)
    engine_states: list[TerminalState] = field(default_factory=list)

    def frame(self, count: int = 2) -> None:
        """Let Kivy run its clock and draw."""
        from kivy.base import EventLoop

        for _ in range(count):
            EventLoop.idle()

    def submit(self, intent: Intent) -> None:
        self.sent.append(intent)

    async def flush(self) -> list[Intent]:
        """Hand every recorded intent to the engine, in order; returns them."""
        handed: list[Intent] = []
        while len(self.dispatched) < len(self.sent):
            intent = self.sent[len(self.dispatched)]
            self.dispatched.append(intent)
            handed.append(intent)
            await self.rig.engine.dispatch(intent)
        self.frame()
        return handed

    async def tap(self, ident: str, *, dispatch: bool = True) -> list[Intent]:
        """Tap the widget with this ident (at its centre); returns the intents it produced.

        With ``dispatch=False`` the intents are only recorded (for states the engine did not make).
        """
        self.frame()
        widget = self.view.find(ident)
        before = len(self.sent)
        _tap_at(*widget.to_window(*widget.center))
        self.frame()
        if not dispatch:
            self.dispatched = list(self.sent)
            return self.sent[before:]
        return await self.flush()

    def text(self, ident: str) -> str:
        return str(self.view.find(ident).text)

    def texts(self) -> dict[str, str]:
        """Every text on screen by ident."""
        return {ident: str(getattr(widget, "text", "")) for ident, widget in _idents(self.view)}

    def resize(self, width: int, height: int) -> None:
        self.window.size = (width, height)
        self.frame(3)

    def shot(self, name: str) -> Path | None:
        """Save the whole screen as ``name_<w>x<h>.png`` when the run collects screenshots."""
        target = os.environ.get(SCREENS_DIR_ENV)
        if not target:
            return None
        self.frame(3)
        path = Path(target) / f"{name}_{int(self.view.width)}x{int(self.view.height)}.png"
        self.view.export_to_png(str(path))
        return path


def _idents(view: Any) -> Iterator[tuple[str, Any]]:
    from terminal_app.ui.widgets import walk_idents

    return walk_idents(view)


@pytest_asyncio.fixture
async def ui(rig: Rig, kivy_window: Any) -> AsyncIterator[UiRig]:
    from terminal_app.ui.settings import ScreenBlanker
    from terminal_app.ui.view import TerminalView

    kivy_window.size = (800, 480)
    holder: list[UiRig] = []
    blanker = ScreenBlanker(60.0, rig.clock.monotonic_s())
    view = TerminalView(lambda intent: holder[0].submit(intent), blanker, rig.clock.monotonic_s)
    result = UiRig(rig, kivy_window, view)
    holder.append(result)
    kivy_window.add_widget(view)
    unsubscribe = rig.engine.subscribe(view.show)
    result.frame(3)
    yield result
    unsubscribe()
    kivy_window.remove_widget(view)
