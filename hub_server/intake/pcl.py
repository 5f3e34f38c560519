"""Counting PCL print jobs: pages, colour pages, duplex and copies from the PJL header and the
PCL 5 / PCL XL stream, or a clear "cannot be counted" with the reason. Never a guess.

Windows vendor drivers send PCL 5 or PCL XL (PCL 6) behind a PJL header, usually over LPD.
:func:`count_pcl` reads such a job once, front to back, in bounded memory:

* the PJL header lines (HP PJL Technical Reference Manual): ``@PJL SET COPIES`` (uncollated
  copies of each page), ``QTY`` (collated copies of the whole job), ``DUPLEX=ON|OFF``,
  ``RENDERMODE=GRAYSCALE`` (and ``PLANESINUSE=1``, older HP colour LaserJets) which print a
  colour job in grey, ``PAPER``, and ``@PJL ENTER LANGUAGE=PCL|PCLXL``; a job may switch
  language several times, each section ended by a UEL (``ESC%-12345X``);
* each PCL section with :mod:`.pcl5` or :mod:`.pclxl`.

How PJL and the PCL stream combine (the PJL "current environment" is the default that the
page description language may override, HP PJL TRM "Environment Commands"):

* A page's copies are the PCL copies (``ESC&l#X``, PCL XL ``PageCopies``), else PJL
  ``COPIES``, else 1. When both are given and differ the job is not counted: HP documents that
  the PCL value wins, Xerox WorkCentre references that PJL wins.
* ``QTY`` repeats the whole job. Together with per-page copies above 1 devices multiply (Ricoh)
  or not: not counted.
* Duplex: the PCL setting of the page, else PJL ``DUPLEX``, else None (the printer default).
* ``@PJL JOB START=``/``END=`` print a page range: not counted.

Run as ``python -m hub_server.intake.pcl FILE`` it prints one JSON object (see
:func:`result_to_json`), so the intake can count a job in a subprocess under the same rlimits
and timeout as Ghostscript.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from .pcl5 import Pcl5Environment, count_pcl5
from .pcl_pages import PageLog, PclPage
from .pcl_source import ByteSource, NotCountable
from .pclxl import XL_HEADER, count_pclxl

__all__ = [
    "PclCount",
    "PclLimits",
    "PclPage",
    "Uncountable",
    "count_pcl",
    "result_from_json",
    "result_to_json",
]

UEL = b"\x1b%-12345X"
_PJL_LINE_MAX = 4096
_PJL_LINES_MAX = 10_000
_LINE_END = re.compile(rb"\n")
_SKIPPABLE = b"\r\n\t \x00\x04"  # between PJL lines, and before a job (Ctrl-D from PostScript drivers)
_SET = re.compile(rb"^@PJL\s+SET\s+(?!LPARM)(\w+)\s*=\s*\"?([^\"\r\n]*?)\"?\s*$", re.I)
_ENTER = re.compile(rb"^@PJL\s+ENTER\s+LANGUAGE\s*=\s*\"?([\w ]+?)\"?\s*$", re.I)
_JOB_RANGE = re.compile(rb"^@PJL\s+JOB\b.*\b(START|END)\s*=", re.I)
_PAPERS = {
    "LETTER": "na_letter_8.5x11in",
    "LEGAL": "na_legal_8.5x14in",
    "EXECUTIVE": "na_executive_7.25x10.5in",
    "LEDGER": "na_ledger_11x17in",
    "A3": "iso_a3_297x420mm",
    "A4": "iso_a4_210x297mm",
    "A5": "iso_a5_148x210mm",
}
_COPIES_MAX = 9999


@dataclass(frozen=True)
class PclLimits:
    """Bounds for one count: pages, and the largest field the reader holds at once."""

    pages_max: int = 100_000
    window_bytes: int = 32 * 1024 * 1024


@dataclass(frozen=True)
class PclCount:
    """A counted job. ``pages`` carry the settings in force for each page (PJL merged in)."""

    languages: tuple[str, ...]
    pages: tuple[PclPage, ...]
    job_copies: int = 1  # PJL QTY: the whole job printed this many times
    grayscale_forced: bool = False  # PJL RENDERMODE=GRAYSCALE / PLANESINUSE=1

    @property
    def page_count(self) -> int:
        """Pages of one copy of the document."""
        return len(self.pages)

    @property
    def color_page_count(self) -> int:
        """Pages of one copy known to print in colour."""
        return sum(1 for page in self.pages if page.color)

    @property
    def undecided_color_page_count(self) -> int:
        """Pages of one copy whose colour could not be decided (price them as colour)."""
        return sum(1 for page in self.pages if page.color is None)

    @property
    def impressions(self) -> int:
        """Page images printed in all: each page times its copies, times the job copies."""
        return self.job_copies * sum(page.copies or 1 for page in self.pages)


@dataclass(frozen=True)
class Uncountable:
    """The job cannot be counted exactly; ``reason`` is shown to people, ``offset`` is the
    byte where the counter gave up (None when it is about the job as a whole)."""

    reason: str
    offset: int | None = None


@dataclass
class _Pjl:
    settings: dict[str, str] = field(default_factory=dict)
    page_range: bool = False

    def integer(self, key: str) -> int | None:
        text = self.settings.get(key)
        if text is None:
            return None
        if not text.isdigit() or not 1 <= int(text) <= _COPIES_MAX:
            raise NotCountable(f"PJL {key}={text!r} is not a number of copies")
        return int(text)


def count_pcl(source: Path | BinaryIO, limits: PclLimits | None = None) -> PclCount | Uncountable:
    """Count the pages of a PJL/PCL job in a file or binary stream."""
    limits = limits or PclLimits()
    if isinstance(source, Path):
        with open(source, "rb") as stream:
            return count_pcl(stream, limits)
    reader = ByteSource(source, limits.window_bytes)
    log = PageLog(limits.pages_max)
    pjl = _Pjl()
    languages: list[str] = []
    try:
        _read_job(reader, log, pjl, languages)
        if not languages:
            return Uncountable("the job holds no PCL data")
        return _merge(languages, log.pages, pjl)
    except NotCountable as error:
        return Uncountable(error.reason, error.offset)


def _read_job(reader: ByteSource, log: PageLog, pjl: _Pjl, languages: list[str]) -> None:
    _skip_blank(reader)
    in_pjl = reader.starts_with(UEL) or reader.peek(4).upper() == b"@PJL"
    lines = 0
    while not reader.at_end():
        if reader.starts_with(UEL):
            reader.skip(len(UEL))
            in_pjl = True
            continue
        if in_pjl:
            _skip_blank(reader)
            if reader.at_end() or reader.starts_with(UEL):
                continue
            if reader.peek(4).upper() != b"@PJL":
                in_pjl = False  # PCL without ENTER LANGUAGE: the printer sniffs it
                continue
            lines += 1
            if lines > _PJL_LINES_MAX:
                raise NotCountable(f"more than {_PJL_LINES_MAX} PJL lines", reader.offset)
            language = _pjl_line(reader, pjl)
            if language is not None:
                _pdl(reader, log, pjl, languages, language)
                in_pjl = True
            continue
        _pdl(reader, log, pjl, languages, _sniff(reader))
        in_pjl = True


def _skip_blank(reader: ByteSource) -> None:
    while (head := reader.peek(1)) and head in _SKIPPABLE:
        reader.skip(1)


def _pjl_line(reader: ByteSource, pjl: _Pjl) -> str | None:
    """Read one ``@PJL`` line; the language name when it is ``ENTER LANGUAGE``."""
    raw, found = reader.take_until(_LINE_END, _PJL_LINE_MAX)
    if found:
        reader.skip(1)
    elif not reader.at_end():
        raise NotCountable("a PJL line longer than 4096 bytes", reader.offset)
    line = raw.split(b"\x1b", 1)[0].rstrip(b"\r")  # a UEL may close the last line
    if match := _ENTER.match(line):
        return match.group(1).decode("ascii").replace(" ", "").upper()
    if match := _SET.match(line):
        pjl.settings[match.group(1).decode("ascii").upper()] = (
            match.group(2).decode("latin-1").strip().upper()
        )
    elif _JOB_RANGE.match(line):
        raise NotCountable("PJL JOB START/END prints a page range", reader.offset)
    return None


def _sniff(reader: ByteSource) -> str:
    head = reader.peek(32)
    if XL_HEADER.match(head):
        return "PCLXL"
    if head.startswith(b"\x1b"):
        return "PCL"
    if head.startswith((b"%!", b"%PDF")):
        return "POSTSCRIPT" if head.startswith(b"%!") else "PDF"
    raise NotCountable("data without a language that is not recognisably PCL", reader.offset)


def _pdl(reader: ByteSource, log: PageLog, pjl: _Pjl, languages: list[str], language: str) -> None:
    if language == "PCLXL":
        count_pclxl(reader, log)
    elif language == "PCL":
        count_pcl5(reader, log, Pcl5Environment(form_lines_set="FORMLINES" in pjl.settings))
    else:
        raise NotCountable(f"the job is in {language}, not PCL", reader.offset)
    if language not in languages:
        languages.append(language)


def _merge(languages: Sequence[str], pages: Sequence[PclPage], pjl: _Pjl) -> PclCount:
    settings = pjl.settings
    pjl_copies = pjl.integer("COPIES")
    quantity = pjl.integer("QTY") or 1
    pjl_duplex = {"ON": True, "OFF": False}.get(settings.get("DUPLEX", ""))
    grayscale = settings.get("RENDERMODE") == "GRAYSCALE" or settings.get("PLANESINUSE") == "1"
    paper = _PAPERS.get(settings.get("PAPER", ""))
    merged = []
    for page in pages:
        if page.copies is not None and pjl_copies is not None and page.copies != pjl_copies:
            raise NotCountable(
                f"PJL asks for {pjl_copies} copies and PCL for {page.copies}: devices disagree which wins"
            )
        copies = page.copies or pjl_copies or 1
        if quantity > 1 and copies > 1:
            raise NotCountable(
                f"PJL QTY={quantity} with {copies} copies per page: devices combine them differently"
            )
        merged.append(
            replace(
                page,
                color=False if grayscale else page.color,
                duplex=page.duplex if page.duplex is not None else pjl_duplex,
                copies=copies,
                media=page.media or paper,
            )
        )
    return PclCount(tuple(languages), tuple(merged), quantity, grayscale)


def result_to_json(result: PclCount | Uncountable) -> str:
    """One line of JSON for a count (``{"pages": [...]}``) or a refusal (``{"uncountable": ...}``)."""
    if isinstance(result, Uncountable):
        return json.dumps({"uncountable": result.reason, "offset": result.offset})
    return json.dumps(
        {
            "languages": list(result.languages),
            "pages": [asdict(page) for page in result.pages],
            "job_copies": result.job_copies,
            "grayscale_forced": result.grayscale_forced,
        }
    )


def result_from_json(text: str | bytes) -> PclCount | Uncountable:
    """The inverse of :func:`result_to_json` (for the intake reading the subprocess)."""
    data: dict[str, Any] = json.loads(text)
    if "uncountable" in data:
        return Uncountable(str(data["uncountable"]), data.get("offset"))
    pages = tuple(
        PclPage(page["color"], page["duplex"], page["copies"], page.get("media")) for page in data["pages"]
    )
    return PclCount(tuple(data["languages"]), pages, int(data["job_copies"]), bool(data["grayscale_forced"]))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hub_server.intake.pcl FILE``: the count as one JSON line; exit 2 on usage."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) != 1:
        print("usage: python -m hub_server.intake.pcl FILE", file=sys.stderr)
        return 2
    print(result_to_json(count_pcl(Path(arguments[0]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
