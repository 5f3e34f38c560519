"""PCL 5 (5e/5c) page counter: page ejects, copies, duplex, media and colour per page.

The stream is parsed command by command the way the printer parses it (HP PCL 5 Printer
Language Technical Reference Manual, "PCL Command Syntax": ``ESC`` followed by a
parameterised character 0x21-0x2F, an optional group character 0x60-0x7E, then value fields
each ended by a parameter character, lower case 0x60-0x7E when more follow, upper case
0x40-0x5E for the last). Binary data that follows a command (raster rows, fonts, patterns,
configuration blocks) is skipped by its byte count, so bytes inside it are never taken for
form feeds.

Page rules (PCL 5 TRM "Job Control" and "Page Control"; HP DeskJet PCL Developer's Guide
10.5.1 on ``ESC E``; Xerox DocuPrint "Guide to Using Page Description Languages", PCL Copy
command table, for the LaserJet copy behaviour):

* A form feed (0x0C) always ends a page, blank or not (a LaserJet feeds a blank sheet for it).
* ``ESC E`` (reset), the UEL, and page-setting commands (page size ``ESC&l#A``, page length
  ``ESC&l#P``, orientation ``ESC&l#O``, paper source ``ESC&l#H``, simplex/duplex
  ``ESC&l#S``, duplex page side ``ESC&a#G``) end the page only when printable data has been
  placed on it. Printable data: characters other than space, raster rows with data,
  transparent print data, filled rectangles, HP-GL/2 drawing. Cursor moves do not count.
  Where it is unclear whether the page carries anything (an HP-GL/2 segment, a rectangle of
  unknown size) and the answer decides a page, the job is not counted.
* ``ESC&l#X`` sets the copies of the current page and of every later page, until changed or
  ``ESC E`` (then the PJL environment applies again).
* ``ESC&l#S``: 0 simplex, 1 duplex long edge, 2 duplex short edge.
* Text that flows past the bottom margin ejects a page by itself (perforation skip). That is
  not counted: the counter follows the vertical cursor (line feeds at the VMI, rows, raster
  rows) and refuses the job when a line feed could cross the bottom margin. Without an
  explicit VMI (``ESC&l#C``/``ESC&l#D``) it assumes the factory 6 lines per inch.
* Macros (``ESC&f#X``) are summarised while defined; running one that ejects pages, or that
  runs other macros, makes the job uncountable. Display functions (``ESC Y``) and end-of-line
  wrap (``ESC&s0C``) with text do too.

Colour (PCL 5 Color TRM): the default palette is black and white. ``ESC*r#U`` selects simple
colour (1 mono, 3 RGB planes, -3 CMY planes, -4 KCMY planes); raster rows of three-plane data
are decoded (compression 0-3) and a pixel is colour when its planes differ. ``ESC*v#W``
(configure image data) with 24-bit direct-by-pixel RGB is decoded the same way. Text, rules
and HP-GL/2 drawn while any colour palette is active leave the page undecided unless the
foreground is known grey.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .pcl_pages import PageLog, PclPage, Tint
from .pcl_raster import (
    RasterDecodeError,
    achromatic_planes,
    achromatic_rgb,
    decode_delta_row,
    decode_packbits,
    decode_run_length,
)
from .pcl_source import ByteSource, NotCountable

__all__ = ["Pcl5Environment", "count_pcl5"]

_UEL_VALUE = "-12345"
_TEXT_CONTROLS = re.compile(rb"[\x00-\x20\x7f]")
_VALUE = re.compile(rb"[^+\-0-9.]")
_VALUE_MAX = 32
_DATA_BYTES_MAX = 16 * 1024 * 1024  # one command's binary data (PCL says 32767 for most)
_MACRO_BYTES_MAX = 64 * 1024 * 1024
_DECIPOINTS_PER_INCH = 720
_DEFAULT_VMI_DP = 120  # 6 lines per inch
_DEFAULT_TOP_MARGIN_DP = 360  # 1/2 inch
# the shortest logical page length of the usual default papers (A4 landscape, 210 mm)
_SHORTEST_DEFAULT_LENGTH_DP = 5953
_CURSOR_STACK_MAX = 20
_RASTER_ROW_BYTES_MAX = 1 << 20  # PCL allows 32767; longer rows are skipped, colour undecided

# (parameterised char, group char, parameter char) of commands followed by binary data
_DATA_COMMANDS = frozenset(
    {
        (b"*", b"b", b"W"),  # transfer raster data by row
        (b"*", b"b", b"V"),  # transfer raster data by plane
        (b"(", b"s", b"W"),  # character descriptor and data
        (b")", b"s", b"W"),  # font header
        (b"(", b"f", b"W"),  # define symbol set
        (b"*", b"c", b"W"),  # user-defined pattern
        (b"&", b"p", b"X"),  # transparent print data
        (b"*", b"v", b"W"),  # configure image data
        (b"*", b"m", b"W"),  # download dither matrix
        (b"*", b"l", b"W"),  # colour lookup tables
        (b"*", b"i", b"W"),  # viewing illuminant
        (b"*", b"o", b"W"),  # driver configuration
        (b"*", b"g", b"W"),  # configure raster data
        (b"&", b"n", b"W"),  # alphanumeric ID
        (b"&", b"b", b"W"),  # AppleTalk configuration
    }
)
# ESC&l commands known not to eject the page
_PAGE_NEUTRAL_L = frozenset(bytes([code]) for code in b"XEFLCDUZT")
# PCL 5 page size codes (TRM "Page Size") -> (PWG name, portrait length in decipoints)
_PAGE_SIZES = {
    1: ("na_executive_7.25x10.5in", 7560),
    2: ("na_letter_8.5x11in", 7920),
    3: ("na_legal_8.5x14in", 10080),
    6: ("na_ledger_11x17in", 12240),
    25: ("iso_a5_148x210mm", 5953),
    26: ("iso_a4_210x297mm", 8419),
    27: ("iso_a3_297x420mm", 11906),
}
_PAGE_WIDTHS_DP = {1: 5220, 2: 6120, 3: 6120, 6: 7920, 25: 4195, 26: 5953, 27: 8419}

MARK_NONE, MARK_UNSURE, MARK_YES = 0, 1, 2


@dataclass(frozen=True)
class Pcl5Environment:
    """What the PJL header says that PCL 5 depends on."""

    form_lines_set: bool = False  # ``@PJL SET FORMLINES``: the default VMI is not the factory one


@dataclass
class _Macro:
    """What a macro does when run, gathered while it was defined."""

    page_effects: bool = False  # ejects pages or changes copies, duplex, page size
    marks: int = MARK_NONE
    colour_effects: bool = False
    runs_macros: bool = False
    moves_cursor: bool = False
    permanent: bool = False
    size_bytes: int = 0


@dataclass
class _Raster:
    compression: int = 0
    width_px: int | None = None
    resolution_dpi: int = 75
    active: bool = False
    planes: list[bytes | None] = field(default_factory=list)
    seeds: dict[int, bytes] = field(default_factory=dict)


class _Counter:
    def __init__(self, source: ByteSource, log: PageLog, environment: Pcl5Environment) -> None:
        self.source = source
        self.log = log
        self.environment = environment
        self.macros: dict[int, _Macro] = {}
        self.macro_id = 0
        self.macro_ids_untracked = False
        self.defining: _Macro | None = None
        self.overlay: _Macro | None = None
        self._reset()
        self._new_page()

    # -- state ---------------------------------------------------------------------------------

    def _reset(self) -> None:
        """``ESC E``: the user default environment (TRM "Printer Reset")."""
        self.copies: int | None = None
        self.duplex: bool | None = None
        self.page_size: int | None = None
        self.landscape: bool | None = None
        self.vmi_dp: float = _DEFAULT_VMI_DP
        self.vmi_explicit = False
        self.units_per_inch = 300
        self.perforation_skip = True
        self.line_termination = 0
        self.wrap = False
        self.planes = 1  # simple colour mode: 1, 3, -3, -4
        self.direct_rgb = False  # configure image data: 24-bit direct by pixel, RGB
        self.colour_palette = False  # a palette with colours is active
        self.simple_palette = True  # the palette is exactly the one ESC*r#U made (or black and white)
        self.foreground: bool | None = False  # chroma of the foreground colour (black)
        self.rectangle_sized = [False, False]  # width and height set to non-zero values
        self.y_before_hpgl: float | None = None
        self.raster = _Raster()
        self.cursor_stack: list[float] = []
        self.macros = {key: macro for key, macro in self.macros.items() if macro.permanent}
        self.overlay = None
        self._reset_margins()

    def _reset_margins(self) -> None:
        self.top_margin_dp: float = _DEFAULT_TOP_MARGIN_DP
        self.text_length_dp: float | None = None  # None: page length - 1 inch

    def _new_page(self) -> None:
        self.marked = MARK_NONE
        self.tint = Tint()
        self.y_dp: float = self.top_margin_dp + self.vmi_dp

    @property
    def page_length_dp(self) -> float:
        """The logical page length, or the shortest default paper's when not known."""
        if self.page_size in _PAGE_SIZES and self.landscape is not None:
            portrait = _PAGE_SIZES[self.page_size][1]
            return _PAGE_WIDTHS_DP[self.page_size] if self.landscape else portrait
        return _SHORTEST_DEFAULT_LENGTH_DP

    @property
    def bottom_dp(self) -> float:
        if not self.perforation_skip:
            return self.page_length_dp
        if self.text_length_dp is not None:
            return self.top_margin_dp + self.text_length_dp
        return self.page_length_dp - _DECIPOINTS_PER_INCH / 2

    # -- effects (recorded into a macro while one is being defined) ----------------------------

    def _mark(self, level: int, chroma: bool | None) -> None:
        if self.defining is not None:
            self.defining.marks = max(self.defining.marks, level)
            self.defining.colour_effects |= chroma is not False
            return
        self.marked = max(self.marked, level)
        self.tint.paint(chroma)

    def _text_chroma(self) -> bool | None:
        return self.foreground

    def _move_down(self, decipoints: float, by_line_feed: bool) -> None:
        if self.defining is not None:
            self.defining.moves_cursor = True
            return
        self.y_dp = max(0.0, self.y_dp + decipoints)
        if by_line_feed:
            if not self.vmi_explicit and self.environment.form_lines_set:
                raise NotCountable("line feeds with the line spacing PJL FORMLINES sets", self.source.offset)
            if self.y_dp > self.bottom_dp:
                raise NotCountable(
                    "text may run past the bottom margin (the printer's own page eject)", self.source.offset
                )
        self.y_dp = min(self.y_dp, self.page_length_dp)

    def _move_to(self, decipoints_from_top_margin: float) -> None:
        if self.defining is not None:
            self.defining.moves_cursor = True
            return
        # An upper bound: the origin may be the top margin or the top of the page.
        self.y_dp = min(self.top_margin_dp + max(0.0, decipoints_from_top_margin), self.page_length_dp)

    def _eject(self, always: bool, why: str) -> None:
        """End the current page if it prints (``always`` for a form feed)."""
        if self.defining is not None:
            self.defining.page_effects = True
            return
        if not always and self.marked == MARK_UNSURE:
            raise NotCountable(f"{why} on a page that may be blank", self.source.offset)
        if always or self.marked == MARK_YES:
            if self.overlay is not None and self.overlay.marks:
                self.tint.paint(None if self.overlay.colour_effects else False)
            media = _PAGE_SIZES[self.page_size][0] if self.page_size in _PAGE_SIZES else None
            self.log.add(PclPage(self.tint.verdict, self.duplex, self.copies, media), self.source.offset)
        self._new_page()

    def _page_command(self, why: str) -> None:
        """A page-setting command: it ends a page that carries printable data."""
        if self.defining is not None:
            self.defining.page_effects = True
            return
        self._eject(False, why)

    # -- the stream ----------------------------------------------------------------------------------

    def run(self) -> None:
        source = self.source
        while True:
            text, found = source.take_until(_TEXT_CONTROLS, 1 << 20)
            if text:
                self._printable(len(text))
            if not found:
                if source.at_end():
                    self._end_of_stream()
                    return
                continue
            code = source.byte()
            if code == 0x1B:
                if self._escape():
                    return
            elif code == 0x0C:
                self._eject(True, "form feed")
            elif code == 0x0A or (code == 0x0D and self.line_termination in (1, 3)):
                self._move_down(self.vmi_dp, True)

    def _printable(self, count: int) -> None:
        if self.wrap:
            raise NotCountable("text with end-of-line wrap enabled", self.source.offset)
        self._mark(MARK_YES, self._text_chroma())

    def _end_of_stream(self) -> None:
        if self.defining is not None:
            raise NotCountable("the job ends inside a macro definition", self.source.offset)
        self._page_command("the end of the job")

    def _escape(self) -> bool:
        """Parse one escape sequence; True at a UEL (the PCL section is over)."""
        source = self.source
        first = source.byte()
        if 0x30 <= first <= 0x7E:
            return self._two_character(bytes((first,)))
        if not 0x21 <= first <= 0x2F:
            raise NotCountable(f"ESC followed by {first:#04x}", source.offset)
        parameterised = bytes((first,))
        group = b""
        following = source.peek(1)
        if following and 0x60 <= following[0] <= 0x7E:
            group = bytes((source.byte(),))
        while True:
            value_bytes, _ = source.take_until(_VALUE, _VALUE_MAX + 1)
            if len(value_bytes) > _VALUE_MAX:
                raise NotCountable("an escape sequence with an overlong value", source.offset)
            final = source.byte()
            if not 0x40 <= final <= 0x7E:
                raise NotCountable("a malformed escape sequence", source.offset)
            last = final <= 0x5E
            parameter = bytes((final,)).upper()
            value = value_bytes.decode("ascii")
            if (parameterised, group, parameter) == (b"%", b"", b"X") and value == _UEL_VALUE:
                if self.defining is not None:
                    raise NotCountable("a UEL inside a macro definition", source.offset)
                self._page_command("the end of the PCL job (UEL)")
                return True
            self._command(parameterised, group, parameter, value)
            if last:
                return False

    def _two_character(self, code: bytes) -> bool:
        if code == b"E":
            if self.defining is not None:
                raise NotCountable("a reset inside a macro definition", self.source.offset)
            self._page_command("reset (ESC E)")
            self._reset()
            self._new_page()
        elif code == b"=":
            self._move_down(self.vmi_dp / 2, True)
        elif code == b"Y":
            raise NotCountable("display functions (ESC Y) print control codes", self.source.offset)
        elif code == b"9":
            pass  # clear horizontal margins
        return False

    # -- parameterised commands ------------------------------------------------------------------------

    def _command(self, parameterised: bytes, group: bytes, parameter: bytes, value: str) -> None:
        key = (parameterised, group, parameter)
        if key in _DATA_COMMANDS:
            self._data_command(key, _integer(value, 0, _DATA_BYTES_MAX, self.source.offset))
            return
        if parameter == b"W" and parameterised != b"%":
            raise NotCountable(
                f"unknown data command ESC{(parameterised + group).decode()}#W", self.source.offset
            )
        handler = _HANDLERS.get(parameterised + group)
        if handler is not None:
            handler(self, parameter, value)
        elif parameterised == b"%":
            self._hpgl_switch(parameter, value)

    def _data_command(self, key: tuple[bytes, bytes, bytes], count: int) -> None:
        source = self.source
        if self.defining is not None:
            self.defining.size_bytes += count
            if self.defining.size_bytes > _MACRO_BYTES_MAX:
                raise NotCountable("a macro over the size limit", source.offset)
        if key in ((b"*", b"b", b"W"), (b"*", b"b", b"V")):
            if count <= _RASTER_ROW_BYTES_MAX:
                self._raster_data(source.read(count), key[2] == b"W", count)
            else:
                source.skip(count)
                self._raster_data(None, key[2] == b"W", count)
        elif key == (b"*", b"v", b"W"):
            self._configure_image_data(source.read(count))
        elif key == (b"&", b"p", b"X"):
            source.skip(count)
            if count:
                self._mark(MARK_YES, self._text_chroma())
        elif key == (b"&", b"n", b"W"):
            source.skip(count)
            self.macro_ids_untracked = True
        elif key == (b"*", b"c", b"W"):
            source.skip(count)
            if self.colour_palette:
                self._colour_effect()
        else:
            source.skip(count)

    def _colour_effect(self) -> None:
        if self.defining is not None:
            self.defining.colour_effects = True

    # -- raster ------------------------------------------------------------------------------------------

    def _raster_data(self, data: bytes | None, row_end: bool, count: int) -> None:
        raster = self.raster
        if self.defining is not None:
            self.defining.marks = max(self.defining.marks, MARK_YES if count else MARK_NONE)
            self.defining.colour_effects |= self.planes != 1 or self.direct_rgb
            self.defining.moves_cursor = True
            return
        if not raster.active:
            raster.active = True  # raster data starts raster graphics by itself
            raster.planes, raster.seeds = [], {}
        raster.planes.append(data)
        if not row_end:
            if len(raster.planes) > 8:
                raise NotCountable("more raster planes than any colour mode has", self.source.offset)
            return
        planes, raster.planes = raster.planes, []
        if count or any(planes):
            self._mark(MARK_YES, self._row_chroma(planes))
        self._move_down(_DECIPOINTS_PER_INCH / raster.resolution_dpi, False)

    def _row_chroma(self, planes: list[bytes | None]) -> bool | None:
        if self.tint.color:
            return True
        if self.planes == 1 and not self.direct_rgb:
            return self._text_chroma()
        raster = self.raster
        try:
            rows = [None if data is None else self._decode(index, data) for index, data in enumerate(planes)]
        except RasterDecodeError:
            return None
        if rows and None in rows:
            return None
        decoded = [row for row in rows if row is not None]
        if self.direct_rgb:
            return not achromatic_rgb(decoded[0], len(decoded[0]) // 3) if len(decoded) == 1 else None
        wanted = 4 if self.planes == -4 else 3
        if len(decoded) != wanted:
            return None
        chromatic = decoded[1:] if wanted == 4 else decoded  # KCMY: K does not make colour
        return not achromatic_planes(chromatic, raster.width_px)

    def _decode(self, plane: int, data: bytes) -> bytes | None:
        raster = self.raster
        if raster.width_px is None:
            limit = _RASTER_ROW_BYTES_MAX
        else:
            limit = raster.width_px * 3 if self.direct_rgb else (raster.width_px + 7) // 8
        mode = raster.compression
        if mode == 0:
            row = data[:limit]
        elif mode == 1:
            row = decode_run_length(data, limit)
        elif mode == 2:
            row = b""
            used = 0
            while used < len(data) and len(row) < limit:
                piece, step = decode_packbits(data[used:], limit - len(row))
                if not step:
                    break
                row, used = row + piece, used + step
        elif mode == 3:
            row = decode_delta_row(data, raster.seeds.get(plane, b""), limit)
        else:
            return None  # adaptive (5), replacement delta row (9): undecided
        raster.seeds[plane] = row
        return row

    def _configure_image_data(self, data: bytes) -> None:
        if len(data) < 6:
            raise NotCountable("configure image data shorter than 6 bytes", self.source.offset)
        space, encoding, _, *primaries = data[:6]
        if self.defining is not None:
            self.defining.colour_effects = True
            return
        self.colour_palette = True
        self.simple_palette = False
        self.foreground = None
        self.planes = 1
        self.direct_rgb = encoding == 3 and space in (0, 1) and primaries == [8, 8, 8]
        if not self.direct_rgb:
            self.planes = 0  # a palette the counter does not model: raster undecided

    # -- HP-GL/2 -------------------------------------------------------------------------------------------

    def _hpgl_switch(self, parameter: bytes, value: str) -> None:
        if parameter == b"B":
            self._hpgl()
        elif parameter == b"A" and self.y_before_hpgl is not None:
            # ESC%0A restores the PCL cursor; ESC%1A puts it at the HP-GL/2 pen: anywhere
            odd = _number(value) % 2 == 1
            self.y_dp = self.page_length_dp if odd else self.y_before_hpgl
            self.y_before_hpgl = None

    def _hpgl(self) -> None:
        """Read an HP-GL/2 segment up to ``ESC%#A``, ``ESC E`` or a UEL (which are left unread)."""
        self.y_before_hpgl = self.y_dp
        drawing = _HpglScanner(self.source).scan()
        if drawing:
            chroma = None if self.colour_palette else False
            self._mark(MARK_UNSURE, chroma)


class _HpglScanner:
    """A small HP-GL/2 tokenizer: finds drawing and page-advance mnemonics, skips labels."""

    _DRAWING = frozenset(b"PD PA PR AA AR AT CI EA ER EP EW FP LB PE RA RR RT WG BR BZ PM SM".split())
    _PAGE_ADVANCE = frozenset(b"PG RP FR".split())

    def __init__(self, source: ByteSource) -> None:
        self.source = source
        self.terminator = 0x03  # label terminator (ETX until DT changes it)

    def scan(self) -> bool:
        source = self.source
        drawing = False
        while not source.at_end():
            if source.peek(1) == b"\x1b":
                return drawing
            letter = source.byte()
            if not (0x41 <= letter <= 0x5A or 0x61 <= letter <= 0x7A):
                continue
            second = source.peek(1)
            if not second or not second.isalpha():
                continue
            mnemonic = (bytes((letter,)) + bytes((source.byte(),))).upper()
            if mnemonic in self._PAGE_ADVANCE:
                raise NotCountable(f"HP-GL/2 {mnemonic.decode()} (page advance)", source.offset)
            drawing |= mnemonic in self._DRAWING
            if mnemonic == b"LB":
                self._skip_label()
            elif mnemonic in (b"PE", b"CO"):
                self._skip_to(b";" if mnemonic == b"PE" else b'"', twice=mnemonic == b"CO")
            elif mnemonic == b"DT":
                terminator = source.byte()
                self.terminator = 0x03 if terminator == ord(";") else terminator
        return drawing

    def _skip_label(self) -> None:
        source = self.source
        while not source.at_end():
            if source.peek(1) == b"\x1b":
                return
            if source.byte() == self.terminator:
                return

    def _skip_to(self, stop: bytes, twice: bool) -> None:
        for _ in range(2 if twice else 1):
            while not self.source.at_end() and self.source.peek(1) not in (stop, b"\x1b"):
                self.source.byte()
            if self.source.peek(1) == stop:
                self.source.byte()


def _integer(value: str, low: int, high: int, offset: int) -> int:
    try:
        number = int(float(value)) if value not in ("", "+", "-") else 0
    except ValueError:
        raise NotCountable(f"a malformed number {value!r}", offset) from None
    if not low <= number <= high:
        raise NotCountable(f"{number} is outside {low}..{high}", offset)
    return number


def _number(value: str) -> float:
    try:
        return float(value) if value not in ("", "+", "-", ".") else 0.0
    except ValueError:
        return 0.0


# -- per-group command handlers ------------------------------------------------------------------------------


def _page_control(counter: _Counter, parameter: bytes, value: str) -> None:  # ESC&l
    offset = counter.source.offset
    if parameter == b"X":
        copies = _integer(value, 1, 32767, offset)
        if counter.defining is not None:
            counter.defining.page_effects = True
        else:
            counter.copies = copies
    elif parameter == b"S":
        mode = _integer(value, 0, 2, offset)
        counter._page_command("simplex/duplex (ESC&l#S)")
        if counter.defining is None:
            counter.duplex = mode != 0
    elif parameter == b"A":
        counter._page_command("page size (ESC&l#A)")
        counter.page_size = _integer(value, 0, 1000, offset)
        counter._reset_margins()
    elif parameter == b"O":
        counter._page_command("orientation (ESC&l#O)")
        counter.landscape = _integer(value, 0, 3, offset) in (1, 3)
        counter._reset_margins()
    elif parameter == b"P":
        counter._page_command("page length (ESC&l#P)")
        counter.page_size = None
        counter._reset_margins()
    elif parameter == b"H":
        # 0 "prints or ejects the current page": on an empty page (after a form feed) it only
        # flushes a half-printed duplex sheet, Ghostscript's ljet4d ends odd jobs with it
        _integer(value, 0, 1000, offset)
        counter._page_command("paper source (ESC&l#H)")
    elif parameter == b"E":
        counter.top_margin_dp = _number(value) * counter.vmi_dp
    elif parameter == b"F":
        counter.text_length_dp = _number(value) * counter.vmi_dp
    elif parameter == b"L":
        counter.perforation_skip = _number(value) != 0
    elif parameter == b"C":
        counter.vmi_dp = _number(value) * 15  # 1/48 inch
        counter.vmi_explicit = True
    elif parameter == b"D":
        lines_per_inch = _number(value)
        counter.vmi_dp = _DECIPOINTS_PER_INCH / lines_per_inch if lines_per_inch > 0 else 0.0
        counter.vmi_explicit = True
    elif parameter not in _PAGE_NEUTRAL_L and (counter.marked != MARK_NONE or counter.defining is not None):
        raise NotCountable(f"ESC&l#{parameter.decode()} on a marked page (page eject unknown)", offset)


def _cursor_decipoints(counter: _Counter, parameter: bytes, value: str) -> None:  # ESC&a
    offset = counter.source.offset
    relative = value[:1] in ("+", "-")
    amount = _number(value)
    if parameter == b"G":
        side = _integer(value, 0, 2, offset)
        if counter.marked == MARK_NONE and counter.defining is None:
            raise NotCountable(f"duplex page side {side} on an empty page (a blank side may print)", offset)
        counter._page_command("duplex page side (ESC&a#G)")
    elif parameter == b"R":
        decipoints = amount * counter.vmi_dp
        if relative:
            counter._move_down(decipoints, False)
        else:
            counter._move_to(decipoints + counter.vmi_dp)
    elif parameter == b"V":
        if relative:
            counter._move_down(amount, False)
        else:
            counter._move_to(amount)


def _cursor_units(counter: _Counter, parameter: bytes, value: str) -> None:  # ESC*p
    if parameter == b"Y":
        decipoints = _number(value) * _DECIPOINTS_PER_INCH / counter.units_per_inch
        if value[:1] in ("+", "-"):
            counter._move_down(decipoints, False)
        else:
            counter._move_to(decipoints)


def _units(counter: _Counter, parameter: bytes, value: str) -> None:  # ESC&u
    if parameter == b"D":
        counter.units_per_inch = _integer(value, 1, 32767, counter.source.offset)


def _line_termination(counter: _Counter, parameter: bytes, value: str) -> None:  # ESC&k
    if parameter == b"G":
        counter.line_termination = _integer(value, 0, 3, counter.source.offset)


def _wrap(counter: _Counter, parameter: bytes, value: str) -> None:  # ESC&s
    if parameter == b"C":
        counter.wrap = _number(value) == 0


def _macro(counter: _Counter, parameter: bytes, value: str) -> None:  # ESC&f
    offset = counter.source.offset
    if parameter == b"Y":
        counter.macro_id = _integer(value, 0, 32767, offset)
        return
    if parameter == b"S":  # push (0) / pop (1) the cursor position
        if counter.defining is not None:
            counter.defining.moves_cursor = True
        elif _number(value) == 0:
            if len(counter.cursor_stack) >= _CURSOR_STACK_MAX:
                raise NotCountable("cursor stack overflow", offset)
            counter.cursor_stack.append(counter.y_dp)
        elif counter.cursor_stack:
            counter.y_dp = counter.cursor_stack.pop()
        return
    if parameter != b"X":
        return
    control = _integer(value, 0, 10, offset)
    if control == 0:
        if counter.defining is not None:
            raise NotCountable("a macro defined inside a macro", offset)
        counter.defining = counter.macros[counter.macro_id] = _Macro()
    elif control == 1:
        counter.defining = None
    elif counter.defining is not None:
        counter.defining.runs_macros |= control in (2, 3, 4)
    elif control in (2, 3, 4):
        _run_macro(counter, control)
    elif control == 5:
        counter.overlay = None
    elif control == 6:
        counter.macros.clear()
    elif control == 7:
        counter.macros = {key: macro for key, macro in counter.macros.items() if macro.permanent}
    elif control == 8:
        counter.macros.pop(counter.macro_id, None)
    elif control in (9, 10) and counter.macro_id in counter.macros:
        counter.macros[counter.macro_id].permanent = control == 10


def _run_macro(counter: _Counter, control: int) -> None:
    offset = counter.source.offset
    macro = counter.macros.get(counter.macro_id)
    if counter.macro_ids_untracked or macro is None:
        raise NotCountable("a macro the counter has not read is run", offset)
    if macro.page_effects or macro.runs_macros:
        raise NotCountable("a macro that ejects pages or runs macros", offset)
    if control == 4:
        counter.overlay = macro
        return
    if macro.marks:
        counter._mark(macro.marks, None if macro.colour_effects or counter.colour_palette else False)
    if macro.moves_cursor:
        counter._move_to(counter.page_length_dp)


def _raster_control(counter: _Counter, parameter: bytes, value: str) -> None:  # ESC*r
    raster = counter.raster
    offset = counter.source.offset
    if parameter == b"A":
        raster.active = True
        raster.planes, raster.seeds = [], {}
    elif parameter in (b"B", b"C"):
        raster.active = False
        raster.planes, raster.seeds = [], {}
    elif parameter == b"S":
        raster.width_px = _integer(value, 0, 1 << 20, offset) or None
    elif parameter == b"U":
        planes = _integer(value, -32767, 32767, offset)
        if planes not in (1, 3, -3, -4):
            raise NotCountable(f"simple colour mode {planes}", offset)
        if counter.defining is not None:
            counter.defining.colour_effects = True
            return
        counter.planes = planes
        counter.direct_rgb = False
        counter.colour_palette = planes != 1
        counter.simple_palette = True
        counter.foreground = False if planes == 1 else None


def _raster_transfer(counter: _Counter, parameter: bytes, value: str) -> None:  # ESC*b
    raster = counter.raster
    offset = counter.source.offset
    if parameter == b"M":
        raster.compression = _integer(value, 0, 10, offset)
    elif parameter == b"Y":
        rows = _integer(value, -32767, 32767, offset)
        raster.seeds = {}
        counter._move_down(rows * _DECIPOINTS_PER_INCH / raster.resolution_dpi, False)


def _raster_resolution(counter: _Counter, parameter: bytes, value: str) -> None:  # ESC*t
    if parameter == b"R":
        counter.raster.resolution_dpi = _integer(value, 1, 10000, counter.source.offset)


def _rectangle(counter: _Counter, parameter: bytes, value: str) -> None:  # ESC*c
    if parameter in (b"A", b"H"):  # width in PCL units / decipoints
        counter.rectangle_sized[0] = _number(value) > 0
    elif parameter in (b"B", b"V"):  # height
        counter.rectangle_sized[1] = _number(value) > 0
    elif parameter == b"P":
        pattern = _integer(value, 0, 5, counter.source.offset)
        if pattern != 1:  # 1 is white fill (erase)
            level = MARK_YES if all(counter.rectangle_sized) else MARK_UNSURE
            counter._mark(level, counter._text_chroma() if pattern in (0, 2, 3) else None)


def _colour(counter: _Counter, parameter: bytes, value: str) -> None:  # ESC*v
    if parameter == b"I":  # assign the colour components to a palette entry
        if counter.defining is not None:
            counter.defining.colour_effects = True
        else:
            counter.colour_palette = True
            counter.simple_palette = False
            counter.foreground = None
    elif parameter == b"S":  # select the foreground colour by palette index
        index = _integer(value, 0, 32767, counter.source.offset)
        if counter.defining is not None:
            counter.defining.colour_effects = True
        elif not counter.colour_palette:
            counter.foreground = False  # black and white palette: every index is white or black
        elif counter.simple_palette and counter.planes in (3, -3) and index < 8:
            counter.foreground = index not in (0, 7)  # the two grey entries of the 8-colour palettes
        else:
            counter.foreground = None


_HANDLERS = {
    b"&l": _page_control,
    b"&a": _cursor_decipoints,
    b"*p": _cursor_units,
    b"&u": _units,
    b"&k": _line_termination,
    b"&s": _wrap,
    b"&f": _macro,
    b"*r": _raster_control,
    b"*b": _raster_transfer,
    b"*t": _raster_resolution,
    b"*c": _rectangle,
    b"*v": _colour,
}


def count_pcl5(source: ByteSource, log: PageLog, environment: Pcl5Environment | None = None) -> None:
    """Read a PCL 5 section up to a UEL (consumed) or the end; pages go to ``log``."""
    _Counter(source, log, environment or Pcl5Environment()).run()
