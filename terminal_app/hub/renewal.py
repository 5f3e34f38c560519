"""Keeping a running device's certificate current.

:meth:`CertificateRenewal.check` (once at start, then every ``check_s``; every
``refused_check_s`` while the hub refuses the device):

* takes credentials that appeared in the state directory beside the running app into the
  channel (the device was enrolled again, ``printgate terminal enroll``): a disabled terminal
  comes back without a restart;
* renews the certificate once two thirds of its life are past, over the channel's mutual TLS,
  and hands the new one to the channel. A hub that cannot be reached is asked again at the next
  check; the old certificate stays valid until its end, so a terminal offline for a week renews
  when it is back, and one offline past the end shows that it must be enrolled again.
"""

from __future__ import annotations

import asyncio
import logging

from terminal_app.errors import EnrollmentRefused, HubUnreachable, ReenrollRequired
from terminal_app.hub.channel import HubChannel
from terminal_app.hub.enrollment import Credentials, DeviceEnrollment

__all__ = ["CHECK_S", "REFUSED_CHECK_S", "CertificateRenewal"]

log = logging.getLogger(__name__)
CHECK_S = 3600.0
REFUSED_CHECK_S = 10.0


class CertificateRenewal:
    """Renews the certificate of ``enrollment``'s device and keeps ``channel`` on the newest."""

    def __init__(
        self,
        enrollment: DeviceEnrollment,
        channel: HubChannel,
        *,
        check_s: float = CHECK_S,
        refused_check_s: float = REFUSED_CHECK_S,
    ) -> None:
        self._enrollment = enrollment
        self._channel = channel
        self._check_s = check_s
        self._refused_check_s = refused_check_s

    async def check(self) -> Credentials | None:
        """One check; the credentials the channel calls with from now on, when they changed."""
        stored = self._enrollment.store.current()
        if stored is None:
            return None
        changed = None
        if stored.certificate != self._channel.credentials.certificate:
            log.warning(
                "device %s: new credentials in the state directory: calling with them", stored.device_id
            )
            self._channel.use(stored)
            changed = stored
        try:
            renewed = await self._enrollment.renew_if_due()
        except ReenrollRequired:
            return changed  # expired: the channel refuses to call, the device says "enroll again"
        except HubUnreachable as error:
            log.warning("certificate renewal: %s; trying again in %.0f s", error, self._check_s)
            return changed
        except EnrollmentRefused as error:
            log.error("certificate renewal refused: %s", error)
            return changed
        if renewed is None:
            return changed
        self._channel.use(renewed)
        return renewed

    async def run(self) -> None:
        """Check now and then, until cancelled."""
        while True:
            await self.check()
            refused = self._channel.refusal is not None
            await asyncio.sleep(self._refused_check_s if refused else self._check_s)
