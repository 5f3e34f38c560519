"""The hub client: the only part of ``terminal_app`` that speaks protobuf.

:class:`HubClient` takes and returns the plain values of :mod:`terminal_app.hub.values`;
:mod:`terminal_app.hub.wire` converts them to and from the messages, and
:class:`~terminal_app.hub.channel.HubChannel` carries the calls (identity, deadlines, retries, errors).
"""

from terminal_app.hub.channel import CHANNEL_OPTIONS, RETRIED_METHODS, HubChannel, error_for_status
from terminal_app.hub.client import HubClient

__all__ = ["CHANNEL_OPTIONS", "RETRIED_METHODS", "HubChannel", "HubClient", "error_for_status"]
