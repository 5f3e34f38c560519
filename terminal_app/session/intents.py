"""The intents both the terminal and the kiosk take: identification, leaving, touches, the language.

A front end (the Kivy screens, the kiosk's JSON control lines, the card reader task, tests) sends
these to an engine's ``submit``; each role adds its own intents beside them
(:mod:`terminal_app.terminal.state`, :mod:`terminal_app.kiosk.state`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "LANGUAGES",
    "Cancel",
    "CardPresented",
    "DismissMessage",
    "Logout",
    "PasswordEntered",
    "PinEntered",
    "SetLanguage",
    "ShowNotice",
    "Touch",
]

LANGUAGES = ("en", "de")


@dataclass(frozen=True)
class CardPresented:
    """A card was read (from the reader task). ``read_at_s`` is the reader's monotonic time."""

    card_number: str
    read_at_s: float | None = None


@dataclass(frozen=True)
class PinEntered:
    """The PIN pad was confirmed: a second factor, or a PIN-only login on the idle screen."""

    pin: str


@dataclass(frozen=True)
class PasswordEntered:
    """Username and password typed on the idle screen."""

    username: str
    password: str


@dataclass(frozen=True)
class Cancel:
    """Back out of the PIN pad, the unknown-card form or the project choice (logs out a session
    not yet in use)."""


@dataclass(frozen=True)
class Logout:
    """The Logout button."""


@dataclass(frozen=True)
class SetLanguage:
    """Switch the language (on the idle screen, or for this session)."""

    language: str


@dataclass(frozen=True)
class Touch:
    """Any touch: restarts the idle countdown."""


@dataclass(frozen=True)
class DismissMessage:
    """The user closed the message."""


@dataclass(frozen=True)
class ShowNotice:
    """An operator's message for whoever stands at the device (the fleet's ``show_message``),
    shown for ``duration_s``; it does not count as a touch."""

    text: str
    duration_s: float
