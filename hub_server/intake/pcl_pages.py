"""What the PCL counters report per page, and the bounded list they report it into."""

from __future__ import annotations

from dataclasses import dataclass

from .pcl_source import NotCountable

__all__ = ["PageLog", "PclPage", "Tint"]


class Tint:
    """What one page (or one source of paint) has been seen to use.

    ``color``: something chromatic was painted; ``unknown``: something was painted whose
    colour the counter could not decide (a JPEG image in an RGB space, a colour palette it
    cannot read). A page is colour when ``color``, undecided when only ``unknown``.
    """

    __slots__ = ("color", "unknown")

    def __init__(self) -> None:
        self.color = False
        self.unknown = False

    def paint(self, chroma: bool | None) -> None:
        """Record painting with a source of this chroma (None: undecided)."""
        if chroma:
            self.color = True
        elif chroma is None:
            self.unknown = True

    @property
    def verdict(self) -> bool | None:
        """True colour, False grey only, None undecided."""
        if self.color:
            return True
        return None if self.unknown else False


@dataclass(frozen=True)
class PclPage:
    """One printed page as the page description language asks for it.

    ``color`` is None when it cannot be decided (price it as colour). ``duplex`` and
    ``copies`` are None where the PDL says nothing, so the PJL environment (or the
    printer's default) applies. ``media`` is a PWG media name when the PDL names a size.
    """

    color: bool | None
    duplex: bool | None
    copies: int | None
    media: str | None = None


class PageLog:
    """The pages counted so far, refusing to grow past ``pages_max``."""

    def __init__(self, pages_max: int) -> None:
        self.pages: list[PclPage] = []
        self._pages_max = pages_max

    def add(self, page: PclPage, offset: int) -> None:
        """Append one page; ``NotCountable`` past the limit."""
        if len(self.pages) >= self._pages_max:
            raise NotCountable(f"more than {self._pages_max} pages", offset)
        self.pages.append(page)
