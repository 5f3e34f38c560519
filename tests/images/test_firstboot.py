"""First-boot provisioning against a device layout in a temporary directory.

The steps run as on the device (files, fsyncs, renames); what only a device has is replaced
by recorders: applying network/time settings to the running system, restarting the app, and
the enroll command (its exit codes as the trust issue's CLI will give them). A power cut is
an exception thrown at a step boundary, after which a new run must finish the job.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from images.guest.firstboot import (
    APPLIED_NAME,
    EXIT_ENROLL_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    STEPS,
    EnrollResult,
    FirstBoot,
)
from images.guest.layout import Layout
from images.guest.status import read_statuses
from images.provisioning import FILE_NAME, SCRUBBED
from tests.images.test_provisioning import PSK

TOKEN = "pgt1-token-abcdef"
TOKEN_FILE = PSK.replace(
    'terminal_id = "lib-2"\nterminal_key = "k3y-Secret"', f'enrollment_token = "{TOKEN}"'
)


class PowerCut(BaseException):
    """The machine stops here."""


class Device:
    """A layout plus recorders for what the device would do to its running system."""

    def __init__(self, root: Path) -> None:
        self.layout = Layout(root)
        self.layout.boot.mkdir(parents=True)
        self.layout.data.mkdir(parents=True)
        self.applied = 0
        self.app_starts = 0
        self.enroll_calls: list[list[str]] = []
        self.enroll_codes: list[int] = []

    def drop(self, text: str) -> None:
        (self.layout.boot / FILE_NAME).write_text(text)

    def enroll(self, command: Sequence[str]) -> EnrollResult:
        self.enroll_calls.append(list(command))
        code = self.enroll_codes.pop(0)
        return EnrollResult(code, f"enroll said {code} for {command[command.index('--token') + 1]}")

    def firstboot(self, kind: type[FirstBoot] = FirstBoot) -> FirstBoot:
        def apply(layout: Layout) -> None:
            self.applied += 1

        def start() -> None:
            self.app_starts += 1

        return kind(
            self.layout,
            printgate="printgate",
            enroll=self.enroll,
            sleep=lambda s: None,
            patience_s=3600,
            apply_system=apply,
            start_app=start,
        )

    def data_files(self) -> set[str]:
        return {str(p.relative_to(self.layout.data)) for p in self.layout.data.rglob("*") if p.is_file()}


@pytest.fixture
def device(tmp_path: Path) -> Device:
    return Device(tmp_path)


def test_a_pre_shared_key_file_is_applied_and_scrubbed(
    device: Device, capsys: pytest.CaptureFixture[str]
) -> None:
    device.drop(PSK)
    assert device.firstboot().run() == EXIT_OK
    state = device.layout.state
    assert (state / "role").read_text() == "terminal\n"
    assert 'terminal_id = "lib-2"' in (state / "terminal.toml").read_text()
    assert (state / "terminal.key").read_text() == "k3y-Secret\n"
    assert (state / "terminal.key").stat().st_mode & 0o777 == 0o600
    assert (device.layout.system / "hostname").read_text() == "printgate-lib-2\n"
    assert (device.layout.ssh / "authorized_keys").read_text().startswith("ssh-ed25519 ")
    assert (state / "provisioned").exists()
    assert not (device.layout.boot / FILE_NAME).exists()
    applied = (device.layout.boot / APPLIED_NAME).read_text()
    assert f'terminal_key = "{SCRUBBED}"' in applied and "k3y-Secret" not in applied
    assert "k3y-Secret" not in (device.layout.provisioning / FILE_NAME).read_text()
    assert json.loads((device.layout.provisioning / "state.json").read_text())["done"] == list(STEPS)
    assert (device.applied, device.app_starts, device.enroll_calls) == (1, 1, [])
    assert read_statuses(device.layout)["provisioning"].state == "provisioned"
    assert "k3y-Secret" not in capsys.readouterr().out
    assert device.firstboot().run() == EXIT_OK  # the next boot: nothing to do
    assert (device.applied, device.app_starts) == (1, 1)


def test_a_bad_file_changes_nothing(device: Device, capsys: pytest.CaptureFixture[str]) -> None:
    bad = PSK.replace("rotation = 90", "rotation = 45")
    device.drop(bad)
    assert device.firstboot().run() == EXIT_INVALID
    assert (device.layout.boot / FILE_NAME).read_text() == bad
    assert device.data_files() == set()
    assert not (device.layout.boot / APPLIED_NAME).exists()
    status = read_statuses(device.layout)["provisioning"]
    assert status.state == "invalid"
    assert "display.rotation must be one of 0, 90, 180, 270" in status.detail
    assert "display.rotation must be one of 0, 90, 180, 270" in capsys.readouterr().out


def test_a_bad_file_after_provisioning_leaves_the_device_as_it_was(device: Device) -> None:
    device.drop(PSK)
    device.firstboot().run()
    before = {
        name: (device.layout.data / name).read_bytes() for name in device.data_files() if "state" not in name
    }
    device.drop("role = 'terminal'\n[hub]\naddresses = []\n")
    assert device.firstboot().run() == EXIT_INVALID
    assert {name: (device.layout.data / name).read_bytes() for name in before} == before
    assert (device.layout.state / "provisioned").exists()


class CutAt(FirstBoot):
    """Loses power at a step boundary: just before, or just after, the step is recorded."""

    cut_after = ""
    recorded = False

    def _mark(self, record: Any, step: str) -> None:
        if step == self.cut_after and not self.recorded:
            raise PowerCut
        super()._mark(record, step)
        if step == self.cut_after:
            raise PowerCut


class ZeroesThenCut(FirstBoot):
    """Loses power after zeroing printgate.toml in place, before removing it."""

    def _scrub(self, text: str) -> None:
        (self.layout.boot / FILE_NAME).write_bytes(b"\0" * len(text))
        raise PowerCut


@pytest.mark.parametrize("cut_after", STEPS)
@pytest.mark.parametrize("recorded", [False, True])
def test_a_power_cut_at_any_step_is_finished_by_the_next_boot(
    device: Device, cut_after: str, recorded: bool
) -> None:
    device.drop(PSK)
    cutting = type("Cutting", (CutAt,), {"cut_after": cut_after, "recorded": recorded})
    with pytest.raises(PowerCut):
        device.firstboot(cutting).run()
    assert (device.layout.state / "provisioned").exists() == (cut_after == "ready")
    assert device.firstboot().run() == EXIT_OK
    assert (device.layout.state / "provisioned").exists()
    assert not (device.layout.boot / FILE_NAME).exists()
    assert "k3y-Secret" not in (device.layout.boot / APPLIED_NAME).read_text()
    assert (device.layout.state / "terminal.key").read_text() == "k3y-Secret\n"
    assert json.loads((device.layout.provisioning / "state.json").read_text())["done"] == list(STEPS)


def test_a_token_is_handed_to_the_enroll_command_and_retried_while_the_hub_is_away(device: Device) -> None:
    device.drop(TOKEN_FILE)
    device.enroll_codes = [3, 3, 0]
    assert device.firstboot().run() == EXIT_OK
    assert len(device.enroll_calls) == 3
    assert device.enroll_calls[0] == [
        "printgate",
        "terminal",
        "enroll",
        "--token",
        TOKEN,
        "--state-dir",
        str(device.layout.identity),
    ]
    assert device.layout.identity.is_dir()
    assert TOKEN not in (device.layout.boot / APPLIED_NAME).read_text()
    assert "key_file" not in (device.layout.state / "terminal.toml").read_text()


def test_a_refused_token_is_kept_and_shown_without_its_value(
    device: Device, capsys: pytest.CaptureFixture[str]
) -> None:
    device.drop(TOKEN_FILE)
    device.enroll_codes = [1]
    assert device.firstboot().run() == EXIT_ENROLL_FAILED
    assert (device.layout.boot / FILE_NAME).read_text() == TOKEN_FILE  # a new token replaces it
    assert not (device.layout.state / "provisioned").exists()
    status = read_statuses(device.layout)["provisioning"]
    assert status.state == "enroll-failed"
    assert "the hub refused the token" in status.detail[0]
    assert status.detail[1] == "enroll said 1 for <token>"
    assert TOKEN not in capsys.readouterr().out
    device.enroll_codes = [0]
    assert device.firstboot().run() == EXIT_OK  # the next boot (or the unit's restart) resumes at enroll
    assert len(device.enroll_calls) == 2


def test_a_new_file_replaces_the_old_configuration(device: Device) -> None:
    device.drop(PSK)
    device.firstboot().run()
    wifi = "system/NetworkManager/system-connections/printgate-wifi.nmconnection"
    assert wifi in device.data_files()
    without_wifi = PSK.split("[network.wifi]")[0] + "[display]" + PSK.split("[display]")[1]
    device.drop(
        without_wifi.replace(
            'ssh_authorized_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx tech@example.org"]',
            "ssh_authorized_keys = []",
        )
    )
    assert device.firstboot().run() == EXIT_OK
    assert wifi not in device.data_files()
    assert "ssh/authorized_keys" not in device.data_files()  # service access withdrawn
    assert device.app_starts == 2


def test_the_same_file_dropped_again_is_removed_again(device: Device) -> None:
    device.drop(PSK)
    device.firstboot().run()
    device.drop(PSK)
    assert device.firstboot().run() == EXIT_OK
    assert not (device.layout.boot / FILE_NAME).exists()


def test_a_power_cut_between_zeroing_and_removing_the_file_is_finished(device: Device) -> None:
    device.drop(PSK)
    with pytest.raises(PowerCut):
        device.firstboot(ZeroesThenCut).run()
    assert (device.layout.boot / FILE_NAME).read_bytes() == b"\0" * len(PSK)
    assert device.firstboot().run() == EXIT_OK
    assert not (device.layout.boot / FILE_NAME).exists()
    assert (device.layout.state / "provisioned").exists()
