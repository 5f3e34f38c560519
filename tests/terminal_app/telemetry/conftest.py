"""Fleet fixtures (see tests/fleet_rig.py)."""

from tests.fleet_rig import clock, fleet_db, rig  # noqa: F401
