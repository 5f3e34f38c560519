"""Cards: a card number belongs to one user; numbers compare without blanks and without case.

The functions run inside a caller's transaction; :class:`~hub_server.domain.users.Users` is the
domain object that reaches them for admins, :mod:`.auth` for a tap and for linking at a terminal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub_server.domain.validation import require, text
from hub_server.errors import AlreadyExists, NotFound
from hub_server.storage import Row, Tx

__all__ = ["CardRecord", "add_card", "cards_of", "get_card", "holder", "normalise_card_number", "remove_card"]

CARD_NUMBER = re.compile(r"^[0-9A-Za-z:_-]{1,64}$")


@dataclass(frozen=True)
class CardRecord:
    """A card and whose it is."""

    id: int
    number: str
    label: str
    user_id: int
    username: str


def normalise_card_number(number: str) -> str:
    """Card numbers compare without surrounding blanks and without case (hex from readers)."""
    return require(CARD_NUMBER, number.strip().upper(), "card number")


def holder(tx: Tx, number: str) -> int | None:
    """The id of the user a (normalised) card number belongs to, or None."""
    owner = tx.scalar("SELECT user_id FROM cards WHERE number = :n", {"n": number})
    return None if owner is None else int(owner)


def add_card(tx: Tx, user_id: int, number: str, label: str, now_us: int) -> int:
    """Link a card to a user; a number belongs to one user only."""
    normalised = normalise_card_number(number)
    if holder(tx, normalised) is not None:
        raise AlreadyExists(f"card {normalised} is already linked to a user")
    row = tx.one(
        "INSERT INTO cards (user_id, number, label, created_us) VALUES (:u, :n, :l, :t) RETURNING id",
        {"u": user_id, "n": normalised, "l": text(label, "card label"), "t": now_us},
    )
    assert row is not None
    return int(row["id"])


def remove_card(tx: Tx, number: str) -> None:
    """Unlink a card."""
    normalised = normalise_card_number(number)
    if not tx.execute("DELETE FROM cards WHERE number = :n RETURNING id", {"n": normalised}):
        raise NotFound(f"no card {normalised}")


_CARD = (
    "SELECT c.id, c.number, c.label, u.id AS user_id, u.username"
    " FROM cards c JOIN users u ON u.id = c.user_id"
)


def _record(row: Row) -> CardRecord:
    return CardRecord(
        int(row["id"]), str(row["number"]), str(row["label"]), int(row["user_id"]), str(row["username"])
    )


def get_card(tx: Tx, card_id: int) -> CardRecord:
    """One card by id."""
    row = tx.one(f"{_CARD} WHERE c.id = :c", {"c": card_id})
    if row is None:
        raise NotFound(f"no card with id {card_id}")
    return _record(row)


def cards_of(tx: Tx, user_id: int) -> list[CardRecord]:
    """A user's cards, oldest first."""
    return [_record(row) for row in tx.execute(f"{_CARD} WHERE c.user_id = :u ORDER BY c.id", {"u": user_id})]
