"""Prices per printer group: function x colour x paper size x simplex/duplex, per page (side).

A price for the terminal's printer group wins over the ``default`` group, and an exact paper
size wins over ``*``. Every combination has a ``default``/``*`` price from the first migration
(zero until an admin sets one), so a line is never silently unpriced.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub_server.errors import InvalidRequest, PricingError
from hub_server.storage.base import Tx

FUNCTIONS = ("print", "copy", "scan", "fax")
COLORS = ("mono", "color")
MAX_PAGES_PER_LINE = 1_000_000
MAX_LINES = 64
DEFAULT_GROUP = "default"
ANY_SIZE = "*"


@dataclass(frozen=True)
class UsageLine:
    """Pages of one kind."""

    function: str
    color: str
    paper_size: str
    duplex: bool
    pages: int

    def validate(self) -> None:
        """Reject values no device reports."""
        if self.function not in FUNCTIONS:
            raise InvalidRequest(f"unknown function {self.function!r}")
        if self.color not in COLORS:
            raise InvalidRequest(f"unknown colour mode {self.color!r}")
        if not 0 <= self.pages <= MAX_PAGES_PER_LINE:
            raise InvalidRequest(f"pages must be 0..{MAX_PAGES_PER_LINE}, not {self.pages}")
        if not self.paper_size or len(self.paper_size) > 32 or not self.paper_size.isprintable():
            raise InvalidRequest("paper size must be 1..32 printable characters")


@dataclass(frozen=True)
class PricedLine(UsageLine):
    """A usage line with its price."""

    unit_price_cents: int
    amount_cents: int


def printer_group_of_terminal(tx: Tx, terminal_id: str) -> str:
    """The price-list group of the printer a terminal stands at."""
    group = tx.scalar(
        "SELECT p.printer_group FROM terminals t JOIN printers p ON p.id = t.printer_id WHERE t.id = :t",
        {"t": terminal_id},
    )
    return str(group) if group else DEFAULT_GROUP


def unit_price(tx: Tx, printer_group: str, line: UsageLine) -> int:
    """The price of one page of ``line`` in ``printer_group``."""
    price = tx.scalar(
        """SELECT price_cents_per_page FROM prices
           WHERE printer_group IN (:g, 'default') AND function = :f AND color = :c AND duplex = :d
             AND paper_size IN (:s, '*')
           ORDER BY CASE WHEN printer_group = :g THEN 0 ELSE 1 END,
                    CASE WHEN paper_size = :s THEN 0 ELSE 1 END
           LIMIT 1""",
        {
            "g": printer_group,
            "f": line.function,
            "c": line.color,
            "d": int(line.duplex),
            "s": line.paper_size,
        },
    )
    if price is None:
        raise PricingError(
            f"no price for {line.function}/{line.color}/{line.paper_size}/"
            f"{'duplex' if line.duplex else 'simplex'} in printer group {printer_group!r}"
        )
    return int(price)


def price_lines(tx: Tx, printer_group: str, lines: list[UsageLine]) -> list[PricedLine]:
    """Price every line (validated first)."""
    if not 1 <= len(lines) <= MAX_LINES:
        raise InvalidRequest(f"a usage report has 1..{MAX_LINES} lines, not {len(lines)}")
    priced = []
    for line in lines:
        line.validate()
        unit = unit_price(tx, printer_group, line)
        priced.append(
            PricedLine(
                function=line.function,
                color=line.color,
                paper_size=line.paper_size,
                duplex=line.duplex,
                pages=line.pages,
                unit_price_cents=unit,
                amount_cents=unit * line.pages,
            )
        )
    return priced


def default_price_statements() -> list[str]:
    """SQL seeding a zero ``default``/``*`` price for every combination."""
    return [
        "INSERT INTO prices (printer_group, function, color, paper_size, duplex, price_cents_per_page)"
        f" VALUES ('{DEFAULT_GROUP}', '{function}', '{color}', '{ANY_SIZE}', {duplex}, 0)"
        for function in FUNCTIONS
        for color in COLORS
        for duplex in (0, 1)
    ]
