"""Central configuration on the device: fetch a version from the hub, validate it, apply it,
and keep the last good one.

The hub tells a device of a new version with a ``reload_config`` command; the device's handler
calls :meth:`ConfigSync.sync`, which fetches the effective document through the hub client
(:meth:`terminal_app.hub.fleet_config.FleetCalls.fetch_config`), runs the role's validator,
applies it and stores it as the last good version (``config-good.json`` in the telemetry state directory). A
document that fails validation or whose application raises changes nothing: the device goes on
with the last good version and answers ``failed`` with the reason. The version it runs goes into
every state snapshot (``config_version``), so the hub sees which devices are behind.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from terminal_app.errors import HubCallError
from terminal_app.hub.fleet_config import Fetch
from terminal_app.hub.values import FetchedConfig
from terminal_app.telemetry.commands import CommandResult, _read_json, _write_json
from terminal_app.telemetry.snapshot import DeviceEvent

__all__ = ["ConfigSync"]

log = logging.getLogger(__name__)
GOOD_FILE = "config-good.json"


class ConfigSync:
    """``validate`` raises ValueError for a document the role cannot use; ``apply`` puts a valid
    one into force (it may be async); ``events`` receives config_applied/config_rejected."""

    def __init__(
        self,
        state_dir: Path,
        fetch: Fetch,
        validate: Callable[[dict[str, Any]], None],
        apply: Callable[[dict[str, Any]], Any],
        events: Callable[[DeviceEvent], Any] | None = None,
    ) -> None:
        self._path = state_dir / GOOD_FILE
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._fetch = fetch
        self._validate = validate
        self._apply = apply
        self._events = events or (lambda event: None)

    @property
    def good(self) -> FetchedConfig | None:
        """The last good configuration, or None before the first."""
        stored = _read_json(self._path, None)
        if not isinstance(stored, dict) or not isinstance(stored.get("document"), dict):
            return None
        return FetchedConfig(str(stored.get("version", "")), stored["document"])

    @property
    def version(self) -> str:
        """The version in force ('' before the first)."""
        good = self.good
        return good.version if good else ""

    async def restore(self) -> FetchedConfig | None:
        """At start: put the last good configuration back into force (no network needed)."""
        good = self.good
        if good is not None:
            await self._call_apply(good.document)
        return good

    async def _call_apply(self, document: dict[str, Any]) -> None:
        outcome = self._apply(document)
        if inspect.isawaitable(outcome):
            await outcome

    async def sync(self, wanted_version: str) -> CommandResult:
        """Fetch, validate, apply and keep; see the module docstring."""
        current = self.version
        try:
            fetched = await self._fetch(current)
        except (HubCallError, ValueError, OSError) as error:
            return CommandResult.failed(f"could not fetch configuration: {type(error).__name__}")
        if wanted_version and fetched.version != wanted_version:
            log.info("asked for configuration %s, the hub has %s now", wanted_version, fetched.version)
        if fetched.version == current:
            return CommandResult.done(f"configuration {current} already in force", version=current)
        try:
            self._validate(fetched.document)
            await self._call_apply(fetched.document)
        except (ValueError, TypeError, KeyError) as error:
            reason = f"configuration {fetched.version} refused: {error}"[:300]
            self._events(DeviceEvent("config_rejected", "fault", {"version": fetched.version}))
            good = self.good
            if good is not None:
                await self._call_apply(good.document)
            return CommandResult.failed(
                f"{reason}; keeping {current or 'the local defaults'}", version=current
            )
        _write_json(self._path, {"version": fetched.version, "document": fetched.document})
        self._events(DeviceEvent("config_applied", "info", {"version": fetched.version}))
        return CommandResult.done(f"configuration {fetched.version} applied", version=fetched.version)
