"""After an update: the new slot is marked good only when the app is idle and the hub answers.

Runs at every boot (``printgate-slot-health.service``). On a slot that is the primary and good
there is nothing to do. On a slot booted as a one-shot trial (:mod:`images.guest.bootchooser`)
it waits up to ``TRIAL_PATIENCE_S`` for both

* the app's unit to be *active*: it is ``Type=notify`` and sends ``READY=1`` only once it shows
  its idle screen, and
* the hub to answer: a gRPC health check on the device port, over mutual TLS with the device's
  own enrolled certificate and the hub CA it pinned (what the app itself will need),

then runs ``rauc status mark-good`` (the trial becomes the primary). If that does not happen in
time, or as soon as the app has failed ``MAX_APP_RESTARTS`` times (a crash loop will not heal),
it marks the slot bad and reboots: the trial was one-shot, so the old slot boots again.
A device not provisioned yet has no app to wait for: reaching this point is enough.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from images.guest.bootchooser import SlotBoot, booted_slot, store_for
from images.guest.layout import Layout
from images.guest.release import Release
from images.guest.status import Status, write_status

__all__ = ["TRIAL_PATIENCE_S", "Checks", "SlotHealth", "main"]

TRIAL_PATIENCE_S = 300.0
MAX_APP_RESTARTS = 5
POLL_S = 5.0
HUB_DEADLINE_S = 5.0


@dataclass
class Checks:
    """The questions the health check asks the system (replaced in tests)."""

    app_active: Callable[[], bool]
    app_restarts: Callable[[], int]
    hub_answers: Callable[[str], bool]
    mark: Callable[[str], None]  # "good" | "bad"
    reboot: Callable[[], None]
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.monotonic


class SlotHealth:
    """One run of the slot health check."""

    def __init__(
        self,
        layout: Layout,
        machine: SlotBoot,
        release: Release,
        checks: Checks,
        patience_s: float = TRIAL_PATIENCE_S,
    ) -> None:
        self.layout = layout
        self.machine = machine
        self.release = release
        self.checks = checks
        self.patience_s = patience_s

    def _say(self, state: str, line: str) -> None:
        print(f"printgate-slot-health: {line}", flush=True)
        write_status(self.layout, Status("update", state, [line]))

    def run(self) -> str:
        """Check the booted slot; returns ``"good"``, ``"committed"`` or ``"rolled-back"``."""
        slot, version = self.machine.booted, self.release.version
        if slot == self.machine.get_primary() and self.machine.get_state(slot) == "good":
            self._say("good", f"slot {slot} (version {version}) is good")
            return "good"
        hub = (
            (self.layout.system / "hub").read_text().split()[0]
            if (self.layout.system / "hub").exists()
            else ""
        )
        provisioned = (self.layout.state / "provisioned").exists()
        deadline = self.checks.now() + self.patience_s
        while True:
            app = self.checks.app_active() if provisioned else True
            answers = self.checks.hub_answers(hub) if provisioned and hub else True
            if app and answers:
                self.checks.mark("good")
                self._say("committed", f"slot {slot} (version {version}) marked good: app idle, hub answered")
                return "committed"
            left = deadline - self.checks.now()
            restarts = self.checks.app_restarts() if provisioned else 0
            if left <= 0 or restarts >= MAX_APP_RESTARTS:
                break
            waiting = "the app's idle screen" if not app else f"the hub {hub}"
            self._say(
                "trial", f"trying slot {slot} (version {version}): waiting for {waiting}, {left:.0f} s left"
            )
            self.checks.sleep(min(POLL_S, left))
        if restarts >= MAX_APP_RESTARTS:
            reason = f"the app failed {restarts} times without reaching its idle screen"
        else:
            reason = "the app never reached its idle screen" if not app else f"the hub {hub} never answered"
        self.checks.mark("bad")
        self._say(
            "rolled-back",
            f"slot {slot} (version {version}) marked bad: {reason}; rebooting into the old slot",
        )
        self.checks.reboot()
        return "rolled-back"


def _app_active() -> bool:
    done = subprocess.run(["systemctl", "is-active", "--quiet", "printgate.service"], check=False)
    return done.returncode == 0


def _app_restarts() -> int:
    done = subprocess.run(
        ["systemctl", "show", "--value", "--property=NRestarts", "printgate.service"],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(done.stdout.strip() or 0)


def _hub_answers(address: str) -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from terminal_app.hub.enrollment.state import CredentialStore

    credentials = CredentialStore(Layout().identity).current()
    if credentials is None:
        return False
    tls = grpc.ssl_channel_credentials(*credentials.channel_material())
    with grpc.secure_channel(address, tls) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=HUB_DEADLINE_S
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def _rauc_mark(state: str) -> None:
    subprocess.run(["rauc", "status", f"mark-{state}"], check=True)


def _reboot() -> None:
    subprocess.run(["systemctl", "reboot"], check=False)


def main(argv: Sequence[str] = ()) -> int:
    """``printgate-device slot-health``."""
    layout = Layout()
    release = Release.read(layout)
    machine = SlotBoot(store_for(release.board(), layout), booted_slot(Path("/proc/cmdline").read_text()))
    checks = Checks(_app_active, _app_restarts, _hub_answers, _rauc_mark, _reboot)
    SlotHealth(layout, machine, release, checks).run()
    return 0
