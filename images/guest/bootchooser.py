"""RAUC's custom bootloader backend: which root slot boots, with a one-shot trial of a new one.

Both boards switch slots the way the Raspberry Pi firmware's *tryboot* does: a *primary* slot
boots normally; after an update RAUC calls ``set-primary NEW``, which only arms a **one-shot
trial** of the new slot. The trial is consumed when it boots; if the new slot never proves
itself (:mod:`images.guest.slot_health` marks it good), any reboot (watchdog, crash, power cut,
the health check giving up) comes back to the old primary. ``set-state NEW good`` while running
the trial commits it as the primary.

* ``grub-efi`` (qemu-amd64): the state is a GRUB environment block on the boot partition
  (``printgate/grubenv``, written with ``grub-editenv``). GRUB's script (:func:`grub_config`)
  reads it, boots ``TRIAL`` once (clearing it with ``save_env`` before it boots) or else
  ``PRIMARY``, and tells the kernel ``rauc.slot=A|B``.
* ``rpi-tryboot`` (rpi-arm64): ``autoboot.txt`` (``tryboot_a_b=1``) names the primary boot
  partition and, under ``[tryboot]``, the trial one; arming a trial also sets systemd's reboot
  parameter to ``0 tryboot`` so the next reboot asks the firmware for it. Slot health is kept in
  ``printgate/slots`` beside it (the firmware has no notion of it).

RAUC calls: ``get-primary``, ``set-primary SLOT``, ``get-state SLOT``, ``set-state SLOT good|bad``.
RAUC 1.8 learns the booted slot from ``rauc.slot=`` on the kernel command line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from images.boards import SLOTS, Board
from images.guest.layout import Layout, atomic_write

__all__ = ["GrubEnvStore", "SlotBoot", "TrybootStore", "booted_slot", "grub_config", "main", "store_for"]

GRUBENV = "printgate/grubenv"
SLOT_STATES = "printgate/slots"
REBOOT_PARAM = Path("/run/systemd/reboot-param")


class StateStore(Protocol):
    """Where a board keeps PRIMARY, TRIAL and each slot's good/bad."""

    def load(self) -> dict[str, str]: ...

    def save(self, values: dict[str, str]) -> None: ...


class GrubEnvStore:
    """A GRUB environment block (``grub-editenv``) on the boot partition."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, str]:
        done = subprocess.run(
            ["grub-editenv", str(self.path), "list"], capture_output=True, text=True, check=True
        )
        return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)

    def save(self, values: dict[str, str]) -> None:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["grub-editenv", str(self.path), "create"], check=True)
        subprocess.run(
            ["grub-editenv", str(self.path), "set", *(f"{k}={v}" for k, v in sorted(values.items()))],
            check=True,
        )
        subprocess.run(["sync", "-f", str(self.path)], check=True)


class TrybootStore:
    """The Raspberry Pi firmware's ``autoboot.txt`` plus a slot state file beside it."""

    def __init__(self, boot: Path, partitions: dict[str, int], reboot_param: Path = REBOOT_PARAM) -> None:
        self.autoboot = boot / "autoboot.txt"
        self.states = boot / SLOT_STATES
        self.partitions = partitions  # slot -> number of its boot partition
        self.reboot_param = reboot_param

    def _slot_of(self, number: str) -> str:
        return next((s for s, n in self.partitions.items() if str(n) == number), "")

    def load(self) -> dict[str, str]:
        values: dict[str, str] = {}
        section = ""
        text = self.autoboot.read_text() if self.autoboot.exists() else ""
        for line in text.splitlines():
            if re.match(r"^\[\w+\]$", line.strip()):
                section = line.strip()[1:-1]
            elif line.startswith("boot_partition="):
                values["PRIMARY" if section == "all" else "TRIAL"] = self._slot_of(
                    line.split("=", 1)[1].strip()
                )
        if not self.reboot_param.exists() or "tryboot" not in self.reboot_param.read_text():
            values["TRIAL"] = ""  # armed only while the next reboot asks for tryboot
        if self.states.exists():
            for line in self.states.read_text().splitlines():
                key, found, value = line.partition("=")
                if found:
                    values[key] = value
        return values

    def save(self, values: dict[str, str]) -> None:
        primary = values.get("PRIMARY") or "A"
        trial = values.get("TRIAL", "")
        atomic_write(
            self.autoboot,
            (
                f"[all]\ntryboot_a_b=1\nboot_partition={self.partitions[primary]}\n"
                f"[tryboot]\nboot_partition={self.partitions[trial or primary]}\n"
            ),
        )
        atomic_write(self.states, "".join(f"{s}_GOOD={values.get(f'{s}_GOOD', '1')}\n" for s in SLOTS))
        if trial:
            atomic_write(self.reboot_param, "0 tryboot\n")
        elif self.reboot_param.exists():
            self.reboot_param.unlink()


