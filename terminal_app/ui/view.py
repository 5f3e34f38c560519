"""The terminal's root widget: renders engine states, turns touches into intents, blanks the screen.

:class:`TerminalView` is given each new :class:`TerminalState` (:meth:`TerminalView.show`) and a
``submit`` function for intents; it never reads or changes anything else of the engine. Around
the current screen it draws a status bar (offline mode, countdown), the message bar, the idle
warning and the black blanking layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.widget import Widget

from terminal_app.core.state import DismissMessage, Intent, MessageKey, Screen, TerminalState, Touch
from terminal_app.ui.compose import SEVERITY, Composer
from terminal_app.ui.i18n import message_text, tr
from terminal_app.ui.screens import Context, build_screen
from terminal_app.ui.settings import Layout, ScreenBlanker, layout_for
from terminal_app.ui.widgets import Panel, TouchLabel, button, label, row, walk_idents

__all__ = ["TerminalView"]


class TerminalView(FloatLayout):
    """Everything on the terminal's screen (see the module docstring)."""

    def __init__(
        self,
        submit: Callable[[Intent], None],
        blanker: ScreenBlanker,
        now_s: Callable[[], float],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.submit = submit
        self.layout: Layout = layout_for(800, 480)
        self.blanker = blanker
        self.now_s = now_s
        self.composer = Composer()
        self.state = TerminalState()
        self.screen_name = ""
        self._drawn: TerminalState | None = None  # the state the widgets were built for
        self._countdown: TouchLabel | None = None
        self.bind(size=lambda *_args: self.redraw())

    # ---------------------------------------------------------------- rendering

    def show(self, state: TerminalState) -> None:
        """Render a new engine state."""
        self.state = state
        self.composer.follow(state)
        if self._drawn is not None and _same_but_countdown(self._drawn, state):
            self._update_countdown()
            return
        self.blanker.activity(self.now_s())
        self.redraw()

    def redraw(self) -> None:
        """Rebuild the widgets for the current state and composer."""
        self._drawn = self.state
        self.layout = layout_for(int(self.width), int(self.height))
        portrait = self.height > self.width
        context = Context(self.state, self.composer, self.layout, self.submit, self._redraw_soon, portrait)
        self.screen_name, body = build_screen(context)
        self.clear_widgets()
        frame = Panel("background", orientation="vertical", padding=self.layout.padding_px)
        frame.spacing = self.layout.padding_px
        frame.add_widget(self._status_bar())
        frame.add_widget(body)
        # The unknown-card form's title already says "card not recognised".
        if self.state.message is not None and not (
            self.screen_name == "unknown_card" and self.state.message is MessageKey.CARD_NOT_RECOGNISED
        ):
            frame.add_widget(self._message_bar())
        self.add_widget(frame)
        if self.state.idle_warning and self.state.countdown_s is not None:
            self.add_widget(self._warning())
        if self.blanker.blanked:
            self.add_widget(_black_layer())

    def _redraw_soon(self) -> None:
        # Not inside the touch that asked for it: that button is still being dispatched.
        Clock.schedule_once(lambda _dt: self.redraw(), 0)

    def _status_bar(self) -> Widget:
        state, layout = self.state, self.layout
        height = layout.target_px * 2 // 3
        bar = BoxLayout(orientation="horizontal", size_hint_y=None, height=height, spacing=layout.padding_px)
        if state.offline:
            banner = Panel("warning", size_hint_x=None, width=layout.target_px * 4)
            banner.add_widget(label("offline", tr(state.language, "offline_banner"), layout, size="small"))
            bar.add_widget(banner)
        bar.add_widget(Widget())
        self._countdown = label(
            "countdown", "", layout, size="small", size_hint_x=None, width=layout.target_px * 2
        )
        bar.add_widget(self._countdown)
        self._update_countdown()
        return bar

    def _update_countdown(self) -> None:
        seconds = self.state.countdown_s
        if self._countdown is not None:
            self._countdown.text = (
                "" if seconds is None else tr(self.state.language, "countdown", seconds=seconds)
            )
        for ident, widget in walk_idents(self):
            if ident == "idle_warning":
                widget.text = tr(self.state.language, "idle_warning", seconds=seconds)

    def _message_bar(self) -> Widget:
        state, layout = self.state, self.layout
        assert state.message is not None
        bar = Panel(SEVERITY.get(state.message, "info"), orientation="horizontal", size_hint_y=None)
        bar.height = layout.target_px + layout.padding_px
        bar.padding = layout.padding_px // 2
        bar.add_widget(label("message", message_text(state), layout, halign="left"))
        dismiss = button(
            "dismiss",
            tr(state.language, "dismiss"),
            lambda: self.submit(DismissMessage()),
            layout,
            role="quiet",
            width_px=layout.target_px * 3 // 2,
        )
        bar.add_widget(dismiss)
        return bar

    def _warning(self) -> Widget:
        layout, language = self.layout, self.state.language
        box = Panel(
            "warning",
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
        if self.state.countdown_s is not None:
            self.submit(Touch())
        return bool(super().on_touch_down(touch))

    def check_blanking(self) -> None:
        """Called about once a second: blank the idle screen after the configured inactivity."""
        state = self.state
        may_blank = state.screen is Screen.IDLE and state.message is None
        was = self.blanker.blanked
        if self.blanker.check(self.now_s(), may_blank) and not was:
            self.composer.idle("")  # a half-typed PIN or password is not left behind
            self.redraw()

    def find(self, ident: str) -> Widget:
        """The widget with this ident (tests and the layout check use it)."""
        for found, widget in walk_idents(self):
            if found == ident:
                return widget
        raise LookupError(f"no widget {ident!r} on screen {self.screen_name!r}")

    def idents(self) -> list[str]:
        """Every ident on screen, in tree order."""
        return [ident for ident, _ in walk_idents(self)]


def _same_but_countdown(old: TerminalState, new: TerminalState) -> bool:
    return replace(old, countdown_s=None) == replace(new, countdown_s=None)


def _black_layer() -> Widget:
    layer = Panel("black", size_hint=(1, 1), pos_hint={"x": 0, "y": 0})
    layer.ident = "blank"
    return layer
