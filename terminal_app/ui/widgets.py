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
from kivy.utils import escape_markup

from terminal_app.ui.theme import ICON_FONT, ICONS, Layout

__all__ = [
    "Panel",
    "TouchButton",
    "TouchLabel",
    "button",
    "field",
    "icon",
    "label",
    "pin_pad",
    "row",
    "tile",
    "walk_idents",
    "with_icon",
]


def with_icon(name: str, text: str, size_px: int) -> str:
    """Markup: the icon ``name`` (of :data:`~terminal_app.ui.theme.ICONS`), then ``text`` (escaped:
    a job called "[b]" stays a job called "[b]")."""
    glyph = f"[font={ICON_FONT}][size={size_px}]{ICONS[name]}[/size][/font]"
    return f"{glyph}  {escape_markup(text)}" if text else glyph


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
    """A box with a solid background of a colour role of the layout's look."""

    def __init__(self, role: str, layout: Layout, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        with self.canvas.before:
            Color(*layout.colour(role))
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
    icon: str = "",
) -> TouchButton:
    """A large button, with an icon before its text when ``icon`` names one; ``on_press`` runs on
    release (the usual touch semantics)."""
    widget = TouchButton(
        ident,
        text=with_icon(icon, text, layout.font_px) if icon else text,
        markup=bool(icon),
        font_size=layout.font_px,
        size_hint_y=None,
        height=layout.target_px,
        background_normal="",
        background_down="",
        background_color=layout.colour(role),
        color=layout.colour("text"),
        halign="center",
        valign="middle",
    )
    widget.bind(size=lambda w, size: setattr(w, "text_size", (size[0] - 8, None)))
    if width_px is not None:
        widget.size_hint_x = None
        widget.width = max(width_px, layout.target_px)
    widget.bind(on_release=lambda _w: on_press())
    return widget


def label(
    ident: str, text: str, layout: Layout, *, size: str = "body", tone: str = "text", **kwargs: Any
) -> TouchLabel:
    """A wrapped label; ``size`` is ``"display"``, ``"title"``, ``"body"`` or ``"small"``, ``tone``
    a colour role (``"text"``, ``"muted"``)."""
    font = {
        "display": layout.display_px,
        "title": layout.title_px,
        "body": layout.font_px,
        "small": layout.small_px,
    }[size]
    kwargs.setdefault("halign", "center")
    kwargs.setdefault("valign", "middle")
    return TouchLabel(ident, text=text, font_size=font, color=layout.colour(tone), **kwargs)


def icon(ident: str, name: str, layout: Layout, *, size_px: int = 0, tone: str = "text") -> TouchLabel:
    """One icon of the icon font, ``size_px`` square (default: the layout's icon size)."""
    side = size_px or layout.icon_px
    return TouchLabel(
        ident,
        text=ICONS[name],
        font_name=ICON_FONT,
        font_size=side,
        color=layout.colour(tone),
        size_hint=(None, None),
        size=(side, side),
        halign="center",
        valign="middle",
    )


def tile(
    ident: str,
    icon_name: str,
    text: str,
    on_press: Callable[[], None],
    layout: Layout,
    *,
    detail: str = "",
    role: str = "tile",
) -> TouchButton:
    """A home-screen tile: a large icon over its name and an optional detail line (a balance, a
    count), two touch targets high, sized for gloves and thumbs."""
    lines = [f"[font={ICON_FONT}][size={layout.icon_px}]{ICONS[icon_name]}[/size][/font]"]
    lines.append(f"[b]{escape_markup(text)}[/b]")
    if detail:
        lines.append(f"[size={layout.small_px}]{escape_markup(detail)}[/size]")
    widget = button(ident, "", on_press, layout, role=role)
    widget.markup = True
    widget.text = "\n".join(lines)
    widget.height = layout.tile_px
    widget.size_hint_y = None
    return widget


def field(ident: str, hint: str, text: str, layout: Layout, *, password: bool = False) -> TextInput:
    """A one-line text input a touch target high."""
    widget = TextInput(
        text=text,
        background_normal="",
        background_active="",
        background_color=layout.colour("text"),
        cursor_color=layout.colour("primary"),
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
