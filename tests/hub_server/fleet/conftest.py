"""Fleet fixtures (see tests/fleet_rig.py and tests/fleet_hub.py)."""

from tests.fleet_hub import fleet_hub  # noqa: F401
from tests.fleet_rig import clock, fleet_db, rig  # noqa: F401
