"""What a directory says (``DirectoryUser``) and what it could not say (``Problem``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# A card number as the directory stores it -> as the hub stores it (conversion chain, then the
# hub's normalisation); raises ValueError with the reason when it cannot be converted.
CardNumber = Callable[[str], str]


@dataclass(frozen=True)
class DirectoryUser:
    """A user as the directory describes them, already mapped to hub names."""

    stable_id: str
    dn: str
    username: str
    full_name: str = ""
    email: str = ""
    department: str = ""
    cards: tuple[str, ...] = ()  # hub form, sorted, unique
    pin: str = ""
    enabled: bool = True
    groups: tuple[str, ...] = ()  # printgate group names, sorted
    roles: tuple[str, ...] = ()  # printgate role names from role_map, sorted


@dataclass(frozen=True)
class Problem:
    """An entry the sync could not use; the hub keeps what it had for it.

    ``stable_id`` is set when the entry's id could be read: a hub user linked to it is then left
    exactly as it is (neither updated nor disabled).
    """

    dn: str
    message: str
    stable_id: str = ""


@dataclass
class DirectoryRead:
    """Everything one read of a source produced."""

    source: str
    server: str
    users: list[DirectoryUser] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    groups_read: int = 0
    nested_mode: str = ""
