"""Checks both roles' Kivy screen tests run on a rendered view: nothing outside the screen, every
button a touch target, no label whose text overflows its box; and a widget's words without the
markup and icon glyphs around them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from terminal_app.ui.settings import MIN_TARGET_PX

_MARKUP = re.compile(r"\[/?(?:font|size|b|i|color)(?:=[^\]]*)?\]")
_ICON_GLYPHS = re.compile("[\ue000-\uf8ff]")


def plain(text: str) -> str:
    """A label's words as a person reads them: markup tags and icon glyphs removed, each line
    stripped (and the gap after an icon closed), lines that held only an icon dropped."""
    words = _ICON_GLYPHS.sub("", _MARKUP.sub("", text)).replace("&bl;", "[").replace("&br;", "]")
    lines = (re.sub(" {2,}", " ", line).strip() for line in words.replace("&amp;", "&").split("\n"))
    return "\n".join(line for line in lines if line)


def layout_problems(view: Any) -> list[str]:
    """Widgets outside the screen (scrolled content may lie beyond the viewport), buttons smaller
    than a touch target, labels whose text overflows its box (scrolled ones too)."""
    from kivy.uix.button import Button
    from kivy.uix.label import Label
    from kivy.uix.scrollview import ScrollView

    from terminal_app.ui.widgets import walk_idents

    problems = []
    for ident, widget in walk_idents(view):
        scrolled = any(isinstance(parent, ScrollView) for parent in _parents(widget))
        x, y = widget.to_window(widget.x, widget.y)
        outside = x < -1 or y < -1 or x + widget.width > view.width + 1 or y + widget.height > view.height + 1
        if outside and not scrolled:
            problems.append(f"{ident} outside the screen at {(x, y, widget.width, widget.height)}")
        if isinstance(widget, Button) and min(widget.width, widget.height) < MIN_TARGET_PX:
            problems.append(f"button {ident} is {widget.width}x{widget.height}")
        if isinstance(widget, Label) and widget.text:
            widget.texture_update()
            if widget.texture_size[1] > widget.height + 2 or widget.texture_size[0] > widget.width + 2:
                problems.append(
                    f"{ident} text {widget.texture_size} overflows {widget.size}: {widget.text!r}"
                )
    return problems


def _parents(widget: Any) -> Iterator[Any]:
    parent = getattr(widget, "parent", None)
    while parent is not None and parent is not widget:
        yield parent
        widget, parent = parent, getattr(parent, "parent", None)
