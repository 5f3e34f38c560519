"""Remote operations on the device: the handlers the terminal/kiosk wiring implements, and the
guard that admits a command at most once.

A command arrives as ``{"v":1,"id":...,"verb":...,"args":{...},"expires_s":...}`` on the
device's own command topic. :class:`CommandGuard` admits it only when its id has not been seen
(replays and QoS 1 duplicates are dropped silently and counted) and it has not expired (answered
``rejected``). The client then answers ``accepted``, runs the handler, and answers ``done`` or
``failed`` with the handler's :class:`CommandResult`.

Restarting verbs cannot answer after they ran: their handler returns
:meth:`CommandResult.after_restart`, the guard keeps the command as pending on disk, and the next
start of the client answers it — ``done``, or for ``install_update`` ``failed`` when the software
that came back is not the version the update was to install (the image rolled back).

An ``install_update`` is handed to the device's root service, which goes on installing when the
app itself is restarted meanwhile (its watchdog, a ``restart_app``, a crash). So the guard keeps
it pending *before* its handler runs: a start that finds it still running the old version while
the command has not expired leaves it pending (the root service may still reboot into the new
slot), instead of answering for an update that is still under way.
"""

from __future__ import annotations

import abc
import contextlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from printgate.fleet_wire import check_command_args

__all__ = [
    "ANSWERED_AT_ONCE_VERBS",
    "HANDED_OVER_VERBS",
    "Command",
    "CommandGuard",
    "CommandHandlers",
    "CommandRejected",
    "CommandResult",
    "run_handler",
]

SEEN_FILE = "commands-seen.json"
PENDING_FILE = "commands-pending.json"
SEEN_MAX = 512
# Verbs whose work goes on outside the app once handed over: pending before the handler runs.
HANDED_OVER_VERBS = frozenset({"install_update"})
# Verbs whose handlers finish at once: answered with their result only. An "accepted" that the
# result follows within milliseconds would double the answers of a whole fleet for nothing.
ANSWERED_AT_ONCE_VERBS = frozenset({"set_log_level", "show_message"})


@dataclass(frozen=True)
class Command:
    """An admitted command."""

    id: str
    verb: str
    args: dict[str, Any]
    expires_s: float = 0.0  # the hub's deadline (epoch seconds): no answer counts after it


@dataclass(frozen=True)
class CommandResult:
    """What a handler reports: ``done`` or ``failed``, a short detail and result facts."""

    status: str
    detail: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    # Set by after_restart(): completion is reported by the next start of the client.
    restart_pending: bool = False
    expect_version: str | None = None

    def __post_init__(self) -> None:
        if self.status not in ("done", "failed", "accepted"):
            raise ValueError("a handler result is done, failed, or accepted (after_restart)")

    @classmethod
    def done(cls, detail: str = "", **result: Any) -> CommandResult:
        return cls("done", detail, dict(result))

    @classmethod
    def failed(cls, detail: str, **result: Any) -> CommandResult:
        return cls("failed", detail, dict(result))

    @classmethod
    def after_restart(cls, detail: str = "", expect_version: str | None = None) -> CommandResult:
        """The handler is about to restart the app or the machine; answer after it is back."""
        return cls("accepted", detail, {}, restart_pending=True, expect_version=expect_version)


class CommandRejected(ValueError):
    """A command that is answered ``rejected`` and never run."""


class CommandHandlers(abc.ABC):
    """What the terminal and the kiosk implement. Each handler runs on the engine's event loop
    and returns a :class:`CommandResult`; an exception is reported as ``failed`` with its text."""

    @abc.abstractmethod
    async def restart_app(self) -> CommandResult:
        """Restart the application (usually :meth:`CommandResult.after_restart`)."""

    @abc.abstractmethod
    async def reboot(self) -> CommandResult:
        """Reboot the machine (usually :meth:`CommandResult.after_restart`)."""

    @abc.abstractmethod
    async def reload_config(self, version: str) -> CommandResult:
        """Fetch configuration ``version`` from the hub, validate, apply (see ``ConfigSync``)."""

    @abc.abstractmethod
    async def set_log_level(self, level: str) -> CommandResult:
        """Set the root log level (DEBUG, INFO, WARNING, ERROR)."""

    @abc.abstractmethod
    async def show_message(self, text: str, duration_s: int) -> CommandResult:
        """Show an operator message on the screen for ``duration_s``."""

    @abc.abstractmethod
    async def collect_diagnostics(self, command_id: str) -> CommandResult:
        """Build a diagnostics bundle without secrets (``diagnostics.build_bundle``) and upload
        it to the hub under ``command_id``."""

    @abc.abstractmethod
    async def install_update(self, url: str, version: str, sha256: str) -> CommandResult:
        """Install the signed bundle into the other slot and reboot into it
        (``after_restart(expect_version=version)``)."""

    async def resume_update(self, version: str) -> CommandResult | None:
        """At a start of the app, the outcome of an install of ``version`` an earlier run handed
        over and never heard back about (the app restarted meanwhile): ``failed`` with the
        device's reason, ``after_restart`` when the reboot into it follows, None when this
        device cannot know."""
        return None


