"""This boot's device status for the console screen: one small JSON file per source in /run.

Each writer (first-boot provisioning, the slot health check) owns one file; the console reads
them all, plus the app's status line from systemd (the app sends ``STATUS=`` with sd_notify).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

from images.guest.layout import Layout, atomic_write

__all__ = ["Status", "read_statuses", "write_status"]


@dataclass(frozen=True)
class Status:
    """What one part of the device says about itself now."""

    source: str  # "provisioning", "update" ...
    state: str  # a short word: "provisioned", "invalid", "enrolling" ...
    detail: list[str] = field(default_factory=list)
    at_s: float = field(default_factory=time.time)


def write_status(layout: Layout, status: Status) -> None:
    """Publish ``status`` (replacing this source's previous one)."""
    atomic_write(layout.run / f"{status.source}.json", json.dumps(asdict(status)) + "\n", 0o644)


def read_statuses(layout: Layout) -> dict[str, Status]:
    """Every source's latest status, by source."""
    found: dict[str, Status] = {}
    for path in sorted(layout.run.glob("*.json")):
        try:
            data = json.loads(path.read_text())
            found[data["source"]] = Status(data["source"], data["state"], list(data["detail"]), data["at_s"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found
