"""Device enrollment: from one token to a client certificate, and renewal at two thirds of its
life. Imports only the ``printgate`` contract and third-party libraries.

Use::

    enrollment = DeviceEnrollment(state_dir, "terminal")
    await enrollment.enroll(token_text)          # first start
    await enrollment.renew_if_due()              # now and then
    credentials = enrollment.store.require(now)  # ReenrollRequired once expired
    grpc.ssl_channel_credentials(*credentials.channel_material())
"""

from __future__ import annotations

from terminal_app.hub.enrollment.client import DeviceEnrollment, fetch_trust_anchor
from terminal_app.hub.enrollment.errors import (
    EnrollmentError,
    EnrollmentRefused,
    HubNotTrusted,
    HubUnreachable,
    ReenrollRequired,
    TokenInvalid,
)
from terminal_app.hub.enrollment.state import Credentials, CredentialState, CredentialStore

__all__ = [
    "CredentialState",
    "CredentialStore",
    "Credentials",
    "DeviceEnrollment",
    "EnrollmentError",
    "EnrollmentRefused",
    "HubNotTrusted",
    "HubUnreachable",
    "ReenrollRequired",
    "TokenInvalid",
    "fetch_trust_anchor",
]
