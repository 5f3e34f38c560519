"""Display settings of a terminal or kiosk (the ``[display]`` table) and the idle screen blanker.

The sizes, colours and icons are :mod:`terminal_app.ui.theme`'s: one :class:`Layout` per panel
class, chosen by the panel's short side after rotation (a portrait-mounted 7" panel gets the 7"
sizes), in the site's :class:`~terminal_app.ui.theme.Look` (accent colour, logo, high contrast,
large text) from this table. Every touch target is at least ``MIN_TARGET_PX``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from terminal_app.errors import ConfigError
from terminal_app.ui.theme import (
    LARGE_TEXT_SHORT_SIDE_MIN_PX,
    LAYOUTS,
    MIN_TARGET_PX,
    Layout,
    Look,
    layout_for,
    parse_colour,
)

__all__ = ["LAYOUTS", "MIN_TARGET_PX", "Layout", "ScreenBlanker", "UiSettings", "layout_for"]

ROTATIONS = (0, 90, 180, 270)
_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}


@dataclass(frozen=True)
class UiSettings:
    """How the terminal's screen is driven."""

    width_px: int = 800  # the panel's native size (before rotation)
    height_px: int = 480
    rotation: int = 0  # degrees: 0, 90, 180, 270 (touch rotation is the input provider's job)
    fullscreen: bool = False
    show_cursor: bool = False
    blank_after_s: float = 300.0  # black screen after this long idle without a session (0: never)
    virtual_keyboard: bool = True  # Kivy's on-screen keyboard for the username/password form
    accent: str = ""  # the site's accent colour, "#RRGGBB" ("": printgate's blue)
    logo: str = ""  # the site's logo in the header: a PNG or JPEG file ("": none)
    high_contrast: bool = False  # black ground, darker fills: at least 7:1 against the text
    large_text: bool = False  # a quarter larger type, larger touch targets
    animate: bool = True  # the idle screen's card hint pulses (once a second: cheap)

    def __post_init__(self) -> None:
        if self.rotation not in ROTATIONS:
            raise ConfigError(f"display rotation must be one of {ROTATIONS}, not {self.rotation}")
        if min(self.width_px, self.height_px) < 320:
            raise ConfigError(f"display size {self.width_px}x{self.height_px} is too small (min 320 px)")
        if self.blank_after_s < 0:
            raise ConfigError("display blank_after_s must be >= 0")
        if self.logo and not Path(self.logo).is_file():
            raise ConfigError(f"display logo {self.logo!r} is not a file")
        if self.accent:
            parse_colour(self.accent)
        if self.large_text and min(self.width_px, self.height_px) < LARGE_TEXT_SHORT_SIDE_MIN_PX:
            raise ConfigError(
                f"display large_text needs a panel of {LARGE_TEXT_SHORT_SIDE_MIN_PX} px or more"
            )

    @property
    def look(self) -> Look:
        """The site's look on this panel."""
        return Look(self.accent, self.logo, self.high_contrast, self.large_text, self.animate)

    @property
    def logical_size(self) -> tuple[int, int]:
        """The size the screens are laid out in (width and height swap at 90/270 degrees)."""
        if self.rotation in (90, 270):
            return self.height_px, self.width_px
        return self.width_px, self.height_px

    @property
    def layout(self) -> Layout:
        """The preset for this panel in the site's look."""
        return layout_for(*self.logical_size, self.look)

    @classmethod
    def from_mapping(cls, table: Mapping[str, object]) -> UiSettings:
        """Build from the ``[display]`` table; unknown keys and wrong types are a :class:`ConfigError`."""
        known = {field.name: field for field in fields(cls)}
        unknown = set(table) - known.keys()
        if unknown:
            raise ConfigError(f"[display]: unknown key(s) {sorted(unknown)}")
        values: dict[str, Any] = {}
        for key, value in table.items():
            kind = str(known[key].type)
            expected = _TYPES[kind]
            if isinstance(value, bool) is not (kind == "bool") or not isinstance(value, expected):
                raise ConfigError(f"[display] {key}: expected {kind}, got {value!r}")
            values[key] = float(value) if isinstance(value, int | float) and kind == "float" else value
        return cls(**values)


class ScreenBlanker:
    """Black screen after inactivity on the idle screen; the touch that wakes it does nothing else.

    Under KMS there is no DPMS, so the app blanks itself (a black layer on top). Blanking is only
    allowed while nobody is logged in and no message is shown: a session has its own idle logout.
    """

    def __init__(self, blank_after_s: float, now_s: float) -> None:
        self.blank_after_s = blank_after_s
        self._last_activity_s = now_s
        self.blanked = False

    def activity(self, now_s: float) -> None:
        """Something happened (a state change, a card): wake up and restart the timer."""
        self._last_activity_s = now_s
        self.blanked = False

    def touch(self, now_s: float) -> bool:
        """A touch; True when it only woke the screen and must be swallowed."""
        swallowed = self.blanked
        self.activity(now_s)
        return swallowed

    def check(self, now_s: float, may_blank: bool) -> bool:
        """Blank if the time has come and blanking is allowed; returns :attr:`blanked`."""
        if not may_blank:
            self._last_activity_s = max(self._last_activity_s, now_s)
            self.blanked = False
        elif self.blank_after_s and now_s - self._last_activity_s >= self.blank_after_s:
            self.blanked = True
        return self.blanked
