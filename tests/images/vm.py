"""A QEMU virtual machine booting a printgate disk image, driven and watched from the host.

UEFI firmware (OVMF) starts the image's own boot loader, so slot selection, trial boots and
rollback happen inside the image as on hardware. The harness reads the serial console (the
device's journal is forwarded there), powers the machine off hard (``kill -9``: a power cut)
or cleanly, takes screenshots of its screen (tty1) over QMP, and logs in over ssh for service
commands (the image's ssh is on once printgate.toml lists a key). Devices it can attach:

* user networking: the guest reaches the host's loopback as 10.0.2.2; ssh forwarded from a host
  port;
* a USB serial adapter (QEMU's FTDI ``usb-serial``) backed by a host tty, e.g. the pty of
  hw_sim's RDM6300 simulator: ``/dev/ttyUSB0`` in the guest;
* an i6300esb watchdog (systemd's RuntimeWatchdogSec drives it).

Acceleration: :func:`accelerator` boots the image's kernel once with KVM and uses KVM only if
that kernel actually ran; otherwise TCG (a nested /dev/kvm may exist and still not run a stock
kernel).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
KVM_PROBE_S = 20.0
REDRAW_S = 3.0


def accelerator(kernel: Path, workdir: Path) -> str:
    """``"kvm"`` if a real boot of ``kernel`` gets going under KVM within seconds, else ``"tcg"``."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    log = workdir / "kvm-probe.log"
    command = [
        "qemu-system-x86_64",
        "-accel",
        "kvm",
        "-cpu",
        "host",
        "-m",
        "256",
        "-nographic",
        "-no-reboot",
        "-kernel",
        str(kernel),
        "-append",
        "console=ttyS0 panic=-1",
    ]
    with log.open("wb") as out:
        probe = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            probe.wait(KVM_PROBE_S)
        except subprocess.TimeoutExpired:
            probe.kill()
            probe.wait()
    # without a root file system the kernel panics and asks to be rebooted: it ran
    text = log.read_text(errors="replace")
    return "kvm" if "Kernel panic" in text or "VFS: Unable to mount root" in text else "tcg"


