"""A/B slot switching, the slot health check, and RAUC's handlers, on the build host.

The boot backend runs against a real GRUB environment block (``grub-editenv``) and a real
``autoboot.txt``; GRUB's own part (consuming a trial when it boots) is played by the test, and
the GRUB script is checked with ``grub-script-check``. The boot tests (test_boot.py) run the
same code inside the image under QEMU.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from images.boards import load_board
from images.builder.disk import BOOT_LABEL
from images.guest.bootchooser import GrubEnvStore, SlotBoot, TrybootStore, booted_slot, grub_config
from images.guest.layout import Layout
from images.guest.post_install import install_kernels
from images.guest.preinstall import bundle_version, check
from images.guest.release import Release, version_key
from images.guest.slot_health import MAX_APP_RESTARTS, Checks, SlotHealth

# --- the GRUB environment block (qemu-amd64) ------------------------------------------------------


@pytest.fixture
def grubenv(tmp_path: Path) -> GrubEnvStore:
    store = GrubEnvStore(tmp_path / "printgate" / "grubenv")
    store.save({"PRIMARY": "A", "TRIAL": "", "A_GOOD": "1", "B_GOOD": "0"})
    return store


def grub_boots(store: GrubEnvStore) -> str:
    """What the GRUB script does at power-on: the trial once (cleared), else the primary."""
    values = store.load()
    slot = values.get("TRIAL") or values["PRIMARY"]
    store.save({**values, "TRIAL": ""})
    return slot


def test_an_installed_slot_is_tried_once_then_committed_when_good(grubenv: GrubEnvStore) -> None:
    SlotBoot(grubenv, "A").set_state("B", False)  # RAUC, before writing B
    SlotBoot(grubenv, "A").set_primary("B")  # RAUC, after writing B
    assert SlotBoot(grubenv, "A").get_primary() == "B"
    assert grub_boots(grubenv) == "B"
    trial = SlotBoot(grubenv, "B")
    assert trial.get_primary() == "A"  # the trial is spent: any reboot now returns to A
    trial.set_state("B", True)  # rauc status mark-good, from the health check
    assert grubenv.load()["PRIMARY"] == "B"
    assert grub_boots(grubenv) == "B"
    assert SlotBoot(grubenv, "B").get_state("B") == "good"


def test_a_trial_that_is_never_marked_good_falls_back(grubenv: GrubEnvStore) -> None:
    SlotBoot(grubenv, "A").set_primary("B")
    assert grub_boots(grubenv) == "B"
    SlotBoot(grubenv, "B").set_state("B", False)  # the health check gave up
    assert grub_boots(grubenv) == "A"
    assert SlotBoot(grubenv, "A").get_state("B") == "bad"
    assert grubenv.load()["PRIMARY"] == "A"


def test_a_power_cut_during_the_trial_also_falls_back(grubenv: GrubEnvStore) -> None:
    SlotBoot(grubenv, "A").set_primary("B")
    assert grub_boots(grubenv) == "B"
    assert grub_boots(grubenv) == "A"  # power back on, nobody marked B


def test_choosing_the_running_primary_disarms_a_trial(grubenv: GrubEnvStore) -> None:
    SlotBoot(grubenv, "A").set_primary("B")
    SlotBoot(grubenv, "A").set_primary("A")
    assert grub_boots(grubenv) == "A"


def test_the_grub_script_parses_and_reads_the_same_variables(tmp_path: Path) -> None:
    script = grub_config(BOOT_LABEL, "console=ttyS0 quiet")
    (tmp_path / "grub.cfg").write_text(script)
    subprocess.run(["grub-script-check", str(tmp_path / "grub.cfg")], check=True)
    assert "load_env --file $envfile PRIMARY TRIAL" in script
    assert "save_env --file $envfile TRIAL" in script
    assert "rauc.slot=$slot" in script and "root=PARTLABEL=root$slot" in script


def test_the_booted_slot_comes_from_the_kernel_command_line() -> None:
    assert booted_slot("BOOT_IMAGE=x root=PARTLABEL=rootB rauc.slot=B quiet") == "B"
    assert booted_slot("root=/dev/vda2 quiet") == ""


# --- Raspberry Pi firmware tryboot (rpi-arm64) ----------------------------------------------------


def test_tryboot_arms_the_firmware_and_commits_by_rewriting_autoboot(tmp_path: Path) -> None:
    board = load_board("rpi-arm64")
    partitions = {p.slot: i for i, p in enumerate(board.partitions, start=1) if p.role == "slot-boot"}
    assert partitions == {"A": 2, "B": 3}
    param = tmp_path / "run" / "reboot-param"
    store = TrybootStore(tmp_path, partitions, reboot_param=param)
    store.save({"PRIMARY": "A", "TRIAL": "", "A_GOOD": "1", "B_GOOD": "0"})
    assert "[all]\ntryboot_a_b=1\nboot_partition=2\n" in (tmp_path / "autoboot.txt").read_text()
    SlotBoot(store, "A").set_primary("B")
    assert "[tryboot]\nboot_partition=3\n" in (tmp_path / "autoboot.txt").read_text()
    assert param.read_text() == "0 tryboot\n"  # the next reboot asks the firmware for the trial
    param.unlink()  # rebooted (into B, once)
    SlotBoot(store, "B").set_state("B", True)
    assert "[all]\ntryboot_a_b=1\nboot_partition=3\n" in (tmp_path / "autoboot.txt").read_text()
    assert SlotBoot(store, "B").get_primary() == "B"


# --- the health check of a trial boot ------------------------------------------------------------


class Machine:
    """The answers the health check gets, and what it did."""

    def __init__(self, app_active: bool = True, hub: bool = True, restarts: int = 0) -> None:
        self.app, self.hub, self.restarts = app_active, hub, restarts
        self.marks: list[str] = []
        self.reboots = 0
        self.clock = 0.0

    def checks(self) -> Checks:
        def sleep(seconds: float) -> None:
            self.clock += seconds

        def reboot() -> None:
            self.reboots += 1

        return Checks(
            lambda: self.app,
            lambda: self.restarts,
            lambda address: self.hub,
            self.marks.append,
            reboot,
            sleep,
            lambda: self.clock,
        )


@pytest.fixture
def device(tmp_path: Path, grubenv: GrubEnvStore) -> Iterator[tuple[Layout, GrubEnvStore]]:
    layout = Layout(tmp_path)
    (layout.state).mkdir(parents=True)
    (layout.state / "provisioned").write_text("x\n")
    layout.system.mkdir(parents=True)
    (layout.system / "hub").write_text("10.0.2.2:50051\n")
    SlotBoot(grubenv, "A").set_primary("B")
    grub_boots(grubenv)
    yield layout, grubenv


def _health(layout: Layout, store: GrubEnvStore, machine: Machine, booted: str = "B") -> SlotHealth:
    release = Release("qemu-amd64", "1.1", "printgate-qemu-amd64")
    return SlotHealth(layout, SlotBoot(store, booted), release, machine.checks(), patience_s=300)


def test_a_trial_with_the_app_idle_and_the_hub_answering_is_marked_good(
    device: tuple[Layout, GrubEnvStore],
) -> None:
    machine = Machine()
    assert _health(*device, machine).run() == "committed"
    assert machine.marks == ["good"] and machine.reboots == 0


@pytest.mark.parametrize(
    ("machine", "reason"),
    [
        (Machine(app_active=False), "the app never reached its idle screen"),
        (Machine(hub=False), "the hub 10.0.2.2:50051 never answered"),
        (Machine(app_active=False, restarts=MAX_APP_RESTARTS), f"the app failed {MAX_APP_RESTARTS} times"),
    ],
)
def test_a_trial_that_does_not_prove_itself_is_rolled_back(
    device: tuple[Layout, GrubEnvStore], machine: Machine, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _health(*device, machine).run() == "rolled-back"
    assert machine.marks == ["bad"] and machine.reboots == 1
    assert reason in capsys.readouterr().out
    if machine.restarts:
        assert machine.clock == 0  # a crash loop is not waited out


def test_a_good_primary_needs_nothing(device: tuple[Layout, GrubEnvStore]) -> None:
    layout, store = device
    machine = Machine(app_active=False)
    assert _health(layout, store, machine, booted="A").run() == "good"
    assert machine.marks == []


# --- RAUC handlers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bundle", "running", "refused"),
    [
        ("1.1", "1.0", False),
        ("1.0", "1.0", False),
        ("1.10", "1.9", False),
        ("1.0.1", "1.1", True),
        ("0.9", "1.0", True),
        ("1.0-beta", "1.0", True),
    ],
)
def test_older_bundles_are_refused_with_the_reason(bundle: str, running: str, refused: bool) -> None:
    reason = check(bundle, Release("qemu-amd64", running, "printgate-qemu-amd64"))
    assert (reason is not None) == refused
    if refused and "-" not in bundle:
        assert reason == f"bundle version {bundle} is older than the running version {running}"


def test_the_bundle_version_is_read_from_the_mounted_bundles_manifest(tmp_path: Path) -> None:
    from images.boards import load_board
    from images.bundle import manifest

    (tmp_path / "manifest.raucm").write_text(manifest(load_board("qemu-amd64"), "1.10", "g1234"))
    # what RAUC 1.8 gives a system handler: the mount point, no RAUC_MF_* fields
    assert bundle_version({"RAUC_BUNDLE_MOUNT_POINT": str(tmp_path)}) == "1.10"
    (tmp_path / "manifest.raucm").write_text("[update]\ncompatible=printgate-qemu-amd64\n")
    assert bundle_version({"RAUC_BUNDLE_MOUNT_POINT": str(tmp_path)}) == ""
    with pytest.raises(ValueError, match="RAUC_BUNDLE_MOUNT_POINT is not set"):
        bundle_version({"RAUC_MF_VERSION": "1.1"})
    with pytest.raises(ValueError, match=r"cannot read the bundle's manifest\.raucm"):
        bundle_version({"RAUC_BUNDLE_MOUNT_POINT": str(tmp_path / "absent")})


def test_versions_compare_numerically() -> None:
    assert version_key("1.10") > version_key("1.9") and version_key("2.0") == version_key("2")


def test_post_install_copies_the_new_slots_kernel_to_its_boot_directory(tmp_path: Path) -> None:
    slot_root = tmp_path / "slotB"
    (slot_root / "boot").mkdir(parents=True)
    (slot_root / "boot" / "vmlinuz-6.1").write_bytes(b"kernel 6.1")
    (slot_root / "boot" / "initrd.img-6.1").write_bytes(b"initramfs 6.1")
    (slot_root / "vmlinuz").symlink_to("boot/vmlinuz-6.1")
    (slot_root / "initrd.img").symlink_to("boot/initrd.img-6.1")
    layout = Layout(tmp_path / "device")
    mounted: list[str] = []

    @contextlib.contextmanager
    def mount(device: str) -> Iterator[Path]:
        mounted.append(device)
        yield slot_root

    env = {
        "RAUC_TARGET_SLOTS": "2",
        "RAUC_SLOT_CLASS_2": "rootfs",
        "RAUC_SLOT_BOOTNAME_2": "B",
        "RAUC_SLOT_DEVICE_2": "/dev/disk/by-partlabel/rootB",
    }
    assert install_kernels(env, layout, mount) == ["B"]
    assert mounted == ["/dev/disk/by-partlabel/rootB"]
    assert (layout.boot / "slots" / "B" / "vmlinuz").read_bytes() == b"kernel 6.1"
    assert (layout.boot / "slots" / "B" / "initrd.img").read_bytes() == b"initramfs 6.1"
