"""Simulated card readers, each speaking its real wire protocol over a real transport."""

from hw_sim.readers.history import SimEvent
from hw_sim.readers.nfc_tag import NfcTagSim
from hw_sim.readers.serial_sim import SERIAL_PROTOCOLS, SerialReaderSim
from hw_sim.readers.vpcd_card import MIFARE_1K_ATR, VirtualCard
from hw_sim.readers.wedge_sim import LAYOUTS, WedgeSim, keystrokes

__all__ = [
    "LAYOUTS",
    "MIFARE_1K_ATR",
    "SERIAL_PROTOCOLS",
    "NfcTagSim",
    "SerialReaderSim",
    "SimEvent",
    "VirtualCard",
    "WedgeSim",
    "keystrokes",
]
