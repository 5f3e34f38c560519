"""The kiosk's root widget: renders :class:`KioskState`, turns touches into kiosk intents.

:class:`KioskView` is given each new state (:meth:`KioskView.show`) and a ``submit`` function; it
never reads or changes anything else of the :class:`~terminal_app.core.kiosk.KioskEngine`. Around
the current screen it draws a status bar (server offline, countdown) and the message bar. A touch
while a countdown runs sends :class:`Touch` (the engine restarts the countdown).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.widget import Widget

from terminal_app.core.kiosk_state import KioskIntent, KioskState
from terminal_app.core.state import DismissMessage, Touch
from terminal_app.ui.kiosk_i18n import kiosk_message_text, ktr
from terminal_app.ui.kiosk_screens import (
    KIOSK_SEVERITY,
    SUMMARY_MESSAGES,
    KioskComposer,
    KioskContext,
    build_kiosk_screen,
)
from terminal_app.ui.settings import Layout, layout_for
from terminal_app.ui.widgets import Panel, TouchLabel, button, label, walk_idents

__all__ = ["KioskView"]


class KioskView(FloatLayout):
    """Everything on the kiosk's screen (see the module docstring)."""

    def __init__(self, submit: Callable[[KioskIntent], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.submit = submit
        self.layout: Layout = layout_for(800, 480)
        self.composer = KioskComposer()
        self.state = KioskState()
        self.screen_name = ""
        self._drawn: KioskState | None = None
        self._countdown: TouchLabel | None = None
        self.bind(size=lambda *_args: self.redraw())

    def show(self, state: KioskState) -> None:
        """Render a new engine state (only the countdown label when nothing else changed)."""
        self.state = state
        self.composer.follow(state)
        if self._drawn is not None and replace(self._drawn, countdown_s=None) == replace(
            state, countdown_s=None
        ):
            self._update_countdown()
            return
        self.redraw()

    def redraw(self) -> None:
        """Rebuild the widgets for the current state and composer."""
        self._drawn = self.state
        self.layout = layout_for(int(self.width), int(self.height))
        context = KioskContext(self.state, self.composer, self.layout, self.submit, self._redraw_soon)
        self.screen_name, body = build_kiosk_screen(context)
        self.clear_widgets()
        frame = Panel("background", orientation="vertical", padding=self.layout.padding_px)
        frame.spacing = self.layout.padding_px
        frame.add_widget(self._status_bar())
        frame.add_widget(body)
        # The summary screen already shows the amounts the message names.
        if self.state.message is not None and not (
            self.screen_name == "summary" and self.state.message in SUMMARY_MESSAGES
        ):
            frame.add_widget(self._message_bar())
        self.add_widget(frame)

    def _redraw_soon(self) -> None:
        # Not inside the touch that asked for it: that button is still being dispatched.
        Clock.schedule_once(lambda _dt: self.redraw(), 0)

    def _status_bar(self) -> Widget:
        state, layout = self.state, self.layout
        bar = BoxLayout(
            orientation="horizontal",
            size_hint_y=None,
            height=layout.target_px * 2 // 3,
            spacing=layout.padding_px,
        )
        if state.offline:
            banner = Panel("warning", size_hint_x=None, width=layout.target_px * 4)
            banner.add_widget(label("offline", ktr(state.language, "offline_banner"), layout, size="small"))
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
                "" if seconds is None else ktr(self.state.language, "countdown", seconds=seconds)
            )

    def _message_bar(self) -> Widget:
        state, layout = self.state, self.layout
        assert state.message is not None
        bar = Panel(KIOSK_SEVERITY.get(state.message, "info"), orientation="horizontal", size_hint_y=None)
        bar.height = layout.target_px + layout.padding_px
        bar.padding = layout.padding_px // 2
        bar.add_widget(label("message", kiosk_message_text(state), layout, halign="left"))
        dismiss = button(
            "dismiss",
            ktr(state.language, "dismiss"),
            lambda: self.submit(DismissMessage()),
            layout,
            role="quiet",
            width_px=layout.target_px * 3 // 2,
        )
        bar.add_widget(dismiss)
        return bar

    def on_touch_down(self, touch: Any) -> bool:
        """Any touch in a session restarts its countdown (sent before the button's own intent)."""
        if self.state.countdown_s is not None:
            self.submit(Touch())
        return bool(super().on_touch_down(touch))

    def find(self, ident: str) -> Widget:
        """The widget with this ident (tests use it)."""
        for found, widget in walk_idents(self):
            if found == ident:
                return widget
        raise LookupError(f"no widget {ident!r} on screen {self.screen_name!r}")

    def idents(self) -> list[str]:
        """Every ident on screen, in tree order."""
        return [ident for ident, _ in walk_idents(self)]
