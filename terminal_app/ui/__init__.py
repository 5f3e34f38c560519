"""The terminal's Kivy touch UI: it renders the session engine's state and sends touches as intents.

Nothing here decides anything: :mod:`terminal_app.ui.screens` builds the visible screen from a
:class:`~terminal_app.core.state.TerminalState`, :mod:`terminal_app.ui.view` holds it on screen and
turns touches into intents, :mod:`terminal_app.ui.app` runs the window beside the engine
(:func:`terminal_app.ui.app.run_ui`). The plain-Python parts (texts, composing input, settings,
blanking) are exported here; the Kivy modules are imported only when a window is wanted, because
Kivy configures its window at import time.
"""

from terminal_app.ui.compose import Composer, JobChoice, visible_screen
from terminal_app.ui.i18n import CATALOGUE, message_text, money, tr
from terminal_app.ui.settings import LAYOUTS, MIN_TARGET_PX, Layout, ScreenBlanker, UiSettings, layout_for

__all__ = [
    "CATALOGUE",
    "LAYOUTS",
    "MIN_TARGET_PX",
    "Composer",
    "JobChoice",
    "Layout",
    "ScreenBlanker",
    "UiSettings",
    "layout_for",
    "message_text",
    "money",
    "tr",
    "visible_screen",
]