class SlotBoot:
    """The slot state machine RAUC drives, over a board's :class:`StateStore`."""

    def __init__(self, store: StateStore, booted: str) -> None:
        self.store = store
        self.booted = booted

    def _values(self) -> dict[str, str]:
        values = {"PRIMARY": "A", "TRIAL": "", **{f"{s}_GOOD": "1" for s in SLOTS}}
        values.update({k: v for k, v in self.store.load().items() if v or k == "TRIAL"})
        return values

    def get_primary(self) -> str:
        """The slot the next boot starts: the armed trial, else the primary."""
        values = self._values()
        return values["TRIAL"] or values["PRIMARY"]

    def set_primary(self, slot: str) -> None:
        """Arm a one-shot trial of ``slot`` (or disarm it, when ``slot`` already is the primary)."""
        values = self._values()
        values["TRIAL"] = "" if slot == values["PRIMARY"] else slot
        self.store.save(values)

    def get_state(self, slot: str) -> str:
        """``good`` or ``bad``."""
        return "good" if self._values()[f"{slot}_GOOD"] == "1" else "bad"

    def set_state(self, slot: str, good: bool) -> None:
        """Mark ``slot``; marking the running trial slot good commits it as the primary."""
        values = self._values()
        values[f"{slot}_GOOD"] = "1" if good else "0"
        if good and slot == self.booted and slot != values["PRIMARY"]:
            values["PRIMARY"], values["TRIAL"] = slot, ""
        if not good and values["TRIAL"] == slot:
            values["TRIAL"] = ""
        self.store.save(values)


def booted_slot(cmdline: str) -> str:
    """The slot named by ``rauc.slot=`` on the kernel command line ("" when none)."""
    match = re.search(r"(?:^|\s)rauc\.slot=(\S+)", cmdline)
    return match.group(1) if match else ""


def store_for(board: Board, layout: Layout) -> StateStore:
    """The state store of ``board``'s boot backend."""
    if board.boot_backend == "grub-efi":
        return GrubEnvStore(layout.boot / GRUBENV)
    numbers = {p.slot: i for i, p in enumerate(board.partitions, start=1) if p.role == "slot-boot"}
    return TrybootStore(layout.boot, numbers)


def grub_config(label: str, kernel_args: str) -> str:
    """The GRUB script embedded in the qemu-amd64 EFI loader: trial once, else primary.

    The kernel and initramfs of each slot live on the boot partition (``slots/A``, ``slots/B``),
    copied there by the build and by RAUC's post-install handler, because GRUB cannot read zstd
    squashfs; the root file system is the slot's partition.
    """
    root = "root=PARTLABEL=root$slot rootfstype=squashfs ro rauc.slot=$slot"
    linux = f"linux ($bootfs)/slots/$slot/vmlinuz {root} {kernel_args}"
    return f"""\
set timeout=0
search --no-floppy --label {label} --set=bootfs
set envfile=($bootfs)/{GRUBENV}
load_env --file $envfile PRIMARY TRIAL
if [ "$PRIMARY" != "B" ]; then set PRIMARY=A; fi
set slot=$PRIMARY
if [ "$TRIAL" = "A" -o "$TRIAL" = "B" ]; then
  set slot=$TRIAL
  set TRIAL=
  save_env --file $envfile TRIAL
fi
echo "printgate: booting slot $slot"
{linux}
initrd ($bootfs)/slots/$slot/initrd.img
boot
"""


def main(argv: Sequence[str]) -> int:
    """``printgate-device boot-backend COMMAND [SLOT [good|bad]]`` (RAUC's custom backend)."""
    from images.guest.release import Release

    release = Release.read(Layout())
    board = release.board()
    machine = SlotBoot(store_for(board, Layout()), booted_slot(Path("/proc/cmdline").read_text()))
    command, *rest = argv or ["?"]
    if command == "get-primary" and not rest:
        print(machine.get_primary())
    elif command == "set-primary" and len(rest) == 1 and rest[0] in SLOTS:
        machine.set_primary(rest[0])
    elif command == "get-state" and len(rest) == 1 and rest[0] in SLOTS:
        print(machine.get_state(rest[0]))
    elif command == "set-state" and len(rest) == 2 and rest[0] in SLOTS and rest[1] in ("good", "bad"):
        machine.set_state(rest[0], rest[1] == "good")
    else:
        print(f"boot-backend: unsupported: {' '.join(argv)}", file=sys.stderr)
        return 2
    return 0