async def run_handler(handlers: CommandHandlers, command: Command) -> CommandResult:
    """Call the handler of ``command``'s verb; exceptions become ``failed``."""
    args = command.args
    try:
        if command.verb == "restart_app":
            return await handlers.restart_app()
        if command.verb == "reboot":
            return await handlers.reboot()
        if command.verb == "reload_config":
            return await handlers.reload_config(args["version"])
        if command.verb == "set_log_level":
            return await handlers.set_log_level(args["level"])
        if command.verb == "show_message":
            return await handlers.show_message(args["text"], args["duration_s"])
        if command.verb == "collect_diagnostics":
            return await handlers.collect_diagnostics(command.id)
        return await handlers.install_update(args["url"], args["version"], args["sha256"])
    except Exception as error:  # a handler bug must still answer the hub
        return CommandResult.failed(f"{type(error).__name__}: {error}"[:500])


def _write_json(path: Path, value: Any) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump(value, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return default


class CommandGuard:
    """Admits each command id once (remembering the last :data:`SEEN_MAX` on disk, so a restart
    does not reopen the door) and refuses expired commands."""

    def __init__(self, state_dir: Path) -> None:
        self._dir = state_dir
        seen = _read_json(state_dir / SEEN_FILE, [])
        self._seen: list[str] = [s for s in seen if isinstance(s, str)][-SEEN_MAX:]
        self._seen_set = set(self._seen)
        self.replays = 0
        # pending commands are kept from the MQTT thread and settled from the event loop
        self._pending_lock = threading.Lock()

    def admit(self, document: dict[str, Any], now_s: float) -> Command | None:
        """The command to run; None for a replay (dropped); :class:`CommandRejected` when it
        must be refused (its id is then remembered too)."""
        command_id = document.get("id")
        if not isinstance(command_id, str) or not 0 < len(command_id) <= 64:
            raise CommandRejected("command without a valid id")
        if command_id in self._seen_set:
            self.replays += 1
            return None
        self._remember(command_id)
        expires_s = document.get("expires_s")
        if not isinstance(expires_s, int | float) or isinstance(expires_s, bool):
            raise CommandRejected("command without an expiry")
        if now_s > expires_s:
            raise CommandRejected("command expired before it arrived")
        verb = document.get("verb")
        try:
            args = check_command_args(str(verb), document.get("args", {}))
        except ValueError as error:
            raise CommandRejected(str(error)) from None
        return Command(command_id, str(verb), args, float(expires_s))

    def _remember(self, command_id: str) -> None:
        self._seen.append(command_id)
        self._seen_set.add(command_id)
        if len(self._seen) > SEEN_MAX:
            self._seen_set.discard(self._seen.pop(0))
        _write_json(self._dir / SEEN_FILE, self._seen)

    def keep_pending(self, command: Command, result: CommandResult) -> None:
        """Remember a command whose completion the next start reports."""
        self._keep(command.id, {"verb": command.verb, "expect_version": result.expect_version})

    def hand_over(self, command: Command) -> None:
        """Remember a :data:`HANDED_OVER_VERBS` command before its handler runs: a restart of the
        app while the device still works on it does not lose it (see the module docstring)."""
        self._keep(
            command.id,
            {
                "verb": command.verb,
                "expect_version": command.args.get("version"),
                "handed_over": True,
                "expires_s": command.expires_s,
            },
        )

    def settle(self, command_id: str) -> None:
        """Forget a pending command that its handler answered after all."""
        with self._pending_lock:
            pending = _read_json(self._dir / PENDING_FILE, {})
            if pending.pop(command_id, None) is not None:
                _write_json(self._dir / PENDING_FILE, pending)

    def _keep(self, command_id: str, facts: dict[str, Any]) -> None:
        with self._pending_lock:
            pending = _read_json(self._dir / PENDING_FILE, {})
            pending[command_id] = facts
            _write_json(self._dir / PENDING_FILE, pending)

    def handed_over(self) -> list[tuple[str, str]]:
        """(id, expected version) of the handed-over commands still pending."""
        with self._pending_lock:
            pending = _read_json(self._dir / PENDING_FILE, {})
        return [
            (command_id, str(facts.get("expect_version") or ""))
            for command_id, facts in pending.items()
            if isinstance(facts, dict) and facts.get("handed_over")
        ]

    def take_pending(self, software_version: str, now_s: float) -> list[tuple[str, str, str]]:
        """(id, status, detail) of the commands that completed by this start; forgets them. A
        handed-over update not yet running its version stays pending until it expires."""
        with self._pending_lock:
            pending = _read_json(self._dir / PENDING_FILE, {})
            answers, still = [], {}
            for command_id, facts in pending.items():
                facts = facts if isinstance(facts, dict) else {}
                expected = facts.get("expect_version")
                if not expected or expected == software_version:
                    answers.append((command_id, "done", f"back, running {software_version}"))
                elif facts.get("handed_over") and now_s < float(facts.get("expires_s") or 0):
                    still[command_id] = facts  # the root service may still be installing it
                else:
                    answers.append((command_id, "failed", f"running {software_version}, not {expected}"))
            if answers:
                _write_json(self._dir / PENDING_FILE, still)
        return answers
