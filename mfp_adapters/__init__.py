"""MFP adapters: SNMP identity/counters/status/supplies per vendor profile, copy-session
metering, panel lock (FIH on GPIO, vendor platforms), and job release transports
(raw 9100 + PJL, LPD, IPP).

Stands alone: imports nothing else of printgate. Errors: :mod:`mfp_adapters.errors`.
"""

from mfp_adapters.device import (
    Alert,
    Counters,
    Identity,
    MfpSnmp,
    PaperTray,
    ProbeResult,
    Status,
    Supply,
    trays_needing_paper,
)
from mfp_adapters.errors import MfpError
from mfp_adapters.metering import CopyMeter, MeterUsage, reconcile
from mfp_adapters.mib import TrayState
from mfp_adapters.panel import EmbeddedPlatformAdapter, FihPanelLock, PanelLock, PulseCounts
from mfp_adapters.pjl import JobOverrides, PjlRewriter, PjlStatus
from mfp_adapters.profiles import Profile, load_profiles, select_profile
from mfp_adapters.release import (
    IppJobStatus,
    IppTransport,
    LpdTransport,
    Raw9100Transport,
    ReleaseResult,
    ReleaseTransport,
    SendStart,
    StartHook,
    ipp_job_status,
    pjl_status,
)
from mfp_adapters.snmp import CommunityAuth, SnmpClient, UsmAuth

__all__ = [
    "Alert",
    "CommunityAuth",
    "CopyMeter",
    "Counters",
    "EmbeddedPlatformAdapter",
    "FihPanelLock",
    "Identity",
    "IppJobStatus",
    "IppTransport",
    "JobOverrides",
    "LpdTransport",
    "MeterUsage",
    "MfpError",
    "MfpSnmp",
    "PanelLock",
    "PaperTray",
    "PjlRewriter",
    "PjlStatus",
    "ProbeResult",
    "Profile",
    "PulseCounts",
    "Raw9100Transport",
    "ReleaseResult",
    "ReleaseTransport",
    "SendStart",
    "SnmpClient",
    "StartHook",
    "Status",
    "Supply",
    "TrayState",
    "UsmAuth",
    "ipp_job_status",
    "load_profiles",
    "pjl_status",
    "reconcile",
    "select_profile",
    "trays_needing_paper",
]
