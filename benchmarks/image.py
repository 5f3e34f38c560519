"""Terminal image: size, build time, boot to idle, first boot to provisioned, update time.

1. Build the qemu-amd64 image (``printgate image build`` stages) into a stage cache that is
   empty unless ``--warm-cache`` is given: ``build_s`` is a cold build (downloads included).
   ``image_mb`` is the data the image holds (allocated MiB of the sparse file; what ``flash``
   writes).
2. First boot with a ``printgate.toml`` holding a one-time enrollment token from the hub:
   ``first_boot_enrolled_s`` is power-on to "terminal provisioned" (enrolled over TLS, identity
   stored, secrets scrubbed) *and* the app idle and answering a card tap at the hub, the first moment a
   user could log in.
3. Power off, power on: ``boot_to_idle_s`` is power-on to the app's idle screen (``READY=1``).
4. ``rauc install`` of a 1.1 bundle over ssh plus the reboot, until the slot health check has
   marked the new slot good: ``update_s``.

Under TCG unless a real boot under KVM works (``kvm=1``). Run:
``.venv/bin/python benchmarks/image.py [--warm-cache]``; last line::

    image_mb=… build_s=… boot_to_idle_s=… first_boot_enrolled_s=… update_s=… kvm=… cores=…
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hw_sim.readers import SerialReaderSim
from images.boards import load_board
from images.builder.cache import StageCache, default_cache_dir
from images.builder.pipeline import build, build_rootfs
from images.bundle import make_bundle
from images.keys import create_update_keys
from tests.conftest import free_tcp_port
from tests.images.site import ALICE_CARD, Hub, SimulatedMfp
from tests.images.test_boot import provision, provisioning
from tests.images.vm import Ssh, Vm, accelerator

BOOT_S = 1800.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--warm-cache", action="store_true", help="reuse the stage cache (default: a cold build)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="printgate-image-bench-"))
    try:
        run(work, warm=args.warm_cache)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, *, warm: bool) -> None:
    board = load_board("qemu-amd64")
    cache = StageCache(default_cache_dir() if warm else work / "cache")
    keys = create_update_keys(work / "keys")
    started = time.monotonic()
    result = build(board, "1.0", work / "out", cache, keys.keyring)
    build_s = time.monotonic() - started
    image_mb = result.allocated_bytes / 2**20
    print(f"build: {build_s:.0f} s, stages {result.stage_s}, {image_mb:.0f} MiB of data", flush=True)

    accel = accelerator(work / "out" / "printgate-qemu-amd64-1.0.vmlinuz", work)
    disk = work / "disk.img"
    subprocess.run(["cp", "--sparse=always", result.image, str(disk)], check=True)
    ssh_key = work / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh_key)], check=True)
    hub = Hub(work / "hub").start()
    mfp = SimulatedMfp().start()
    reader = SerialReaderSim("rdm6300").start()
    port = free_tcp_port()
    vm = Vm(disk, work, accel=accel, ssh_port=port, serial_tty=reader.path)
    try:
        provision(disk, provisioning(hub.seed(), mfp=mfp, ssh_key=ssh_key))
        powered = time.monotonic()
        vm.start()
        vm.wait_for(r"printgate-firstboot: terminal provisioned", BOOT_S)
        vm.wait_for(r"terminal_app\.session\.service: ready: screen=idle", BOOT_S)
        reader.tap(ALICE_CARD)
        vm.wait_for(r"screen=home user=alice", BOOT_S)
        first_boot_s = time.monotonic() - powered
        print(f"first boot: provisioned and a card logged in after {first_boot_s:.1f} s", flush=True)
        vm.shutdown()
        powered = time.monotonic()
        vm.start()
        vm.wait_for(r"terminal_app\.session\.service: ready: screen=idle", BOOT_S)
        boot_s = time.monotonic() - powered
        print(f"boot to idle: {boot_s:.1f} s", flush=True)
        build_rootfs(board, "1.1", work / "out", cache, keys.keyring)
        bundle = make_bundle(
            board,
            work / "out" / "printgate-qemu-amd64-1.1.rootfs.squashfs",
            "1.1",
            keys.cert,
            keys.key,
            keys.keyring,
            work / "update.raucb",
        )
        ssh = Ssh(port, ssh_key)
        ssh.wait_up(BOOT_S)
        started = time.monotonic()
        ssh.copy_to(bundle, "/data/update.raucb")
        ssh.run("rauc install /data/update.raucb && rm /data/update.raucb", timeout_s=BOOT_S)
        mark = vm.mark
        ssh.run("systemctl reboot", check=False)
        vm.wait_for(r"slot B \(version 1\.1\) marked good", BOOT_S, since=mark)
        update_s = time.monotonic() - started
        print(f"update: {update_s:.1f} s (copy, install, reboot, marked good)", flush=True)
    finally:
        vm.shutdown()
        reader.close()
        mfp.stop()
        hub.stop()
    print(
        f"image_mb={image_mb:.0f} build_s={build_s:.0f} boot_to_idle_s={boot_s:.1f} "
        f"first_boot_enrolled_s={first_boot_s:.1f} update_s={update_s:.1f} kvm={int(accel == 'kvm')} "
        f"cores={os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
