"""What both roles' Kivy screens share: widgets, layouts, the base view with the status bar, the app.

The screens themselves are each role's (:mod:`terminal_app.terminal.ui`, :mod:`terminal_app.kiosk.ui`).
Nothing here decides anything: a view renders an engine's state and turns touches into intents.
The plain-Python parts (settings, layouts, blanking, money) are exported here; the Kivy modules are
imported only when a window is wanted, because Kivy configures its window at import time.
"""

from terminal_app.ui.i18n import money
from terminal_app.ui.settings import LAYOUTS, MIN_TARGET_PX, Layout, ScreenBlanker, UiSettings, layout_for

__all__ = ["LAYOUTS", "MIN_TARGET_PX", "Layout", "ScreenBlanker", "UiSettings", "layout_for", "money"]
