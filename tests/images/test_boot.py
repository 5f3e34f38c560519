"""The qemu-amd64 image booted under QEMU, proven from outside the VM (issue "Proof in CI").

The hub runs on the host (the guest reaches it as 10.0.2.2), the card reader is hw_sim's RDM6300
simulator behind the guest's USB serial adapter, the copier is hw_sim's MFP (SNMP, also through
10.0.2.2). Results are read where a site would see them: the hub's books (``printgate admin``),
the device's boot partition read back from the disk, its console, its screen, and a service
login over ssh for ``rauc``.

The terminal enrolls as a site's would: ``printgate admin enrollment create`` makes a one-time
token (it carries the hub's address as the guest sees it, 10.0.2.2, and the fingerprint of the
hub's CA), the token goes into ``printgate.toml``, and the device calls the hub over mutual TLS
with the certificate it got.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from printgate.device_requests import DeviceRequest, bundle_name, encode_request, file_name

from hw_sim.readers import SerialReaderSim
from images.builder.disk import mcopy
from images.provision import boot_partition_offset
from images.provisioning import SCRUBBED
from tests.conftest import free_tcp_port
from tests.images.conftest import Built
from tests.images.site import ALICE_CARD, COPY_MONO_CENTS, GUEST_HOST, Hub, SimulatedMfp
from tests.images.vm import Ssh, Vm

pytestmark = [pytest.mark.image, pytest.mark.timeout(3600)]

SESSION_OR_REFUSED = r"screen=home user=alice balance=1000 unlocked pages=0|offline_refused"
BOOT_S = 900.0  # TCG on two shared cores: ~40 s idle, several minutes under load
STEP_S = 600.0
HERE = Path(__file__).parent


def provisioning(token: str, *, mfp: SimulatedMfp | None = None, ssh_key: Path | None = None) -> str:
    """The printgate.toml a technician would write for the CI lab."""
    ssh = f'ssh_authorized_keys = ["{ssh_key.with_suffix(".pub").read_text().strip()}"]' if ssh_key else ""
    printer = (
        (
            f'[printer]\nname = "lab-mfp"\naddress = "{GUEST_HOST}"\ncounter = "snmp"\n'
            f"[app.mfp]\nsnmp_port = {mfp.snmp_port}\nstatus_poll_s = 0.0\n"
        )
        if mfp
        else ""
    )
    return f"""\
role = "terminal"
site = "CI lab"

[hub]
enrollment_token = "{token}"

[reader]
driver = "rdm6300"
url = "/dev/ttyUSB0"

[display]
enabled = false

[service]
{ssh}

{printer}
[app.mfp.fih]
pin_factory = "mock"   # a VM has no GPIO: the panel lock drives simulated pins
grace_s = 0.5

[app.reader]
debounce_s = 1.0

[app.session]
idle_timeout_s = 900
relogin_guard_s = 1.0
copy_poll_s = 1.0
"""


def provision(disk: Path, text: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "printgate_cli", "image", "provision", str(disk), "--config", "/dev/stdin"],
        input=text,
        text=True,
        check=True,
        capture_output=True,
    )


def boot_files(disk: Path) -> dict[str, bytes]:
    """Every file in the root of the disk's boot partition, read back with mtools."""
    at = f"{disk}@@{boot_partition_offset(disk)}"
    listing = subprocess.run(
        ["mdir", "-b", "-i", at, "::"], capture_output=True, text=True, check=True
    ).stdout
    files = {}
    for path in listing.split():
        name = path.removeprefix("::/")
        done = subprocess.run(["mtype", "-i", at, f"::{name}"], capture_output=True, check=False)
        if done.returncode == 0:
            files[name] = done.stdout
    return files


