"""The terminal engine's Scan tile: the scan profiles the session may pick, and the pick.

The MFP's own scan-to-e-mail sends the scan to the hub; the hub gives it to whoever is logged in
at this printer, with the profile picked here (the hub's default, "Scan to me", until one is).
The profiles are listed right after an online login; a hub that takes no scans from this
printer (or an older hub) leaves the tile empty. Offline, nothing is listed: scans need the hub.
"""

from __future__ import annotations

import logging

from terminal_app.errors import HubCallError, NotSupported, Refused
from terminal_app.hub.values import ScanMenu
from terminal_app.terminal.core import TerminalCore
from terminal_app.terminal.state import ChooseScanProfile, MessageKey, ScanProfileView

__all__ = ["ScanTile", "scan_profile_views"]

log = logging.getLogger(__name__)


def scan_profile_views(menu: ScanMenu) -> tuple[ScanProfileView, ...]:
    """The hub's scan menu as the UI shows it."""
    return tuple(
        ScanProfileView(c.profile_id, c.name_en, c.name_de, c.price_per_page_cents, c.searchable)
        for c in menu.choices
    )


class ScanTile(TerminalCore):
    """The session's scan profiles (see the module docstring)."""

    async def _load_scan_profiles(self) -> None:
        session = self._session
        if session is None or session.offline:
            return
        try:
            menu = await self.hub.scan_menu(session.token)
        except (NotSupported, Refused) as exc:
            log.info("terminal: no scanning here: %s", exc)
            self._set(scan_profiles=(), scan_profile="")
            return
        except HubCallError as exc:
            log.info("terminal: scan profiles not listed: %s", exc)
            return
        self._set(scan_profiles=scan_profile_views(menu), scan_profile=menu.chosen_id)

    async def _on_choose_scan_profile(self, intent: ChooseScanProfile) -> None:
        session = self._session
        if session is None or session.offline:
            return
        try:
            await self.hub.choose_scan_profile(session.token, intent.profile_id)
        except (NotSupported, Refused):
            self._message(MessageKey.SCAN_UNAVAILABLE)
            return
        except HubCallError as exc:
            self._refused_in_session(exc)
            return
        self._set(scan_profile=intent.profile_id)
