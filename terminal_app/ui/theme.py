"""The look of every terminal and kiosk screen, as data: spacing, type scale, colours and icons.

One :class:`Layout` per panel class (800x480, 1024x600, 1280x800, chosen by the short side after
rotation) gives the sizes; a site's :class:`Look` (the ``[display]`` table: accent colour, logo,
high contrast, large text, animation) is applied on top by :func:`layout_for`. Widgets take their
sizes and colours from the layout only, so a screen never names a pixel or a colour itself.

Icons are glyphs of Google's Material Icons font (Apache License 2.0; the subset in ``fonts/`` was
cut from Debian's ``fonts-material-design-icons-iconfont``, its licence beside it), addressed by
name through :data:`ICONS`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from terminal_app.errors import ConfigError

__all__ = [
    "HIGH_CONTRAST",
    "ICONS",
    "ICON_FONT",
    "LARGE_TEXT_SHORT_SIDE_MIN_PX",
    "LAYOUTS",
    "MIN_TARGET_PX",
    "PALETTE",
    "RGBA",
    "TEXT_FONT",
    "Layout",
    "Look",
    "layout_for",
    "parse_colour",
]

MIN_TARGET_PX = 48  # about 9 mm on a 7" 800x480 panel: a gloved thumb
RGBA = tuple[float, float, float, float]

ICON_FONT = str(Path(__file__).with_name("fonts") / "MaterialIcons-subset.ttf")
# DejaVu Sans (bundled with Kivy) has check boxes, bullets and arrows; Roboto has not.
TEXT_FONT = "data/fonts/DejaVuSans.ttf"

# Material Icons code points by name (the subset holds exactly these).
ICONS: dict[str, str] = {
    "print": "\ue8ad",
    "copy": "\ue14d",
    "wallet": "\ue850",
    "scan": "\ue329",
    "star": "\ue838",
    "star_outline": "\ue83a",
    "person": "\ue7fd",
    "send": "\ue163",
    "person_add": "\ue7fe",
    "group": "\ue7ef",
    "logout": "\ue9ba",
    "contactless": "\uea71",
    "nfc": "\ue1bb",
    "warning": "\ue002",
    "error": "\ue000",
    "info": "\ue88e",
    "place": "\ue0c8",
    "search": "\ue8b6",
    "delete": "\ue872",
    "back": "\ue5c4",
    "done": "\ue86c",
    "language": "\ue894",
    "dialpad": "\ue0bc",
    "keyboard": "\ue312",
    "payments": "\uef63",
    "receipt": "\ue8b0",
    "voucher": "\ue8b1",
    "offline": "\ue2c1",
    "lock": "\ue897",
    "lock_open": "\ue898",
    "hourglass": "\ue88b",
    "document": "\ue873",
    "reprint": "\ue042",
    "build": "\ue869",
    "check": "\ue5ca",
    "close": "\ue5cd",
    "backspace": "\ue14a",
    "printer": "\ue555",
    "touch": "\ue913",
    "card": "\ue870",
    "shared": "\ue2c9",
    "checked": "\ue834",
    "unchecked": "\ue835",
    "minus": "\ue15b",
    "plus": "\ue145",
    "savings": "\ue2eb",
    "clock": "\ue8b5",
    "blocked": "\ue14b",
    "stack": "\ue53b",
}

# Colour roles. Text is white on every fill; each fill keeps at least 4.5:1 against it (WCAG AA),
# the high-contrast set at least 7:1 (AAA) on a black ground.
PALETTE: dict[str, RGBA] = {
    "background": (0.07, 0.09, 0.11, 1),
    "panel": (0.12, 0.15, 0.18, 1),
    "tile": (0.16, 0.2, 0.25, 1),
    "normal": (0.2, 0.33, 0.5, 1),
    "primary": (0.09, 0.4, 0.75, 1),  # replaced by the site's accent colour
    "danger": (0.66, 0.17, 0.15, 1),
    "quiet": (0.25, 0.29, 0.34, 1),
    "selected": (0.6, 0.38, 0.0, 1),
    "info": (0.14, 0.3, 0.5, 1),
    "warning": (0.58, 0.34, 0.0, 1),
    "error": (0.66, 0.13, 0.11, 1),
    "success": (0.1, 0.45, 0.24, 1),
    "black": (0, 0, 0, 1),
    "text": (1, 1, 1, 1),
    "muted": (0.74, 0.78, 0.83, 1),
}
HIGH_CONTRAST: dict[str, RGBA] = {
    **PALETTE,
    "background": (0, 0, 0, 1),
    "panel": (0, 0, 0, 1),
    "tile": (0.1, 0.1, 0.1, 1),
    "normal": (0.0, 0.2, 0.67, 1),
    "primary": (0.0, 0.2, 0.67, 1),
    "danger": (0.64, 0.0, 0.0, 1),
    "quiet": (0.2, 0.2, 0.2, 1),
    "selected": (0.42, 0.25, 0.0, 1),
    "info": (0.0, 0.2, 0.67, 1),
    "warning": (0.42, 0.25, 0.0, 1),
    "error": (0.64, 0.0, 0.0, 1),
    "success": (0.0, 0.35, 0.1, 1),
    "muted": (1, 1, 1, 1),
}

_HEX_COLOUR = re.compile(r"#?([0-9a-fA-F]{6})")


def parse_colour(text: str) -> RGBA:
    """``"#1a73e8"`` as RGBA (a :class:`ConfigError` for anything else)."""
    found = _HEX_COLOUR.fullmatch(text.strip())
    if found is None:
        raise ConfigError(f'[display] accent {text!r}: expected a colour like "#1a73e8"')
    value = int(found.group(1), 16)
    return ((value >> 16) / 255, ((value >> 8) & 0xFF) / 255, (value & 0xFF) / 255, 1.0)


@dataclass(frozen=True)
class Look:
    """A site's look: accent colour (``"#RRGGBB"``, ``""``: the default), a logo (a PNG or JPEG file
    shown in the header, ``""``: none), high contrast, large text, and whether the idle hint pulses."""

    accent: str = ""
    logo: str = ""
    high_contrast: bool = False
    large_text: bool = False
    animate: bool = True

    def __post_init__(self) -> None:
        if self.accent:
            parse_colour(self.accent)

    def colours(self) -> dict[str, RGBA]:
        """The colour roles of this look."""
        colours = dict(HIGH_CONTRAST if self.high_contrast else PALETTE)
        if self.accent:
            colours["primary"] = parse_colour(self.accent)
        return colours


@dataclass(frozen=True)
class Layout:
    """Sizes in pixels for one panel class and the colours of a look.

    Spacing steps are multiples of ``padding_px``: ``padding_px`` between widgets, ``margin_px``
    around the screen. Type: ``small_px`` < ``font_px`` < ``title_px`` < ``display_px``.
    """

    name: str
    font_px: int  # body text
    title_px: int  # screen titles and live figures
    target_px: int  # height (and minimum width) of every button
    padding_px: int
    colours: Mapping[str, RGBA] = field(default_factory=lambda: dict(PALETTE), compare=False)
    logo: str = ""
    animate: bool = True
    large: bool = False  # the large-text mode: screens put less side by side

    @property
    def small_px(self) -> int:
        """Secondary text (job details, status lines)."""
        return max(14, self.font_px * 4 // 5)

    @property
    def display_px(self) -> int:
        """The idle screen's hint and big figures."""
        return self.title_px * 4 // 3

    @property
    def icon_px(self) -> int:
        """Icons on tiles and the idle screen."""
        return self.target_px * 3 // 4

    @property
    def margin_px(self) -> int:
        """Around the whole screen."""
        return self.padding_px * 2

    @property
    def header_px(self) -> int:
        """The header bar (logo, user, balance, printer and location, countdown)."""
        return self.target_px * 3 // 4

    @property
    def tile_px(self) -> int:
        """The height of a home screen tile."""
        return self.target_px * 5 // 2

    def colour(self, role: str) -> RGBA:
        """The colour of a role (``"primary"``, ``"warning"``, ``"text"`` …)."""
        return self.colours[role]


