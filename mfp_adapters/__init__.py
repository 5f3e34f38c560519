"""MFP adapters: SNMP identity/counters/status/supplies per vendor profile, copy-session
metering, panel lock (FIH on GPIO), and job release transports (raw 9100 + PJL, LPD, IPP).

Stands alone: imports nothing else of printgate.
"""

from mfp_adapters.device import Alert, Counters, Identity, MfpSnmp, ProbeResult, Status, Supply
from mfp_adapters.errors import MfpError
from mfp_adapters.profiles import Profile, load_profiles, select_profile
from mfp_adapters.snmp import CommunityAuth, SnmpClient, UsmAuth

__all__ = [
    "Alert",
    "CommunityAuth",
    "Counters",
    "Identity",
    "MfpError",
    "MfpSnmp",
    "ProbeResult",
    "Profile",
    "SnmpClient",
    "Status",
    "Supply",
    "UsmAuth",
    "load_profiles",
    "select_profile",
]
