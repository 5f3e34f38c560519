"""Device enrollment: from one token to a client certificate, and renewal at two thirds of its
life. Its errors are :mod:`terminal_app.errors`' (``EnrollmentError`` and below; a token none
of whose hubs answers raises ``HubUnreachable``).

Use::

    enrollment = DeviceEnrollment(state_dir, "terminal")
    await enrollment.enroll(token_text)          # first start
    await enrollment.renew_if_due()              # now and then
    credentials = enrollment.store.require(now)  # ReenrollRequired once expired
    grpc.ssl_channel_credentials(*credentials.channel_material())
"""

from __future__ import annotations

from terminal_app.hub.enrollment.client import DeviceEnrollment, fetch_trust_anchor
from terminal_app.hub.enrollment.state import Credentials, CredentialState, CredentialStore

__all__ = [
    "CredentialState",
    "CredentialStore",
    "Credentials",
    "DeviceEnrollment",
    "fetch_trust_anchor",
]
