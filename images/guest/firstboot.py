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
    ``printgate terminal|kiosk enroll --state-dir DIR`` with the token in its environment (never
    on a command line anyone can list): exit 0 enrolled, 1 refused or the hub not the one the
    token pins, 2 a malformed token, 3 no hub address answered (retried). The identity (key 0600,
    certificate) is handed to the app's user, and the device port the enrollment named (or the
    file's override) becomes the hub the device shows and checks.
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
from terminal_app.hub.enrollment.state import Credentials, CredentialStore

__all__ = ["APPLIED_NAME", "STEPS", "EnrollResult", "FirstBoot", "main"]

log = logging.getLogger("printgate.firstboot")

STEPS = ("stage", "configure", "enroll", "scrub", "ready")
APPLIED_NAME = "printgate-applied.toml"
APP_USER = "printgate"
EXIT_OK, EXIT_INVALID, EXIT_ENROLL_FAILED = 0, 2, 3
# exit codes of `printgate terminal|kiosk enroll` (terminal_app.hub.enrollment.command)
ENROLL_REFUSED, ENROLL_MALFORMED, ENROLL_UNREACHABLE = 1, 2, 3
TOKEN_ENV = "PRINTGATE_ENROLLMENT_TOKEN"
ENROLL_RETRY_S = 10.0
ENROLL_PATIENCE_S = 600.0


@dataclass(frozen=True)
class EnrollResult:
    """How one enrollment attempt ended."""

    exit_code: int
    message: str


Enroller = Callable[[Sequence[str], str], EnrollResult]


def restart_app() -> None:
    """(Re)start the app with the configuration just applied, without waiting for it."""
    subprocess.run(["systemctl", "--no-block", "restart", "printgate.service"], check=False)


def apply_runtime(layout: Layout) -> None:
    """Apply freshly written system configuration now (network profiles, time, host name)."""
    from images.guest.runtime import apply

    apply(layout, reload_services=True)


def run_enroll(command: Sequence[str], token: str) -> EnrollResult:
    """Run the enroll command with ``token`` in its environment; its last line of output is the
    message shown."""
    env = {**os.environ, TOKEN_ENV: token}
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=300, check=False, env=env
        )
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
            provisioning = parse_text(text, applied=True)  # checked before it was staged
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
        command = [self.printgate, p.role, "enroll", "--state-dir", str(self.layout.identity)]
        shown = " ".join(command)
        credentials = enrolled_credentials(self.layout)
        if credentials is not None and credentials.directory.stat().st_mtime >= self.staged.stat().st_mtime:
            # enrolled after this file was staged: a power cut came before the step was recorded
            # (the token is spent now, so it is not offered again)
            print(f"printgate-firstboot: already enrolled as {credentials.device_id}", flush=True)
            self._hand_over_identity(p)
            return True
        deadline = time.monotonic() + self.patience_s
        while True:
            self._say("enrolling", f"enrolling with {p.hub_address}: {shown}")
            result = self.enroll_runner(command, p.enrollment_token)
            message = result.message.replace(p.enrollment_token, "<token>")
            if result.exit_code == 0:
                print(f"printgate-firstboot: {message}", flush=True)
                self._hand_over_identity(p)
                return True
            if result.exit_code != ENROLL_UNREACHABLE or time.monotonic() >= deadline:
                reason = {
                    ENROLL_REFUSED: "the hub refused the token (ask for a new one)",
                    ENROLL_MALFORMED: "the token is malformed (copy it again)",
                    ENROLL_UNREACHABLE: "the hub did not answer",
                }.get(result.exit_code, "error")
                self._say("enroll-failed", f"enrollment failed (exit {result.exit_code}, {reason}):", message)
                return False
            self._say("enrolling", f"hub not reachable yet, retrying in {ENROLL_RETRY_S:.0f} s: {message}")
            self.sleep(ENROLL_RETRY_S)

    def _hand_over_identity(self, p: Provisioning) -> None:
        """The app's user owns its identity; the device port it will call is the hub shown."""
        owner = _app_owner()
        if owner is not None:
            for directory, names, files in os.walk(self.layout.identity):
                os.chown(directory, *owner)
                for name in (*names, *files):
                    os.chown(Path(directory) / name, *owner, follow_symlinks=False)
        credentials = enrolled_credentials(self.layout)
        endpoints = p.hub_addresses or (credentials.endpoints if credentials is not None else ())
        if endpoints:
            atomic_write(self.layout.system / "hub", "\n".join(endpoints) + "\n")

    def _scrub(self, text: str) -> None:
        clean = scrubbed(text)
        atomic_write(self.layout.boot / APPLIED_NAME, clean, 0o600)
        shred(self.layout.boot / FILE_NAME)
        shred(self.staged)
        atomic_write(self.staged, clean, 0o600)


def enrolled_credentials(layout: Layout) -> Credentials | None:
    """The identity the device's enrollment installed (None before it is enrolled)."""
    return CredentialStore(layout.identity).current()


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
