"""The kiosk's root widget: the shared frame around the kiosk's screens.

:class:`KioskView` is the kiosk's :class:`~terminal_app.ui.view.BaseView`: given each new
:class:`KioskState` and a ``submit`` function, it draws the screen
:mod:`terminal_app.kiosk.ui.screens` builds inside the status and message bars every device shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.uix.widget import Widget

from terminal_app.kiosk.state import KioskIntent, KioskState
from terminal_app.kiosk.ui.i18n import kiosk_message_text, ktr
from terminal_app.kiosk.ui.screens import (
    KIOSK_SEVERITY,
    SUMMARY_MESSAGES,
    KioskComposer,
    KioskContext,
    build_kiosk_screen,
)
from terminal_app.ui.theme import Look
from terminal_app.ui.view import BaseView

__all__ = ["KioskView"]


class KioskView(BaseView[KioskState]):
    """Everything on the kiosk's screen (see the module docstring)."""

    def __init__(
        self, submit: Callable[[KioskIntent], None], look: Look | None = None, **kwargs: Any
    ) -> None:
        self.composer = KioskComposer()
        super().__init__(submit, KioskState(), look, **kwargs)

    def build_body(self) -> tuple[str, Widget]:
        """The kiosk's screen for the state and what the user is typing."""
        context = KioskContext(self.state, self.composer, self.layout, self.submit, self.redraw_soon)
        return build_kiosk_screen(context)

    def text(self, key: str, **args: object) -> str:
        """A kiosk text in the state's language."""
        return ktr(self.state.language, key, **args)

    def message_text(self) -> str:
        """The state's message in words."""
        return kiosk_message_text(self.state)

    def severity(self) -> str:
        """How the message is shown."""
        return KIOSK_SEVERITY.get(self.state.message, "info") if self.state.message else "info"

    def shows_message_bar(self) -> bool:
        """The summary screen already shows the amounts the message names."""
        return self.state.message is not None and not (
            self.screen_name == "summary" and self.state.message in SUMMARY_MESSAGES
        )

    def follow(self, state: KioskState) -> None:
        """A new engine screen drops whatever was typed for the old one."""
        self.composer.follow(state)
