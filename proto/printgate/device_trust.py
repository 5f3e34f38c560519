"""How a hub tells a device that it refuses the device itself, not something the device passed on.

A call from a terminal or kiosk whose certificate the hub does not accept (any more) fails with
``UNAUTHENTICATED`` like a card nobody knows; the trailing metadata :data:`REFUSED_HEADER` then
names why, so the device shows "this terminal was disabled" or "enroll again" instead of "card
not recognised". Shared by the hub (which sets it) and devices (which read it): one home.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["REFUSED_HEADER", "DeviceRefusal"]

REFUSED_HEADER = "x-printgate-device-refused"


class DeviceRefusal(StrEnum):
    """Why the hub refuses the calling device (the value of :data:`REFUSED_HEADER`)."""

    REVOKED = "revoked"  # an admin revoked the device (or this certificate): disabled
    EXPIRED = "expired"  # its certificate is not valid now: enroll again
    UNKNOWN = "unknown"  # no certificate of this hub's, or it names no device