LAYOUTS: dict[str, Layout] = {
    "800x480": Layout("800x480", font_px=20, title_px=28, target_px=64, padding_px=8),
    "1024x600": Layout("1024x600", font_px=24, title_px=34, target_px=76, padding_px=10),
    "1280x800": Layout("1280x800", font_px=28, title_px=42, target_px=96, padding_px=14),
}
# The preset for a panel whose short side is at least this many pixels (largest first).
_BY_SHORT_SIDE = ((800, "1280x800"), (600, "1024x600"), (0, "800x480"))
LARGE_TEXT_PERCENT = 125  # the large-text mode's type scale (touch targets grow with it)
LARGE_TEXT_SHORT_SIDE_MIN_PX = 600  # large text needs a 1024x600 panel or larger: 800x480 has no room


def layout_for(width_px: int, height_px: int, look: Look | None = None) -> Layout:
    """The preset for a window of this size (portrait or landscape) in a site's look."""
    look = look or Look()
    short = min(width_px, height_px)
    base = next(LAYOUTS[name] for floor, name in _BY_SHORT_SIDE if short >= floor)
    if look.large_text:
        base = replace(
            base,
            font_px=base.font_px * LARGE_TEXT_PERCENT // 100,
            title_px=base.title_px * LARGE_TEXT_PERCENT // 100,
            target_px=base.target_px * LARGE_TEXT_PERCENT // 100,
            large=True,
        )
    return replace(base, colours=look.colours(), logo=look.logo, animate=look.animate)
