"""The root widget both roles' screens share: header, message bar, countdown, touches, lookups.

A :class:`BaseView` is given each new engine state (:meth:`BaseView.show`) and a ``submit`` function
for intents; it never reads or changes anything else of the engine. Around the role's current screen
(:meth:`BaseView.build_body`) it draws the header (the site's logo, what the role says there — the
user, their balance, the printer and where it is — server offline, the countdown) and the message
bar (an icon and the message in words, a Dismiss button), in the site's
:class:`~terminal_app.ui.theme.Look`. A touch while a countdown runs sends :class:`Touch` (the
engine restarts the countdown) before the touched button's own intent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Generic, Protocol, TypeVar

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.image import Image
from kivy.uix.widget import Widget

from terminal_app.session.intents import DismissMessage, Touch
from terminal_app.ui.theme import Layout, Look, layout_for
from terminal_app.ui.widgets import Panel, TouchLabel, button, icon, label, walk_idents, with_icon

__all__ = ["BaseView", "ViewState"]


class ViewState(Protocol):
    """What the base view reads of a state."""

    @property
    def offline(self) -> bool:
        """The hub is unreachable now."""
        ...

    @property
    def countdown_s(self) -> int | None:
        """Seconds until the session's timeout, None without one."""
        ...

    @property
    def message(self) -> Any:
        """The message key shown, None without one."""
        ...


S = TypeVar("S", bound=ViewState)


class BaseView(FloatLayout, Generic[S]):  # type: ignore[misc]  # Kivy ships no types: its widgets are Any
    """Everything on a device's screen (see the module docstring)."""

    def __init__(
        self, submit: Callable[[Any], None], initial: S, look: Look | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.submit = submit
        self.look = look or Look()
        self.layout: Layout = layout_for(800, 480, self.look)
        self.state: S = initial
        self.screen_name = ""
        self._drawn: S | None = None  # the state the widgets were built for
        self._countdown: TouchLabel | None = None
        self.bind(size=lambda *_args: self.redraw())

    # ---------------------------------------------------------------- what a role adds

    # (not abc.abstractmethod: Kivy's widget metaclass and ABCMeta cannot be combined)

    def build_body(self) -> tuple[str, Widget]:
        """The visible screen's name and widgets for :attr:`state`."""
        raise NotImplementedError

    def text(self, key: str, **args: object) -> str:
        """A text of the role's catalogue in the state's language."""
        raise NotImplementedError

    def message_text(self) -> str:
        """The state's message in words."""
        raise NotImplementedError

    def severity(self) -> str:
        """``"error"``, ``"warning"`` or ``"info"`` for the state's message."""
        raise NotImplementedError

    def header_items(self) -> list[Widget]:
        """What the role shows in the header between the logo and the countdown."""
        return []

    def shows_message_bar(self) -> bool:
        """Is the message bar shown (a screen may already say what the message says)?"""
        return self.state.message is not None

    def follow(self, state: S) -> None:
        """A new state arrived (the role's composer forgets what no longer applies)."""

    def add_overlays(self) -> None:
        """Widgets drawn over the frame (a warning, a blank screen)."""

    def update_countdown(self) -> None:
        """Show the countdown (a role may show it in more places)."""
        seconds = self.state.countdown_s
        if self._countdown is not None:
            self._countdown.text = "" if seconds is None else self.text("countdown", seconds=seconds)

    # ---------------------------------------------------------------- rendering

    def show(self, state: S) -> None:
        """Render a new engine state (only the countdown when nothing else changed)."""
        self.state = state
        self.follow(state)
        if self._drawn is not None and _same_but_countdown(self._drawn, state):
            self.update_countdown()
            return
        self.changed()
        self.redraw()

    def changed(self) -> None:
        """Something besides the countdown changed (before the redraw)."""

    def redraw(self) -> None:
        """Rebuild the widgets for the current state."""
        self._drawn = self.state
        self.layout = layout_for(int(self.width), int(self.height), self.look)
        self.screen_name, body = self.build_body()
        self.clear_widgets()
        frame = Panel("background", self.layout, orientation="vertical", padding=self.layout.margin_px)
        frame.spacing = self.layout.padding_px
        frame.add_widget(self._header())
        frame.add_widget(body)
        if self.shows_message_bar():
            frame.add_widget(self._message_bar())
        self.add_widget(frame)
        self.add_overlays()

    def redraw_soon(self) -> None:
        """Redraw on the next frame (not inside the touch that asked for it: that button is still
        being dispatched)."""
        Clock.schedule_once(lambda _dt: self.redraw(), 0)

    def _header(self) -> Widget:
        layout = self.layout
        bar = BoxLayout(
            orientation="horizontal", size_hint_y=None, height=layout.header_px, spacing=layout.padding_px * 2
        )
        if layout.logo:
            logo = Image(source=layout.logo, size_hint_x=None, width=layout.header_px * 3, fit_mode="contain")
            logo.ident = "logo"
            bar.add_widget(logo)
        items = self.header_items() or [Widget()]
        for item in items:
            bar.add_widget(item)
        if self.state.offline:
            banner = Panel("warning", layout, size_hint_x=None, width=layout.target_px * 3)
            text = with_icon("offline", self.text("offline_banner"), layout.small_px)
            banner.add_widget(label("offline", text, layout, size="small", markup=True))
            bar.add_widget(banner)
        self._countdown = label(
            "countdown", "", layout, size="small", tone="muted", size_hint_x=None, width=layout.target_px
        )
        bar.add_widget(self._countdown)
        self.update_countdown()
        return bar

    def _message_bar(self) -> Widget:
        layout = self.layout
        severity = self.severity()
        bar = Panel(severity, layout, orientation="horizontal", size_hint_y=None)
        bar.height = layout.target_px + layout.padding_px
        half = layout.padding_px // 2
        bar.padding = (layout.padding_px * 2, half, half, half)
        bar.spacing = layout.padding_px
        bar.add_widget(_severity_icon(severity, layout))
        bar.add_widget(label("message", self.message_text(), layout, halign="left"))
        dismiss = button(
            "dismiss",
            self.text("dismiss"),
            lambda: self.submit(DismissMessage()),
            layout,
            role="quiet",
            width_px=layout.target_px * 3 // 2,
        )
        bar.add_widget(dismiss)
        return bar

    # ---------------------------------------------------------------- touches and lookups

    def on_touch_down(self, touch: Any) -> bool:
        """Any touch in a session restarts its countdown (sent before the button's own intent)."""
        if self.state.countdown_s is not None:
            self.submit(Touch())
        return bool(super().on_touch_down(touch))

    def find(self, ident: str) -> Widget:
        """The widget with this ident (tests and the layout check use it)."""
        for found, widget in walk_idents(self):
            if found == ident:
                return widget
        raise LookupError(f"no widget {ident!r} on screen {self.screen_name!r}")

    def idents(self) -> list[str]:
        """Every ident on screen, in tree order."""
        return [ident for ident, _ in walk_idents(self)]


def _severity_icon(severity: str, layout: Layout) -> Widget:
    found = icon("message_icon", {"error": "error", "warning": "warning"}.get(severity, "info"), layout)
    found.pos_hint = {"center_y": 0.5}
    return found


def _same_but_countdown(old: Any, new: Any) -> bool:
    return bool(replace(old, countdown_s=None) == replace(new, countdown_s=None))
