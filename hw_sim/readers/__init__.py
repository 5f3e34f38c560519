"""Simulated card readers, each speaking its real wire protocol over a real transport."""

from hw_sim.readers.serial_sim import SERIAL_PROTOCOLS, SerialReaderSim, SimEvent

__all__ = ["SERIAL_PROTOCOLS", "SerialReaderSim", "SimEvent"]
