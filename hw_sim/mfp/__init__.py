"""A simulated MFP: SNMP agent, 9100/PJL, LPD and IPP sinks, FIH pins. See :class:`MfpSimServer`."""

from hw_sim.mfp.fih import FihCopier
from hw_sim.mfp.model import HistoryEntry, JobRecord, SimulatedMfp
from hw_sim.mfp.server import MfpSimServer

__all__ = ["FihCopier", "HistoryEntry", "JobRecord", "MfpSimServer", "SimulatedMfp"]
