"""The image's release file, ``/usr/lib/printgate/release``: which board, which version.

Written at build time into each root slot (``KEY=value`` lines, like os-release), so the
running slot knows its own version (RAUC's pre-install check refuses older bundles) and board.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from images.boards import Board, load_board
from images.guest.layout import Layout

__all__ = ["VERSION_PATTERN", "Release", "version_key"]


@dataclass(frozen=True)
class Release:
    """Board, version, RAUC compatible string and build identifier of one root slot."""

    board_name: str
    version: str
    compatible: str
    build: str = ""

    def text(self) -> str:
        """The release file's content."""
        fields = {
            "BOARD": self.board_name,
            "VERSION": self.version,
            "COMPATIBLE": self.compatible,
            "BUILD": self.build,
        }
        return "".join(f"{key}={value}\n" for key, value in fields.items())

    @classmethod
    def parse(cls, text: str) -> Release:
        """Read a release file's content."""
        values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        return cls(values["BOARD"], values["VERSION"], values["COMPATIBLE"], values.get("BUILD", ""))

    @classmethod
    def read(cls, layout: Layout) -> Release:
        """The running slot's release."""
        return cls.parse(layout.release.read_text())

    def board(self) -> Board:
        """This release's board definition."""
        return load_board(self.board_name)


VERSION_PATTERN = re.compile(r"^\d+(\.\d+){0,3}$")


def version_key(version: str) -> tuple[int, ...]:
    """``"1.2.10"`` -> ``(1, 2, 10)``: image versions are dotted numbers, compared numerically."""
    if not VERSION_PATTERN.match(version):
        raise ValueError(f"image version {version!r} is not dotted numbers like 1.4.2")
    parts = [int(part) for part in version.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)
