"""The terminal's timers and rules: ``[session]``, ``[prices]`` and ``[offline]`` of terminal.toml."""

from __future__ import annotations

from dataclasses import dataclass, field

from terminal_app.session.intents import LANGUAGES
from terminal_app.terminal.state import PriceHints

__all__ = ["IDLE_TIMEOUT_RANGE_S", "OfflinePolicy", "TerminalSettings"]

IDLE_TIMEOUT_RANGE_S = (10.0, 3600.0)


@dataclass(frozen=True)
class OfflinePolicy:
    """What the terminal allows while the hub is unreachable (see docs/terminal.md)."""

    unknown_users: str = "refuse"  # "refuse", or "allow" a capped session charged on reconnect
    unknown_user_page_cap: int = 10  # impressions per session for a card not in the cache
    session_page_cap: int = 100  # impressions per offline session, whoever it is
    credit_cap_cents: int = 500  # at most this much of a cached prepaid balance is spent offline

    def __post_init__(self) -> None:
        if self.unknown_users not in ("refuse", "allow"):
            raise ValueError("offline unknown_users must be 'refuse' or 'allow'")
        if min(self.unknown_user_page_cap, self.session_page_cap, self.credit_cap_cents) < 0:
            raise ValueError("offline caps must be >= 0")


@dataclass(frozen=True)
class TerminalSettings:
    """Timers and rules of one terminal."""

    idle_timeout_s: float = 60.0
    idle_warning_s: float = 15.0  # the last seconds of the countdown are a warning
    message_s: float = 6.0  # how long a message stays on the idle screen
    relogin_guard_s: float = 5.0  # after a logout, the same card is ignored this long
    tap_to_logout: bool = True  # the session's own card tapped again logs out
    auto_unlock: bool = True  # unlock the copier at login (else on StartCopy)
    copy_poll_s: float = 1.0  # live page count refresh while the panel is unlocked
    replay_interval_s: float = 30.0  # journal retry when the hub was unreachable (grows to this)
    paper_size: str = "A4"  # what copies are reported as (the panel cannot tell)
    language: str = "en"
    prices: PriceHints = field(default_factory=PriceHints)
    offline: OfflinePolicy = field(default_factory=OfflinePolicy)

    def __post_init__(self) -> None:
        low, high = IDLE_TIMEOUT_RANGE_S
        if not low <= self.idle_timeout_s <= high:
            raise ValueError(f"idle_timeout_s must be {low:g}..{high:g} s, not {self.idle_timeout_s}")
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}")