@dataclass
class Vm:
    """One virtual machine over ``disk`` (a raw image file it writes to, like a card)."""

    disk: Path
    workdir: Path
    accel: str = "tcg"
    memory_mb: int = 1024
    cpus: int = 2
    ssh_port: int = 0
    serial_tty: str = ""  # a host tty for the guest's USB serial adapter ("" = none)
    process: subprocess.Popen[bytes] | None = None
    console: bytearray = field(default_factory=bytearray)
    boots: int = 0
    _reader: threading.Thread | None = None

    @property
    def qmp_path(self) -> Path:
        return self.workdir / "qmp.sock"

    def command(self) -> list[str]:
        vars_fd = self.workdir / "OVMF_VARS.fd"
        if not vars_fd.exists():
            shutil.copyfile(OVMF_VARS, vars_fd)
        forward = f",hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22" if self.ssh_port else ""
        command = [
            "qemu-system-x86_64",
            "-accel",
            self.accel,
            "-m",
            str(self.memory_mb),
            "-smp",
            str(self.cpus),
            "-display",
            "none",
            "-vga",
            "std",
            "-serial",
            "stdio",
            "-monitor",
            "none",
            "-qmp",
            f"unix:{self.qmp_path},server=on,wait=off",
            "-drive",
            f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
            "-drive",
            f"if=pflash,format=raw,file={vars_fd}",
            "-drive",
            f"file={self.disk},format=raw,if=virtio,cache=writeback",
            "-netdev",
            f"user,id=net0{forward}",
            "-device",
            "virtio-net-pci,netdev=net0",
            "-device",
            "i6300esb",
            "-action",
            "watchdog=reset",
        ]
        if self.accel == "kvm":
            command += ["-cpu", "host"]
        if self.serial_tty:
            command += [
                "-device",
                "qemu-xhci",
                "-chardev",
                f"serial,id=reader,path={self.serial_tty}",
                "-device",
                "usb-serial,chardev=reader",
            ]
        return command

    def start(self) -> None:
        """Power on."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.console.clear()
        self.qmp_path.unlink(missing_ok=True)
        log = (self.workdir / f"console-{self.boots}.log").open("wb")
        self.process = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self.boots += 1
        self._reader = threading.Thread(target=self._read, args=(self.process, log), daemon=True)
        self._reader.start()

    def _read(self, process: subprocess.Popen[bytes], log: object) -> None:
        assert process.stdout is not None
        with log:  # type: ignore[attr-defined]
            while chunk := process.stdout.read1(65536):  # type: ignore[attr-defined]
                self.console.extend(chunk)
                log.write(chunk)  # type: ignore[attr-defined]
                log.flush()  # type: ignore[attr-defined]

    def text(self, since: int = 0) -> str:
        """The console output of this boot from byte ``since``, escape sequences removed."""
        raw = bytes(self.console[since:]).decode(errors="replace")
        return re.sub(r"\x1b\[[0-9;?=]*[A-Za-z]", "", raw)

    def wait_for(self, pattern: str, timeout_s: float, since: int = 0) -> re.Match[str]:
        """Wait until the console shows ``pattern`` (a regex); fails if QEMU exits first."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        while True:
            match = regex.search(self.text(since))
            if match:
                return match
            if self.process is None or self.process.poll() is not None:
                raise AssertionError(f"the VM stopped before {pattern!r}; console:\n{self.text()[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {pattern!r} within {timeout_s:.0f} s; console:\n{self.text()[-4000:]}"
                )
            time.sleep(0.2)

    @property
    def mark(self) -> int:
        """The console position now (for ``wait_for(since=...)``)."""
        return len(self.console)

    def power_cut(self) -> None:
        """Pull the plug: SIGKILL QEMU (the guest's unwritten data is lost, as on hardware)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self._reader is not None:
            self._reader.join(5)

    def qmp(self, command: str, **arguments: object) -> dict[str, object]:
        """One QMP command; returns its reply."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(30)
            sock.connect(str(self.qmp_path))
            stream = sock.makefile("rw")
            json.loads(stream.readline())  # greeting
            for message in ({"execute": "qmp_capabilities"}, {"execute": command, "arguments": arguments}):
                stream.write(json.dumps(message) + "\n")
                stream.flush()
                while True:
                    reply = json.loads(stream.readline())
                    if "return" in reply or "error" in reply:
                        break
            return reply

    def screenshot(self, png: Path) -> Path:
        """The guest's screen (tty1 on the VGA) as PNG."""
        ppm = png.with_suffix(".ppm")
        reply = self.qmp("screendump", filename=str(ppm))
        assert "error" not in reply, reply
        from PIL import Image

        Image.open(ppm).save(png)
        ppm.unlink()
        return png

    def snapshot(self, name: str) -> Path:
        """A screenshot named ``name`` in the work directory, copied to ``$PRINTGATE_FIELD_GUIDE_SCREENS``
        when set (how docs/field-guide.md's pictures are made)."""
        time.sleep(REDRAW_S)  # the status screen redraws every 2 s
        shot = self.screenshot(self.workdir / f"{name}.png")
        guide = os.environ.get("PRINTGATE_FIELD_GUIDE_SCREENS")
        if guide:
            Path(guide).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, Path(guide) / shot.name)
        return shot

    def wait_stopped(self, timeout_s: float) -> int:
        """Wait for QEMU to exit (the guest powered off); returns its exit code."""
        assert self.process is not None
        code = self.process.wait(timeout_s)
        if self._reader is not None:
            self._reader.join(5)
        return code

    def shutdown(self, timeout_s: float = 180.0) -> None:
        """ACPI power button, then a hard stop if the guest does not power off in time."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(OSError):
            self.qmp("system_powerdown")
        try:
            self.wait_stopped(timeout_s)
        except subprocess.TimeoutExpired:
            self.power_cut()


@dataclass(frozen=True)
class Ssh:
    """Service login (root, key only) through the forwarded port."""

    port: int
    key: Path

    def _options(self) -> list[str]:
        return [
            "-i",
            str(self.key),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "ConnectTimeout=20",
            "-o",
            "BatchMode=yes",
        ]

    def run(
        self, command: str, timeout_s: float = 300.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` on the device."""
        return subprocess.run(
            ["ssh", *self._options(), "-p", str(self.port), "root@127.0.0.1", command],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=check,
        )

    def copy_to(self, source: Path, target: str, timeout_s: float = 600.0) -> None:
        """scp a file onto the device."""
        subprocess.run(
            ["scp", *self._options(), "-P", str(self.port), str(source), f"root@127.0.0.1:{target}"],
            check=True,
            capture_output=True,
            timeout=timeout_s,
        )

    def wait_up(self, timeout_s: float) -> None:
        """Wait until the device accepts the key."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self.run("true", timeout_s=60, check=False).returncode == 0:
                    return
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"ssh did not come up within {timeout_s:.0f} s")
            time.sleep(3)
