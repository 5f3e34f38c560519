"""Simulated kiosk money devices: ccTalk coin acceptor and note validator, ID-003 note validator,
pulse acceptor, ESC/POS printer.

Written from the protocol facts in ../shared/reference/readers.md §4 and §5, not from
``cash_devices``: a bug in the driver must not be cancelled by the same bug here.
"""

from hw_sim.cash.cctalk_sim import SimCcTalkBus, SimCcTalkDevice, SimCoinAcceptor, SimNoteValidator
from hw_sim.cash.escpos_sim import EscPosParser, SimReceipt, SimReceiptPrinter
from hw_sim.cash.id003_sim import SimId003Validator
from hw_sim.cash.pulse_sim import SimPulseAcceptor, VirtualClockFactory

__all__ = [
    "EscPosParser",
    "SimCcTalkBus",
    "SimCcTalkDevice",
    "SimCoinAcceptor",
    "SimId003Validator",
    "SimNoteValidator",
    "SimPulseAcceptor",
    "SimReceipt",
    "SimReceiptPrinter",
    "VirtualClockFactory",
]
