"""What a simulated reader records: one ``SimEvent`` per action, in ``sim.history``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SimEvent"]


@dataclass(frozen=True)
class SimEvent:
    """One thing that happened to a simulated reader."""

    monotonic_s: float
    action: str
    detail: str = ""
