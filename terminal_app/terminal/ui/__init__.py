"""The terminal's Kivy touch UI: it renders the terminal engine's state and sends touches as intents.

:mod:`~terminal_app.terminal.ui.screens` builds the visible screen from a
:class:`~terminal_app.terminal.state.TerminalState`, :mod:`~terminal_app.terminal.ui.view` holds it on
screen inside the shared frame, :mod:`~terminal_app.terminal.ui.app` runs the window beside the
engine. The plain-Python parts (texts, composing input) are exported here; the Kivy modules are
imported only when a window is wanted.
"""

from terminal_app.terminal.ui.compose import Composer, JobChoice, visible_screen
from terminal_app.terminal.ui.i18n import CATALOGUE, message_text, tr

__all__ = ["CATALOGUE", "Composer", "JobChoice", "message_text", "tr", "visible_screen"]
