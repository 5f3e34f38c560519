"""The terminal's root widget: the shared frame around the terminal's screens, the idle warning, blanking.

:class:`TerminalView` is the terminal's :class:`~terminal_app.ui.view.BaseView`: given each new
:class:`TerminalState` (:meth:`~terminal_app.ui.view.BaseView.show`) and a ``submit`` function for
intents, it draws the screen :mod:`terminal_app.terminal.ui.screens` builds under the header
(user, balance, printer and location), and over it the idle warning and the black blanking layer.
On the idle screen the card hint pulses once a second where the look allows animation and the
hardware can afford it: a GPU redraws the window for it at no cost worth naming, while software
OpenGL (llvmpipe, as under Xvfb or on a board without a GPU driver) pays about 1.7 % of a core for
that one redraw a second (benchmarks/terminal.py), more than an idle terminal may use. There the
hint stands still.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.uix.widget import Widget

from terminal_app.terminal.state import Intent, MessageKey, Screen, TerminalState, Touch
from terminal_app.terminal.ui.compose import SEVERITY, Composer
from terminal_app.terminal.ui.i18n import message_text, tr
from terminal_app.terminal.ui.screens import Context, build_screen, header_items
from terminal_app.ui.settings import ScreenBlanker
from terminal_app.ui.theme import Layout, Look
from terminal_app.ui.view import BaseView
from terminal_app.ui.widgets import Panel, button, label, row, walk_idents

__all__ = ["PULSE_S", "TerminalView", "renders_in_software"]

PULSE_S = 1.0  # the idle hint's pulse: one step a second
PULSE_OPACITY = (1.0, 0.45)
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast")  # GL_RENDERER names of software OpenGL


def renders_in_software() -> bool:
    """Does this window draw with software OpenGL (no GPU to take a redraw off the CPU)?"""
    from kivy.graphics.opengl import GL_RENDERER, glGetString

    renderer = bytes(glGetString(GL_RENDERER) or b"").decode(errors="replace").lower()
    return any(name in renderer for name in SOFTWARE_RENDERERS)


class TerminalView(BaseView[TerminalState]):
    """Everything on the terminal's screen (see the module docstring)."""

    def __init__(
        self,
        submit: Callable[[Intent], None],
        blanker: ScreenBlanker,
        now_s: Callable[[], float],
        look: Look | None = None,
        **kwargs: Any,
    ) -> None:
        self.blanker = blanker
        self.now_s = now_s
        self.composer = Composer()
        self._pulse: Any = None  # the idle hint's clock event while the idle screen shows
        self.pulses = 0
        self.gpu_renders: bool | None = None  # found out at the first draw (tests may set it)
        super().__init__(submit, TerminalState(), look, **kwargs)

    # ---------------------------------------------------------------- the role's parts of the frame

    def build_body(self) -> tuple[str, Widget]:
        """The terminal's screen for the state and what the user is composing."""
        portrait = self.height > self.width
        context = Context(self.state, self.composer, self.layout, self.submit, self.redraw_soon, portrait)
        return build_screen(context)

    def header_items(self) -> list[Widget]:
        """The user, their balance, the printer and where it stands."""
        return header_items(self.state, self.layout)

    def text(self, key: str, **args: object) -> str:
        """A terminal text in the state's language."""
        return tr(self.state.language, key, **args)

    def message_text(self) -> str:
        """The state's message in words."""
        return message_text(self.state)

    def severity(self) -> str:
        """How the message is shown."""
        return SEVERITY.get(self.state.message, "info") if self.state.message else "info"

    def shows_message_bar(self) -> bool:
        """The unknown-card form's title already says "card not recognised"."""
        return self.state.message is not None and not (
            self.screen_name == "unknown_card" and self.state.message is MessageKey.CARD_NOT_RECOGNISED
        )

    def follow(self, state: TerminalState) -> None:
        """The composer forgets what no longer applies."""
        self.composer.follow(state)

    def changed(self) -> None:
        """A new state wakes a blank screen."""
        self.blanker.activity(self.now_s())

    def add_overlays(self) -> None:
        """The idle warning and the blanking layer; the idle hint's pulse."""
        if self.state.idle_warning and self.state.countdown_s is not None:
            self.add_widget(self._warning())
        if self.blanker.blanked:
            self.add_widget(_black_layer(self.layout))
        if self.gpu_renders is None:
            self.gpu_renders = not renders_in_software()
        affordable = self.layout.animate and self.gpu_renders
        pulsing = self.screen_name == "idle" and affordable and not self.blanker.blanked
        if pulsing and self._pulse is None:
            self._pulse = Clock.schedule_interval(self._pulse_step, PULSE_S)
        elif not pulsing and self._pulse is not None:
            self._pulse.cancel()
            self._pulse = None

    def _pulse_step(self, _dt: float) -> None:
        self.pulses += 1
        for ident, widget in walk_idents(self):
            if ident == "idle_icon":
                widget.opacity = PULSE_OPACITY[self.pulses % 2]

    def update_countdown(self) -> None:
        """The countdown in the status bar and in the idle warning."""
        super().update_countdown()
        for ident, widget in walk_idents(self):
            if ident == "idle_warning":
                widget.text = tr(self.state.language, "idle_warning", seconds=self.state.countdown_s)

    def _warning(self) -> Widget:
        layout, language = self.layout, self.state.language
        box = Panel(
            "warning",
            layout,
            orientation="vertical",
            size_hint=(0.7, 0.5),
            pos_hint={"center_x": 0.5, "center_y": 0.5},
        )
        box.padding = layout.padding_px * 2
        box.spacing = layout.padding_px
        box.add_widget(
            label(
                "idle_warning",
                tr(language, "idle_warning", seconds=self.state.countdown_s),
                layout,
                size="title",
            )
        )
        box.add_widget(
            row(
                layout,
                button("stay", tr(language, "stay"), lambda: self.submit(Touch()), layout, role="primary"),
            )
        )
        return box

    # ---------------------------------------------------------------- touches and blanking

    def on_touch_down(self, touch: Any) -> bool:
        """Swallow the touch that wakes a blank screen; any touch in a session restarts its countdown."""
        if self.blanker.touch(self.now_s()):
            self.redraw()
            return True
        return super().on_touch_down(touch)

    def check_blanking(self) -> None:
        """Called about once a second: blank the idle screen after the configured inactivity."""
        state = self.state
        may_blank = state.screen is Screen.IDLE and state.message is None
        was = self.blanker.blanked
        if self.blanker.check(self.now_s(), may_blank) and not was:
            self.composer.idle("")  # a half-typed PIN or password is not left behind
            self.redraw()


def _black_layer(layout: Layout) -> Widget:
    layer = Panel("black", layout, size_hint=(1, 1), pos_hint={"x": 0, "y": 0})
    layer.ident = "blank"
    return layer
