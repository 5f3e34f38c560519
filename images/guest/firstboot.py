"""First-boot provisioning: ``printgate.toml`` on the boot partition becomes a working device.

Runs at every boot (``printgate-firstboot.service``, before the app) and does nothing when there
is nothing to do. With a new ``printgate.toml`` on the boot partition it goes through:

``check``
    the file is parsed and checked; a bad file is reported (console, screen, journal) with every
    problem, and nothing at all changes: the technician fixes the file and reboots.
``stage``
    the file is copied to the data partition (root only), so the steps below can finish from
    there even once the boot partition no longer holds it.
``configure``
    the role configuration, network profiles, time, host name, Kivy input and ssh keys are
    written to the data partition (:mod:`images.guest.render`); files an earlier provisioning
    wrote and this one does not are removed.
``enroll``
    with an enrollment token, ``printgate terminal|kiosk enroll --token T --state-dir DIR``
    (exit 0 enrolled, 1 refused, 3 hub unreachable: retried, anything else an error); with a
    pre-shared key there is nothing to enroll.
``scrub``
    ``printgate-applied.toml`` (every secret replaced) is written to the boot partition; the
    original is overwritten with zeros where it lies (a removed file's bytes stay in the FAT's
    free clusters otherwise) and removed; the staged copy likewise.
``ready``
    ``/data/printgate/provisioned`` tells ``printgate.service`` it may start, and it is started.

Every step is idempotent and recorded (atomically) only when finished, so a power cut at any
point is finished by the next boot, which resumes at the first step not recorded. A different
file dropped on the boot partition starts over.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from images.errors import ProvisioningError
from images.guest.layout import Layout, atomic_write, remove_durably, shred
from images.guest.render import check_role_document, render
from images.guest.status import Status, write_status
from images.provisioning import FILE_NAME, MAX_FILE_BYTES, Provisioning, config_hash, parse_text, scrubbed

__all__ = ["APPLIED_NAME", "STEPS", "EnrollResult", "FirstBoot", "main"]

log = logging.getLogger("printgate.firstboot")

STEPS = ("stage", "configure", "enroll", "scrub", "ready")
APPLIED_NAME = "printgate-applied.toml"
APP_USER = "printgate"
EXIT_OK, EXIT_INVALID, EXIT_ENROLL_FAILED = 0, 2, 3
ENROLL_REFUSED, ENROLL_UNREACHABLE = 1, 3  # exit codes of `printgate ... enroll`, as `printgate admin`'s
ENROLL_RETRY_S = 10.0
ENROLL_PATIENCE_S = 600.0


@dataclass(frozen=True)
class EnrollResult:
    """How one enrollment attempt ended."""

    exit_code: int
    message: str


Enroller = Callable[[Sequence[str]], EnrollResult]


def restart_app() -> None:
    """(Re)start the app with the configuration just applied, without waiting for it."""
    subprocess.run(["systemctl", "--no-block", "restart", "printgate.service"], check=False)


def apply_runtime(layout: Layout) -> None:
    """Apply freshly written system configuration now (network profiles, time, host name)."""
    from images.guest.runtime import apply

    apply(layout, reload_services=True)


def run_enroll(command: Sequence[str]) -> EnrollResult:
    """Run the enroll command; its last line of output is the message shown."""
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return EnrollResult(ENROLL_UNREACHABLE, f"enroll did not finish: {exc}")
    lines = (done.stderr or done.stdout).strip().splitlines()
    return EnrollResult(done.returncode, lines[-1] if lines else "")


@dataclass
class _Record:
    """What has been done for which file (``provisioning/state.json``)."""

    config: str = ""
    done: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> _Record:
        try:
            data = json.loads(path.read_text())
            return cls(str(data["config"]), [str(step) for step in data["done"]])
        except (OSError, ValueError, KeyError, TypeError):
            return cls()

    def save(self, path: Path) -> None:
        atomic_write(path, json.dumps({"config": self.config, "done": self.done}) + "\n", 0o600)


class FirstBoot:
    """One run of first-boot provisioning against a :class:`Layout`."""

    def __init__(
        self,
        layout: Layout,
        *,
        printgate: str = "printgate",
        enroll: Enroller = run_enroll,
        sleep: Callable[[float], None] = time.sleep,
        patience_s: float = ENROLL_PATIENCE_S,
        apply_system: Callable[[Layout], None] = apply_runtime,
        start_app: Callable[[], None] = restart_app,
    ) -> None:
        self.layout = layout
        self.printgate = printgate
        self.enroll_runner = enroll
        self.sleep = sleep
        self.patience_s = patience_s
        self.apply_system = apply_system
        self.start_app = start_app
        self.ready_marker = layout.state / "provisioned"
        self.record_path = layout.provisioning / "state.json"
        self.staged = layout.provisioning / FILE_NAME
        self.manifest = layout.provisioning / "files.json"

    # --- reporting -------------------------------------------------------------------------

    def _say(self, state: str, *lines: str) -> None:
        for line in lines or (state,):
            print(f"printgate-firstboot: {line}", flush=True)
        write_status(self.layout, Status("provisioning", state, list(lines)))

    def _mark(self, record: _Record, step: str) -> None:
        record.done.append(step)
        record.save(self.record_path)
        print(f"printgate-firstboot: step {step} done", flush=True)

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> int:
        """Provision if there is something to do; returns the process exit code."""
        source = self.layout.boot / FILE_NAME
        record = _Record.load(self.record_path)
        if source.exists() and source.stat().st_size and not source.read_bytes().strip(b"\0"):
            remove_durably(source)  # zeroed by a scrub a power cut interrupted: finish from the staged copy
        if source.exists():
            text = self._read(source)
            if text is None:
                return EXIT_INVALID
            try:
                provisioning = parse_text(text)
                problem = check_role_document(provisioning, self.layout)
                if problem:
                    raise ProvisioningError([problem])
            except ProvisioningError as exc:
                self._say("invalid", f"{FILE_NAME} was not applied, nothing changed:", *exc.problems)
                return EXIT_INVALID
            digest = config_hash(text)
            if record.config != digest:
                record = _Record(digest)
            elif "scrub" in record.done:  # the same file dropped again: remove it again
                record.done = [step for step in record.done if step not in ("scrub", "ready")]
            elif record.done:
                print(f"printgate-firstboot: resuming after step {record.done[-1]}", flush=True)
        elif record.config and STEPS[-1] not in record.done and self.staged.exists():
            text = self.staged.read_text()
            provisioning = parse_text(text)  # checked before it was staged
            print(f"printgate-firstboot: resuming after step {record.done[-1]}", flush=True)
        else:
            state = "provisioned" if STEPS[-1] in record.done else "waiting"
            detail = [] if state == "provisioned" else [f"put {FILE_NAME} on the boot partition"]
            self._say(state, *detail)
            return EXIT_OK
        return self._provision(provisioning, text, record)

    def _read(self, source: Path) -> str | None:
        try:
            if source.stat().st_size > MAX_FILE_BYTES:
                raise ProvisioningError([f"{FILE_NAME} is larger than {MAX_FILE_BYTES // 1024} KiB"])
            return source.read_text()
        except (OSError, UnicodeDecodeError, ProvisioningError) as exc:
            self._say("invalid", f"{FILE_NAME} was not applied, nothing changed:", f"cannot read it: {exc}")
            return None

    def _provision(self, p: Provisioning, text: str, record: _Record) -> int:
        self._say("provisioning", f"applying {FILE_NAME} ({p.role})")
        if "stage" not in record.done:
            remove_durably(self.ready_marker)  # the app waits until this file is applied
            atomic_write(self.staged, text, 0o600)
            self._mark(record, "stage")
        if "configure" not in record.done:
            self._configure(p)
            self._mark(record, "configure")
        if "enroll" not in record.done:
            if not self._enroll(p):
                return EXIT_ENROLL_FAILED
            self._mark(record, "enroll")
        if "scrub" not in record.done:
            self._scrub(text)
            self._mark(record, "scrub")
        if "ready" not in record.done:
            atomic_write(self.ready_marker, f"{record.config}\n", 0o644)
            self._mark(record, "ready")
        self._say("provisioned", f"{p.role} provisioned")
        self.start_app()
        return EXIT_OK

    def _configure(self, p: Provisioning) -> None:
        files = render(p, self.layout)
        owner = _app_owner()
        for relative, rendered in files.items():
            path = self.layout.data / relative
            atomic_write(path, rendered.content, rendered.mode)
            if rendered.app_owned and owner is not None:
                os.chown(path, *owner)
                os.chown(path.parent, *owner)
        try:
            previous = json.loads(self.manifest.read_text())
        except (OSError, ValueError):
            previous = []
        for stale in sorted(set(previous) - set(files)):
            remove_durably(self.layout.data / stale)
        atomic_write(self.manifest, json.dumps(sorted(files)) + "\n", 0o600)
        self.apply_system(self.layout)
        self.layout.identity.mkdir(parents=True, exist_ok=True, mode=0o700)
        if owner is not None:
            os.chown(self.layout.identity, *owner)

    def _enroll(self, p: Provisioning) -> bool:
        if not p.enrolls:
            return True
        command = [
            self.printgate,
            p.role,
            "enroll",
            "--token",
            p.enrollment_token,
            "--state-dir",
            str(self.layout.identity),
        ]
        shown = " ".join(command).replace(p.enrollment_token, "<token>")
        deadline = time.monotonic() + self.patience_s
        while True:
            self._say("enrolling", f"enrolling with {p.hub_addresses[0]}: {shown}")
            result = self.enroll_runner(command)
            message = result.message.replace(p.enrollment_token, "<token>")
            if result.exit_code == 0:
                return True
            if result.exit_code != ENROLL_UNREACHABLE or time.monotonic() >= deadline:
                reason = {
                    ENROLL_REFUSED: "the hub refused the token (ask for a new one)",
                    ENROLL_UNREACHABLE: "the hub did not answer",
                }.get(result.exit_code, "error")
                self._say("enroll-failed", f"enrollment failed (exit {result.exit_code}, {reason}):", message)
                return False
            self._say("enrolling", f"hub not reachable yet, retrying in {ENROLL_RETRY_S:.0f} s: {message}")
            self.sleep(ENROLL_RETRY_S)

    def _scrub(self, text: str) -> None:
        clean = scrubbed(text)
        atomic_write(self.layout.boot / APPLIED_NAME, clean, 0o600)
        shred(self.layout.boot / FILE_NAME)
        shred(self.staged)
        atomic_write(self.staged, clean, 0o600)


def _app_owner() -> tuple[int, int] | None:
    try:
        entry = pwd.getpwnam(APP_USER)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def main(argv: Sequence[str] = ()) -> int:
    """``printgate-device firstboot``."""
    printgate = str(Path(os.environ.get("PRINTGATE_VENV", "/opt/printgate/venv")) / "bin" / "printgate")
    return FirstBoot(Layout(), printgate=printgate).run()
