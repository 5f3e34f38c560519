"""Display settings of a terminal (the ``[display]`` table of terminal.toml) and the layout presets.

Layouts are data: one :class:`Layout` per supported panel (800x480, 1024x600, 1280x800), chosen
by the panel's short side after rotation, so a portrait-mounted 7" panel gets the 7" sizes.
Every touch target is at least ``MIN_TARGET_PX`` (48 px, about 9 mm on a 7" 800x480 panel).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from terminal_app.errors import ConfigError

__all__ = ["LAYOUTS", "MIN_TARGET_PX", "Layout", "ScreenBlanker", "UiSettings", "layout_for"]

MIN_TARGET_PX = 48
ROTATIONS = (0, 90, 180, 270)


@dataclass(frozen=True)
class Layout:
    """Sizes in pixels for one panel class."""

    name: str
    font_px: int  # body text
    title_px: int  # screen titles and live figures
    target_px: int  # height (and minimum width) of every button
    padding_px: int

    @property
    def small_px(self) -> int:
        """Secondary text (job details, status lines)."""
        return max(14, self.font_px * 4 // 5)


LAYOUTS: dict[str, Layout] = {
    "800x480": Layout("800x480", font_px=20, title_px=30, target_px=64, padding_px=8),
    "1024x600": Layout("1024x600", font_px=24, title_px=36, target_px=76, padding_px=10),
    "1280x800": Layout("1280x800", font_px=28, title_px=44, target_px=96, padding_px=14),
}
# The preset for a panel whose short side is at least this many pixels (largest first).
_BY_SHORT_SIDE = ((800, "1280x800"), (600, "1024x600"), (0, "800x480"))


def layout_for(width_px: int, height_px: int) -> Layout:
    """The preset for a window of this size (portrait or landscape)."""
    short = min(width_px, height_px)
    return next(LAYOUTS[name] for floor, name in _BY_SHORT_SIDE if short >= floor)


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

    def __post_init__(self) -> None:
        if self.rotation not in ROTATIONS:
            raise ConfigError(f"display rotation must be one of {ROTATIONS}, not {self.rotation}")
        if min(self.width_px, self.height_px) < 320:
            raise ConfigError(f"display size {self.width_px}x{self.height_px} is too small (min 320 px)")
        if self.blank_after_s < 0:
            raise ConfigError("display blank_after_s must be >= 0")

    @property
    def logical_size(self) -> tuple[int, int]:
        """The size the screens are laid out in (width and height swap at 90/270 degrees)."""
        if self.rotation in (90, 270):
            return self.height_px, self.width_px
        return self.width_px, self.height_px

    @property
    def layout(self) -> Layout:
        """The preset for this panel."""
        return layout_for(*self.logical_size)

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
            expected: tuple[type, ...] = {"int": (int,), "float": (int, float), "bool": (bool,)}[kind]
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