def data_file(disk: Path, path: str) -> str | None:
    """A file on the disk's data partition (ext4, read with debugfs), None if absent."""
    table = json.loads(
        subprocess.run(["sfdisk", "--json", str(disk)], capture_output=True, text=True, check=True).stdout
    )["partitiontable"]
    start = next(int(p["start"]) for p in table["partitions"] if p.get("name") == "data") * 512
    done = subprocess.run(
        ["debugfs", "-R", f"cat {path}", f"{disk}?offset={start}"], capture_output=True, check=False
    )
    if done.returncode != 0 or b"File not found" in done.stderr:
        return None
    return done.stdout.decode()


def data_link(disk: Path, path: str) -> str:
    """Where a symbolic link on the disk's data partition points (debugfs ``stat``)."""
    table = json.loads(
        subprocess.run(["sfdisk", "--json", str(disk)], capture_output=True, text=True, check=True).stdout
    )["partitiontable"]
    start = next(int(p["start"]) for p in table["partitions"] if p.get("name") == "data") * 512
    done = subprocess.run(
        ["debugfs", "-R", f"stat {path}", f"{disk}?offset={start}"],
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r'Fast link dest: "([^"]+)"', done.stdout)
    return found.group(1) if found else ""


def raw_partition(disk: Path, name: str) -> bytes:
    table = json.loads(
        subprocess.run(["sfdisk", "--json", str(disk)], capture_output=True, text=True, check=True).stdout
    )["partitiontable"]
    part = next(p for p in table["partitions"] if p.get("name") == name)
    with disk.open("rb") as handle:
        handle.seek(int(part["start"]) * 512)
        return handle.read(int(part["size"]) * 512)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    running = Hub(tmp_path / "hub").start()
    yield running
    running.stop()


# --- scenario 6: a malformed printgate.toml -----------------------------------------------------


def test_malformed_provisioning_file_is_reported_and_changes_nothing(
    fresh_disk: Path, accel: str, tmp_path: Path, hub: Hub
) -> None:
    bad = (
        provisioning(hub.seed())  # the token names the lab's printer, which seed() creates
        .replace('role = "terminal"', 'role = "printer"')
        .replace("[display]", "[display]\nrotation = 45")
    )
    at = f"@@{boot_partition_offset(fresh_disk)}"
    mcopy(fresh_disk, {"printgate.toml": bad}, at=at)  # bypasses `image provision`, which refuses it
    vm = Vm(fresh_disk, tmp_path, accel=accel)
    vm.start()
    try:
        vm.wait_for(r"printgate-firstboot: printgate.toml was not applied, nothing changed", BOOT_S)
        problems = vm.wait_for(r"display\.rotation must be one of 0, 90, 180, 270", STEP_S)
        assert "role must be one of terminal, kiosk" in vm.text()
        vm.wait_for(r"Started printgate-console", STEP_S)
        shot = vm.snapshot("invalid-provisioning")
        assert shot.stat().st_size > 1000
        assert problems
    finally:
        vm.shutdown()
    files = boot_files(fresh_disk)
    assert files["printgate.toml"].decode() == bad  # left for the technician to fix
    assert "printgate-applied.toml" not in files
    assert data_file(fresh_disk, "/printgate/role") is None
    assert data_file(fresh_disk, "/printgate/terminal.toml") is None
    assert data_file(fresh_disk, "/provisioning/state.json") is None


# --- scenario 2: a power cut in the middle of provisioning ---------------------------------------


