"""The kiosk's Kivy touch UI: screens, texts (EN/DE) and the window around the kiosk engine.

:mod:`~terminal_app.kiosk.ui.screens` builds the visible screen from a
:class:`~terminal_app.kiosk.state.KioskState`, :mod:`~terminal_app.kiosk.ui.view` holds it inside the
shared frame, :mod:`~terminal_app.kiosk.ui.app` runs the window. Kivy is imported only when a window
is wanted.
"""
