"""First-boot provisioning against a device layout in a temporary directory.

The steps run as on the device (files, fsyncs, renames); what only a device has is replaced
by recorders: applying network/time settings to the running system, restarting the app, and
the enroll command (``printgate terminal enroll``'s exit codes; it succeeds by installing a
real certificate into the state directory with terminal_app's own credential store). A power
cut is an exception thrown at a step boundary, after which a new run must finish the job. The
real enrollment against a real hub is the boot tests'.
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
    TOKEN_ENV,
    EnrollResult,
    FirstBoot,
)
from images.guest.layout import Layout
from images.guest.status import read_statuses
from images.provisioning import FILE_NAME, SCRUBBED
from terminal_app.hub.enrollment.state import CredentialStore
from tests.images.test_provisioning import FILE, SECRET, TOKEN
from tests.terminal_app.identity import install_self_signed_identity

DEVICE_PORT = "hub.example.org:50051"


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
        self.enroll_tokens: list[str] = []
        self.enroll_codes: list[int] = []

    def drop(self, text: str) -> None:
        (self.layout.boot / FILE_NAME).write_text(text)

    def enroll(self, command: Sequence[str], token: str) -> EnrollResult:
        """What `printgate terminal enroll` does: exit 0 with a certificate installed."""
        self.enroll_calls.append(list(command))
        self.enroll_tokens.append(token)
        code = self.enroll_codes.pop(0)
        if code == 0:
            install_self_signed_identity(
                Path(command[command.index("--state-dir") + 1]), "lib-2", DEVICE_PORT
            )
        return EnrollResult(code, f"enroll said {code} for {token}")

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


def test_a_file_is_applied_enrolled_and_scrubbed(device: Device, capsys: pytest.CaptureFixture[str]) -> None:
    device.drop(FILE)
    device.enroll_codes = [0]
    assert device.firstboot().run() == EXIT_OK
    state = device.layout.state
    assert (state / "role").read_text() == "terminal\n"
    assert f'state_dir = "{device.layout.identity}"' in (state / "terminal.toml").read_text()
    assert CredentialStore(device.layout.identity).current() is not None
    assert (device.layout.system / "hostname").read_text() == "printgate-terminal\n"
    assert (device.layout.system / "hub").read_text() == "hub.example.org:50051\nhub2.example.org:50051\n"
    assert (device.layout.ssh / "authorized_keys").read_text().startswith("ssh-ed25519 ")
    assert (state / "provisioned").exists()
    assert not (device.layout.boot / FILE_NAME).exists()
    applied = (device.layout.boot / APPLIED_NAME).read_text()
    assert f'enrollment_token = "{SCRUBBED}"' in applied and SECRET not in applied
    assert SECRET not in (device.layout.provisioning / FILE_NAME).read_text()
    assert all(SECRET not in (device.layout.data / name).read_text() for name in device.data_files())
    assert json.loads((device.layout.provisioning / "state.json").read_text())["done"] == list(STEPS)
    assert (device.applied, device.app_starts, device.enroll_tokens) == (1, 1, [TOKEN])
    assert read_statuses(device.layout)["provisioning"].state == "provisioned"
    assert SECRET not in capsys.readouterr().out
    assert device.firstboot().run() == EXIT_OK  # the next boot: nothing to do
    assert (device.applied, device.app_starts, len(device.enroll_calls)) == (1, 1, 1)


def test_a_bad_file_changes_nothing(device: Device, capsys: pytest.CaptureFixture[str]) -> None:
    bad = FILE.replace("rotation = 90", "rotation = 45")
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
    device.drop(FILE)
    device.enroll_codes = [0]
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
    device.drop(FILE)
    device.enroll_codes = [0, 0]  # a second offer of the (one-time) token would be a defect
    cutting = type("Cutting", (CutAt,), {"cut_after": cut_after, "recorded": recorded})
    with pytest.raises(PowerCut):
        device.firstboot(cutting).run()
    assert (device.layout.state / "provisioned").exists() == (cut_after == "ready")
    assert device.firstboot().run() == EXIT_OK
    assert (device.layout.state / "provisioned").exists()
    assert not (device.layout.boot / FILE_NAME).exists()
    assert SECRET not in (device.layout.boot / APPLIED_NAME).read_text()
    assert len(device.enroll_calls) == 1  # the one-time token is offered once, whatever the cut
    assert CredentialStore(device.layout.identity).current() is not None
    assert json.loads((device.layout.provisioning / "state.json").read_text())["done"] == list(STEPS)


def test_the_token_goes_to_the_enroll_command_outside_its_command_line_and_is_retried(
    device: Device, monkeypatch: pytest.MonkeyPatch
) -> None:
    device.drop(FILE)
    device.enroll_codes = [3, 3, 0]
    assert device.firstboot().run() == EXIT_OK
    assert len(device.enroll_calls) == 3
    assert device.enroll_calls[0] == [
        "printgate",
        "terminal",
        "enroll",
        "--state-dir",
        str(device.layout.identity),
    ]
    assert device.enroll_tokens == [TOKEN] * 3
    assert TOKEN not in (device.layout.boot / APPLIED_NAME).read_text()
    assert "key_file" not in (device.layout.state / "terminal.toml").read_text()


def test_the_real_runner_hands_the_token_over_in_the_environment(tmp_path: Path) -> None:
    from images.guest.firstboot import run_enroll

    script = tmp_path / "enroll"
    script.write_text(f'#!/bin/sh\necho "$@" >&2\n[ "${TOKEN_ENV}" = "{TOKEN}" ] && exit 0\nexit 1\n')
    script.chmod(0o755)
    result = run_enroll([str(script), "terminal", "enroll"], TOKEN)
    assert (result.exit_code, result.message) == (0, "terminal enroll")


def test_a_refused_token_is_kept_and_shown_without_its_value(
    device: Device, capsys: pytest.CaptureFixture[str]
) -> None:
    device.drop(FILE)
    device.enroll_codes = [1]
    assert device.firstboot().run() == EXIT_ENROLL_FAILED
    assert (device.layout.boot / FILE_NAME).read_text() == FILE  # a new token replaces it
    assert not (device.layout.state / "provisioned").exists()
    status = read_statuses(device.layout)["provisioning"]
    assert status.state == "enroll-failed"
    assert "the hub refused the token" in status.detail[0]
    assert status.detail[1] == "enroll said 1 for <token>"
    assert SECRET not in capsys.readouterr().out
    device.enroll_codes = [0]
    assert device.firstboot().run() == EXIT_OK  # the next boot (or the unit's restart) resumes at enroll
    assert len(device.enroll_calls) == 2


def test_a_new_file_replaces_the_old_configuration(device: Device) -> None:
    device.drop(FILE)
    device.enroll_codes = [0, 0]
    device.firstboot().run()
    wifi = "system/NetworkManager/system-connections/printgate-wifi.nmconnection"
    assert wifi in device.data_files()
    without_wifi = FILE.split("[network.wifi]")[0] + "[display]" + FILE.split("[display]")[1]
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
    device.drop(FILE)
    device.enroll_codes = [0]
    device.firstboot().run()
    device.drop(FILE)
    assert device.firstboot().run() == EXIT_OK
    assert not (device.layout.boot / FILE_NAME).exists()


def test_a_power_cut_between_zeroing_and_removing_the_file_is_finished(device: Device) -> None:
    device.drop(FILE)
    device.enroll_codes = [0]
    with pytest.raises(PowerCut):
        device.firstboot(ZeroesThenCut).run()
    assert (device.layout.boot / FILE_NAME).read_bytes() == b"\0" * len(FILE)
    assert device.firstboot().run() == EXIT_OK
    assert not (device.layout.boot / FILE_NAME).exists()
    assert (device.layout.state / "provisioned").exists()