def test_power_cut_during_provisioning_is_finished_by_the_next_boot(
    fresh_disk: Path, accel: str, tmp_path: Path, hub: Hub
) -> None:
    token = hub.seed()
    text = provisioning(token)
    provision(fresh_disk, text)
    vm = Vm(fresh_disk, tmp_path, accel=accel)
    vm.start()
    vm.wait_for(r"printgate-firstboot: step stage done", BOOT_S)
    vm.power_cut()  # right after the file was staged, before the device was configured
    assert "printgate-firstboot: step scrub done" not in vm.text()
    assert token.encode() in boot_files(fresh_disk)["printgate.toml"]  # not applied yet: still there
    vm.start()
    try:
        resumed = vm.wait_for(r"printgate-firstboot: resuming after step (\w+)", BOOT_S)
        assert resumed.group(1) == "stage"
        vm.wait_for(r"printgate-firstboot: terminal provisioned", STEP_S)
        vm.wait_for(r"terminal_app\.session\.service: ready: screen=idle", STEP_S)
        vm.snapshot("provisioned-idle")
    finally:
        vm.shutdown()
    files = boot_files(fresh_disk)
    assert "printgate.toml" not in files
    applied = files["printgate-applied.toml"].decode()
    assert f'enrollment_token = "{SCRUBBED}"' in applied
    assert token.encode() not in raw_partition(fresh_disk, "boot")  # not even in a deleted FAT entry's data
    assert token not in vm.text()
    generation = data_link(fresh_disk, "/printgate/identity/current")
    assert generation.startswith("gen-")
    meta = data_file(fresh_disk, f"/printgate/identity/{generation}/device.json")
    assert meta is not None and json.loads(meta)["device_id"] == "t1"
    terminals = hub.admin("terminal", "list", as_json=True)["terminals"]
    assert [t["id"] for t in terminals] == ["t1"]


# --- scenario 1 (enrolled with a token) and 7, 5, 3, 4 on one terminal ----------------------------


@dataclass
class Lab:
    """A provisioned terminal VM with the host side of its site."""

    vm: Vm
    ssh: Ssh
    hub: Hub
    mfp: SimulatedMfp
    reader: SerialReaderSim
    built: Built
    workdir: Path


