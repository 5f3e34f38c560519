"""The recharge kiosk, without any UI toolkit: engine, cash journal, config, wiring, control lines.

A front end renders :class:`~terminal_app.kiosk.state.KioskState` snapshots from
:meth:`KioskEngine.subscribe` and sends intents with :meth:`KioskEngine.submit`; the Kivy screens
are in :mod:`terminal_app.kiosk.ui`.
"""

from terminal_app.kiosk.config import KioskConfig, load_kiosk_config
from terminal_app.kiosk.core import AcceptorSlot
from terminal_app.kiosk.engine import KioskEngine, KioskSubscriber
from terminal_app.kiosk.journal import CashJournal, JournaledCash, OpenRechargeRecord
from terminal_app.kiosk.settings import KioskSettings
from terminal_app.kiosk.wiring import AcceptorConfig, OpenAcceptors, open_acceptors

__all__ = [
    "AcceptorConfig",
    "AcceptorSlot",
    "CashJournal",
    "JournaledCash",
    "KioskConfig",
    "KioskEngine",
    "KioskSettings",
    "KioskSubscriber",
    "OpenAcceptors",
    "OpenRechargeRecord",
    "load_kiosk_config",
    "open_acceptors",
]
