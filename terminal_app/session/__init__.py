"""What the terminal and the kiosk share: the engine skeleton, intents, clock, state, store, reader pump."""

from terminal_app.session.clock import Clock, FakeClock, SystemClock
from terminal_app.session.engine import Refusal, Refusals, SessionEngine, refusal
from terminal_app.session.intents import (
    LANGUAGES,
    Cancel,
    CardPresented,
    DismissMessage,
    Logout,
    PasswordEntered,
    PinEntered,
    SetLanguage,
    Touch,
)
from terminal_app.session.observable import ObservableState
from terminal_app.session.store import open_store

__all__ = [
    "LANGUAGES",
    "Cancel",
    "CardPresented",
    "Clock",
    "DismissMessage",
    "FakeClock",
    "Logout",
    "ObservableState",
    "PasswordEntered",
    "PinEntered",
    "Refusal",
    "Refusals",
    "SessionEngine",
    "SetLanguage",
    "SystemClock",
    "Touch",
    "open_store",
    "refusal",
]