@pytest.fixture(scope="module")
def lab(built: Built, accel: str, ssh_key: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    workdir = tmp_path_factory.mktemp("lab")
    disk = workdir / "disk.img"
    subprocess.run(["cp", "--sparse=always", str(built.image), str(disk)], check=True)
    hub = Hub(workdir / "hub").start()
    mfp = SimulatedMfp().start()
    reader = SerialReaderSim("rdm6300").start()
    provision(disk, provisioning(hub.seed(), mfp=mfp, ssh_key=ssh_key))
    port = free_tcp_port()
    vm = Vm(disk, workdir, accel=accel, ssh_port=port, serial_tty=reader.path)
    try:
        yield Lab(vm, Ssh(port, ssh_key), hub, mfp, reader, built, workdir)
    finally:
        vm.shutdown()
        reader.close()
        mfp.stop()
        hub.stop()


def test_first_boot_provisions_and_a_card_tap_starts_a_session_at_the_hub(lab: Lab) -> None:
    vm = lab.vm
    vm.start()
    vm.wait_for(r"printgate-firstboot: terminal provisioned", BOOT_S)
    vm.wait_for(r"terminal_app\.session\.service: ready: screen=idle", STEP_S)
    before = lab.hub.balance_cents("alice")
    deadline = time.monotonic() + STEP_S
    while True:  # a tap before the guest's network is up is refused offline: the card is tapped again
        mark = vm.mark
        lab.reader.tap(ALICE_CARD)
        seen = vm.wait_for(
            r"screen=home user=alice balance=1000 unlocked pages=0|offline_refused", STEP_S, mark
        )
        if "offline_refused" not in seen.group(0):
            break  # the hub answered over mutual TLS, panel open
        assert time.monotonic() < deadline, "the terminal never reached the hub"
        vm.wait_for(r"screen=idle\r?\n", STEP_S, vm.mark)  # the serial console ends lines with \r\n
        time.sleep(5)
    assert lab.mfp.say("copy 3").startswith("ok")
    vm.wait_for(r"unlocked pages=3", STEP_S)
    vm.snapshot("session-copying")
    mark = vm.mark
    lab.reader.tap(ALICE_CARD)  # the same card again: logout
    vm.wait_for(r"screen=idle", STEP_S, since=mark)
    deadline = time.monotonic() + STEP_S
    while lab.hub.balance_cents("alice") != before - 3 * COPY_MONO_CENTS:
        assert time.monotonic() < deadline, (
            f"balance {lab.hub.balance_cents('alice')}, expected {before - 15}"
        )
        time.sleep(1)
    lab.ssh.wait_up(STEP_S)
    status = lab.ssh.run("systemctl show printgate.service -p ActiveState -p StatusText").stdout
    assert "ActiveState=active" in status and "StatusText=screen=idle" in status


OPS_DIR = "/data/printgate/ops"


def _request_as_app(lab: Lab, request: DeviceRequest) -> int:
    """Write ``request`` as the unprivileged app does (staging, then a rename into requests/), as
    the ``printgate`` user; the console mark before it."""
    ops = OPS_DIR
    lab.ssh.run(
        f"runuser -u printgate -- mkdir -p {ops}/staging {ops}/requests {ops}/downloads {ops}/results"
    )
    name = file_name(request.id)
    encoded = base64.b64encode(encode_request(request)).decode()
    mark = lab.vm.mark
    as_app = f"cd {ops} && echo {encoded} | base64 -d > staging/{name} && mv staging/{name} requests/{name}"
    lab.ssh.run(f"runuser -u printgate -- sh -c '{as_app}'")
    return mark


def test_a_reboot_requested_by_the_app_user_reboots_through_the_root_service(lab: Lab) -> None:
    """The fleet's ``reboot`` as the app performs it on the device (docs/images.md): a request file
    written as the unprivileged ``printgate`` user starts the root service through its path unit,
    which answers and reboots the machine. The lab runs no MQTT broker: the hub -> broker -> app
    part runs on the host (tests/terminal_app/telemetry/test_device_ops_live.py)."""
    lab.ssh.wait_up(STEP_S)
    boot_id = lab.ssh.run("cat /proc/sys/kernel/random/boot_id").stdout.strip()
    request_id = secrets.token_hex(16)
    name = file_name(request_id)
    mark = _request_as_app(lab, DeviceRequest(request_id, "reboot"))
    lab.vm.wait_for(rf"request {request_id}: rebooting rebooting in 5 s", STEP_S, since=mark)
    lab.vm.wait_for(r"printgate: booting slot A", BOOT_S, since=mark)
    lab.ssh.wait_up(BOOT_S)
    assert lab.ssh.run("cat /proc/sys/kernel/random/boot_id").stdout.strip() != boot_id
    result = json.loads(lab.ssh.run(f"cat {OPS_DIR}/results/{name}").stdout)
    assert result == {"v": 1, "id": request_id, "status": "rebooting", "detail": "rebooting in 5 s"}
    assert lab.ssh.run(f"ls -A {OPS_DIR}/requests").stdout == ""


def test_keyboard_wedge_keystrokes_never_reach_the_console(lab: Lab) -> None:
    lab.ssh.copy_to(HERE / "guest_wedge_grab.py", "/tmp/guest_wedge_grab.py")
    lab.ssh.run("modprobe uinput")
    done = lab.ssh.run("cd /tmp && /opt/printgate/venv/bin/python guest_wedge_grab.py")
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert "4711" in seen["console_without_grab"]  # the check sees keystrokes that do arrive
    assert seen["driver_card"] == "0012345678"
    assert seen["console_with_grab"] == ""


def _rauc_status(lab: Lab) -> dict[str, str]:
    out = lab.ssh.run("rauc status --output-format=shell").stdout
    return dict(re.findall(r"^(RAUC_[A-Z0-9_]+)='?(.*?)'?$", out, re.MULTILINE))


def test_bundles_signed_by_another_key_or_for_another_board_are_refused(
    lab: Lab, foreign_keys: object
) -> None:
    from images.boards import load_board
    from images.keys import UpdateKeys

    assert isinstance(foreign_keys, UpdateKeys)
    before = _rauc_status(lab)
    bundles = {
        "foreign": lab.built.bundle("1.1", lab.workdir / "foreign.raucb", keys=foreign_keys),
        "board": lab.built.bundle("1.1", lab.workdir / "board.raucb", board=load_board("rpi-arm64")),
    }
    expected = {"foreign": r"signature|[Vv]erif|certificate", "board": r"[Cc]ompatible"}
    for name, bundle in bundles.items():
        lab.ssh.copy_to(bundle, f"/data/{name}.raucb")
        done = lab.ssh.run(f"rauc install /data/{name}.raucb", check=False)
        lab.ssh.run(f"rm /data/{name}.raucb")
        assert done.returncode != 0, done.stdout
        assert re.search(expected[name], done.stdout + done.stderr), done.stdout + done.stderr
    after = _rauc_status(lab)
    assert after == before
    assert lab.ssh.run("/usr/lib/printgate/rauc-boot-backend get-state B").stdout.strip() == "bad"
    assert lab.ssh.run("/usr/lib/printgate/rauc-boot-backend get-primary").stdout.strip() == "A"


def _install_and_reboot(lab: Lab, bundle: Path) -> tuple[str, float, int]:
    started = time.monotonic()
    lab.ssh.copy_to(bundle, "/data/update.raucb")
    done = lab.ssh.run("rauc install /data/update.raucb", timeout_s=STEP_S, check=False)
    lab.ssh.run("rm /data/update.raucb")
    assert done.returncode == 0, done.stdout + done.stderr
    mark = lab.vm.mark
    lab.ssh.run("systemctl reboot", check=False)
    return done.stdout, started, mark


def test_an_update_boots_the_other_slot_and_is_marked_good_once_idle(lab: Lab) -> None:
    """The fleet's ``install_update`` as the app performs it on the device (docs/fleet.md): the
    bundle in the app's ``downloads/`` under the request's id, the request written as the
    ``printgate`` user; the root service checks the SHA-256, installs with RAUC, answers and
    reboots into the other slot. (The download and the MQTT part run on the host:
    tests/terminal_app/telemetry/test_device_ops_live.py.)"""
    bundle = lab.built.bundle("1.1", lab.workdir / "good.raucb")
    started = time.monotonic()
    request = DeviceRequest(
        secrets.token_hex(16), "install_update", "1.1", hashlib.sha256(bundle.read_bytes()).hexdigest()
    )
    lab.ssh.run(f"runuser -u printgate -- mkdir -p {OPS_DIR}/downloads")
    download = f"{OPS_DIR}/downloads/{bundle_name(request.id)}"
    lab.ssh.copy_to(bundle, "/data/upload.raucb")  # as the app would have downloaded it:
    lab.ssh.run(f"mv /data/upload.raucb {download} && chown printgate {download} && chmod 0600 {download}")
    mark = _request_as_app(lab, request)
    lab.vm.wait_for(rf"request {request.id}: rebooting installed 1\.1; rebooting in 5 s", STEP_S, since=mark)
    lab.vm.wait_for(r"printgate: booting slot B", BOOT_S, since=mark)
    lab.vm.wait_for(r"printgate-slot-health: slot B \(version 1\.1\) marked good", BOOT_S, since=mark)
    print(f"update_s={time.monotonic() - started:.1f}")
    lab.vm.snapshot("update-committed")
    lab.ssh.wait_up(STEP_S)
    assert "VERSION=1.1" in lab.ssh.run("cat /usr/lib/printgate/release").stdout
    status = _rauc_status(lab)
    assert status["RAUC_SYSTEM_BOOTED_BOOTNAME"] == "B"
    assert lab.ssh.run("/usr/lib/printgate/rauc-boot-backend get-primary").stdout.strip() == "B"
    result = json.loads(lab.ssh.run(f"cat {OPS_DIR}/results/{file_name(request.id)}").stdout)
    assert result == {
        "v": 1,
        "id": request.id,
        "status": "rebooting",
        "detail": "installed 1.1; rebooting in 5 s",
    }
    assert lab.ssh.run(f"ls -A {OPS_DIR}/downloads {OPS_DIR}/requests").stdout.split() == [
        f"{OPS_DIR}/downloads:",
        f"{OPS_DIR}/requests:",
    ]  # the bundle was taken out of the app's reach and removed after the install


def test_a_bundle_older_than_the_running_version_is_refused(lab: Lab) -> None:
    bundle = lab.built.bundle("1.0", lab.workdir / "old.raucb")
    lab.ssh.copy_to(bundle, "/data/old.raucb")
    done = lab.ssh.run("rauc install /data/old.raucb", check=False)
    lab.ssh.run("rm /data/old.raucb")
    assert done.returncode != 0
    assert "Pre-install handler error" in done.stdout
    reason = lab.ssh.run("journalctl -u rauc --no-pager -n 100").stdout  # RAUC logs the handler's line
    assert "bundle version 1.0 is older than the running version 1.1: refused" in reason
    assert lab.ssh.run("/usr/lib/printgate/rauc-boot-backend get-primary").stdout.strip() == "B"


def test_an_update_that_never_reaches_idle_falls_back_by_itself(lab: Lab, tmp_path: Path) -> None:
    broken = tmp_path / "broken-app"
    dropin = broken / "etc" / "systemd" / "system" / "printgate.service.d"
    dropin.mkdir(parents=True)
    (dropin / "broken.conf").write_text(
        "# a deliberately broken app: it fails before it ever shows its idle screen\n[Service]\nExecStart=\n"
        "ExecStart=/bin/sh -c 'echo printgate app deliberately broken >&2; exit 1'\n"
    )
    bundle = lab.built.bundle("1.2", lab.workdir / "broken.raucb", extra_overlay=broken)
    _, _, mark = _install_and_reboot(lab, bundle)
    lab.vm.wait_for(r"printgate: booting slot A", BOOT_S, since=mark)
    lab.vm.wait_for(r"trying slot A \(version 1\.2\)|slot A \(version 1\.2\) marked bad", BOOT_S, since=mark)
    lab.vm.snapshot("update-trial")
    lab.vm.wait_for(r"slot A \(version 1\.2\) marked bad: the app failed \d+ times", BOOT_S, since=mark)
    mark = lab.vm.mark
    lab.vm.wait_for(r"printgate: booting slot B", BOOT_S, since=mark)  # the reboot the check asked for
    lab.vm.wait_for(r"printgate-slot-health: slot B \(version 1\.1\) is good", BOOT_S, since=mark)
    lab.ssh.wait_up(STEP_S)
    assert "VERSION=1.1" in lab.ssh.run("cat /usr/lib/printgate/release").stdout
    assert lab.ssh.run("/usr/lib/printgate/rauc-boot-backend get-state A").stdout.strip() == "bad"


# --- enrollment: a token the hub no longer honours ---------------------------------------------


def test_a_revoked_token_is_refused_and_kept_for_the_technician(
    fresh_disk: Path, accel: str, tmp_path: Path, hub: Hub
) -> None:
    token = hub.seed()  # the token names the lab's printer, which seed() creates
    token_id = token.split("-")[1]
    hub.admin("enrollment", "revoke", token_id)
    provision(fresh_disk, provisioning(token))
    vm = Vm(fresh_disk, tmp_path, accel=accel)
    vm.start()
    try:
        attempt = vm.wait_for(r"printgate-firstboot: enrolling with [^:]+:\d+: (.*)", BOOT_S)
        assert attempt.group(1).split() == [
            "/opt/printgate/venv/bin/printgate",
            "terminal",
            "enroll",
            "--state-dir",
            "/data/printgate/identity",
        ]
        vm.wait_for(r"printgate-firstboot: enrollment failed \(exit 1, the hub refused the token", STEP_S)
        vm.snapshot("enrollment-failed")
    finally:
        vm.shutdown()
    assert token not in vm.text()
    files = boot_files(fresh_disk)
    assert token.encode() in files["printgate.toml"]  # kept: a new token replaces it
    assert "printgate-applied.toml" not in files
    assert data_file(fresh_disk, "/printgate/provisioned") is None
    assert hub.admin("terminal", "list", as_json=True).get("terminals", []) == []
