"""The kiosk's timers and rules (the ``[kiosk]`` table of kiosk.toml)."""

from __future__ import annotations

from dataclasses import dataclass

from terminal_app.session.intents import LANGUAGES

__all__ = ["KioskSettings"]


@dataclass(frozen=True)
class KioskSettings:
    """Timers and rules of one kiosk (the ``[kiosk]`` table of kiosk.toml)."""

    idle_timeout_s: float = 60.0  # no touch on HOME/OPERATOR: logged out
    recharge_timeout_s: float = 90.0  # no coin and no touch while RECHARGING: recharge finished
    message_s: float = 6.0
    require_printer: bool = True  # refuse to open a recharge unless the receipt printer is ready
    print_receipts: bool = True
    keep_accepting_offline: bool = False  # hub unreachable mid-recharge: keep the acceptors enabled
    settle_s: float = 0.3  # after inhibiting: time for a coin already in the coin path to be polled
    replay_interval_s: float = 10.0  # longest pause between journal retries while the hub is down
    accept_values_minor: tuple[int, ...] = ()  # empty: every denomination the devices know
    language: str = "en"

    def __post_init__(self) -> None:
        if min(self.idle_timeout_s, self.recharge_timeout_s) < 5:
            raise ValueError("kiosk timeouts must be at least 5 s")
        if not 0 <= self.settle_s <= 5:
            raise ValueError("settle_s must be 0..5 s")
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}")
