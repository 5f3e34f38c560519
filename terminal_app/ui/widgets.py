"""Kivy building blocks of the terminal screens: large buttons, wrapped labels, panels.

Every interactive widget carries an ``ident`` (language-independent, e.g. ``"pin_7"``,
``"job_3_mono"``) so tests and the layout check find it whatever the language.
Import only after the window is configured (see :mod:`terminal_app.terminal.ui.app`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from terminal_app.ui.settings import Layout

__all__ = [
    "COLOURS",
    "SYMBOL_FONT",
    "Panel",
    "TouchButton",
    "TouchLabel",
    "button",
    "field",
    "label",
    "pin_pad",
    "row",
    "walk_idents",
]

# Roboto has no check boxes or bullets; DejaVu Sans (bundled with Kivy) has.
SYMBOL_FONT = "data/fonts/DejaVuSans.ttf"

RGBA = tuple[float, float, float, float]
COLOURS: dict[str, RGBA] = {
    "background": (0.11, 0.13, 0.16, 1),
    "panel": (0.17, 0.2, 0.24, 1),
    "normal": (0.26, 0.42, 0.62, 1),
    "primary": (0.15, 0.55, 0.32, 1),
    "danger": (0.72, 0.2, 0.18, 1),
    "quiet": (0.33, 0.36, 0.4, 1),
    "selected": (0.85, 0.6, 0.1, 1),
    "info": (0.2, 0.36, 0.55, 1),
    "warning": (0.8, 0.5, 0.05, 1),
    "error": (0.7, 0.15, 0.12, 1),
    "black": (0, 0, 0, 1),
    "text": (1, 1, 1, 1),
}


class TouchButton(Button):  # type: ignore[misc]  # Kivy ships no types: its widgets are Any
    """A button at least one touch target high and wide, with an ``ident``."""

    def __init__(self, ident: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ident = ident


class TouchLabel(Label):  # type: ignore[misc]  # Kivy ships no types: its widgets are Any
    """A label that wraps to its width, with an ``ident``."""

    def __init__(self, ident: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ident = ident
        self.bind(width=self._wrap)

    def _wrap(self, _widget: Widget, width: float) -> None:
        self.text_size = (width, None)


class Panel(BoxLayout):  # type: ignore[misc]  # Kivy ships no types: its widgets are Any
    """A box with a solid background colour."""

    def __init__(self, colour: str = "panel", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        with self.canvas.before:
            Color(*COLOURS[colour])
            self._rect = Rectangle(pos=self.pos, size=self.size)
        self.bind(pos=self._redraw, size=self._redraw)

    def _redraw(self, *_args: object) -> None:
        self._rect.pos = self.pos
        self._rect.size = self.size


def button(
    ident: str,
    text: str,
    on_press: Callable[[], None],
    layout: Layout,
    *,
    role: str = "normal",
    width_px: int | None = None,
) -> TouchButton:
    """A large button; ``on_press`` runs on release (the usual touch semantics)."""
    widget = TouchButton(
        ident,
        text=text,
        font_size=layout.font_px,
        size_hint_y=None,
        height=layout.target_px,
        background_normal="",
        background_color=COLOURS[role],
        halign="center",
        valign="middle",
    )
    widget.bind(size=lambda w, size: setattr(w, "text_size", (size[0] - 8, None)))
    if width_px is not None:
        widget.size_hint_x = None
        widget.width = max(width_px, layout.target_px)
    widget.bind(on_release=lambda _w: on_press())
    return widget


def label(ident: str, text: str, layout: Layout, *, size: str = "body", **kwargs: Any) -> TouchLabel:
    """A wrapped label; ``size`` is ``"title"``, ``"body"`` or ``"small"``."""
    font = {"title": layout.title_px, "body": layout.font_px, "small": layout.small_px}[size]
    kwargs.setdefault("halign", "center")
    kwargs.setdefault("valign", "middle")
    return TouchLabel(ident, text=text, font_size=font, color=COLOURS["text"], **kwargs)


def field(ident: str, hint: str, text: str, layout: Layout, *, password: bool = False) -> TextInput:
    """A one-line text input a touch target high."""
    widget = TextInput(
        text=text,
        hint_text=hint,
        password=password,
        multiline=False,
        write_tab=False,
        font_size=layout.font_px,
        size_hint_y=None,
        height=layout.target_px,
        padding=(layout.padding_px, (layout.target_px - layout.font_px) / 2.5),
    )
    widget.ident = ident
    return widget


def row(layout: Layout, *children: Widget, height_px: int | None = None) -> BoxLayout:
    """A horizontal row of widgets, one touch target high."""
    box = BoxLayout(
        orientation="horizontal",
        spacing=layout.padding_px,
        size_hint_y=None,
        height=height_px or layout.target_px,
    )
    for child in children:
        box.add_widget(child)
    return box


def pin_pad(
    layout: Layout,
    texts: tuple[str, str],
    on_digit: Callable[[str], Callable[[], None]],
    on_clear: Callable[[], None],
    on_ok: Callable[[], None],
) -> GridLayout:
    """The PIN pad both roles show: 1–9, Clear, 0, OK; ``texts`` are the words for Clear and OK and
    ``on_digit(digit)`` is the action of a digit key."""
    clear_text, ok_text = texts
    grid = GridLayout(cols=3, spacing=layout.padding_px, size_hint_y=None)
    grid.height = 4 * layout.target_px + 3 * layout.padding_px
    for digit in "123456789":
        grid.add_widget(button(f"pin_{digit}", digit, on_digit(digit), layout))
    grid.add_widget(button("pin_clear", clear_text, on_clear, layout, role="quiet"))
    grid.add_widget(button("pin_0", "0", on_digit("0"), layout))
    grid.add_widget(button("pin_ok", ok_text, on_ok, layout, role="primary"))
    return grid


def walk_idents(root: Widget) -> Iterator[tuple[str, Widget]]:
    """Every widget under ``root`` that has an ``ident``."""
    for widget in root.walk(restrict=True):
        ident = getattr(widget, "ident", "")
        if ident:
            yield ident, widget
