"""Prices per printer group: function x colour x paper size x simplex/duplex, per page (side).

A price for the terminal's printer group wins over the ``default`` group, and an exact paper
size wins over ``*``. Every combination has a ``default``/``*`` price from the first migration
(zero until an admin sets one), so a line is never silently unpriced. :class:`Prices` is the
domain object the services call.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub_server.domain import validation
from hub_server.domain.devices import DEFAULT_GROUP, printer_group_of_terminal
from hub_server.domain.store import Store
from hub_server.domain.validation import NAME, require
from hub_server.errors import InvalidRequest, PricingError
from hub_server.storage import Tx

FUNCTIONS = ("print", "copy", "scan", "fax")
COLORS = ("mono", "color")
MAX_PAGES_PER_LINE = 1_000_000
MAX_LINES = 64
ANY_SIZE = "*"
SESSION_PRICE_FUNCTIONS = ("print", "copy")


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
    if int(price) > validation.MAX_PRICE_CENTS_PER_PAGE:  # set by a hub before the bound existed
        raise PricingError(
            f"the price for {line.function}/{line.color} in printer group {printer_group!r} is above"
            f" {validation.MAX_PRICE_CENTS_PER_PAGE} minor units a page: an admin must set it again"
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


@dataclass(frozen=True)
class PriceRecord:
    """The price per page of one combination in a printer group."""

    function: str
    color: str
    price_cents_per_page: int
    duplex: bool = False
    printer_group: str = DEFAULT_GROUP
    paper_size: str = ANY_SIZE


def set_price(tx: Tx, price: PriceRecord) -> PriceRecord:
    """Set the price per page of one combination; returns it as stored (empty group and paper
    size mean ``default`` and ``*``)."""
    if price.function not in FUNCTIONS or price.color not in COLORS:
        raise InvalidRequest("price needs a known function and colour mode")
    validation.amount(
        price.price_cents_per_page, "a price per page", high=validation.MAX_PRICE_CENTS_PER_PAGE
    )
    stored = PriceRecord(
        function=price.function,
        color=price.color,
        price_cents_per_page=price.price_cents_per_page,
        duplex=price.duplex,
        printer_group=require(NAME, price.printer_group or DEFAULT_GROUP, "printer group"),
        paper_size=require(NAME, price.paper_size or ANY_SIZE, "paper size"),
    )
    tx.execute(
        """INSERT INTO prices (printer_group, function, color, paper_size, duplex, price_cents_per_page)
           VALUES (:g, :f, :c, :s, :d, :p)
           ON CONFLICT (printer_group, function, color, paper_size, duplex)
           DO UPDATE SET price_cents_per_page = :p""",
        {
            "g": stored.printer_group,
            "f": stored.function,
            "c": stored.color,
            "s": stored.paper_size,
            "d": int(stored.duplex),
            "p": stored.price_cents_per_page,
        },
    )
    return stored


def list_prices(tx: Tx, printer_group: str = "") -> list[PriceRecord]:
    """Every price (of one printer group, when named), of known functions and colour modes."""
    where = "WHERE printer_group = :g" if printer_group else ""
    rows = tx.execute(
        f"SELECT * FROM prices {where} ORDER BY printer_group, function, color, paper_size, duplex",
        {"g": printer_group},
    )
    return [
        PriceRecord(
            function=str(r["function"]),
            color=str(r["color"]),
            price_cents_per_page=int(r["price_cents_per_page"]),
            duplex=bool(r["duplex"]),
            printer_group=str(r["printer_group"]),
            paper_size=str(r["paper_size"]),
        )
        for r in rows
        if r["function"] in FUNCTIONS and r["color"] in COLORS
    ]


def session_prices(tx: Tx, terminal_id: str) -> list[PricedLine]:
    """Unit prices of print and copy pages at the terminal's printer group: mono/colour x
    simplex/duplex, once per paper size the price list names (``*``: any other)."""
    group = printer_group_of_terminal(tx, terminal_id)
    sizes = [
        str(row["paper_size"])
        for row in tx.execute(
            "SELECT DISTINCT paper_size FROM prices WHERE printer_group IN (:g, 'default')"
            " ORDER BY paper_size",
            {"g": group},
        )
    ]
    lines = []
    for function in SESSION_PRICE_FUNCTIONS:
        for paper in sizes:
            for color in COLORS:
                for duplex in (False, True):
                    unit = unit_price(tx, group, UsageLine(function, color, paper, duplex, 1))
                    lines.append(PricedLine(function, color, paper, duplex, 1, unit, unit))
    return lines


class Prices:
    """The price list, for admins, and the prices a terminal shows."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def set(self, price: PriceRecord) -> PriceRecord:
        """Set one price; returns it as stored."""
        return await self._store.write(lambda tx: set_price(tx, price))

    def all(self, printer_group: str = "") -> list[PriceRecord]:
        """Every price, or one printer group's."""
        return self._store.read(lambda tx: list_prices(tx, printer_group))

    def at_terminal(self, terminal_id: str) -> list[PricedLine]:
        """Unit prices of print and copy pages at a terminal (``Session.prices``)."""
        return self._store.read(lambda tx: session_prices(tx, terminal_id))
