"""Document analysis: pages, colour per page, paper size, PJL settings and a page-1 thumbnail.

Ghostscript does the rendering, always as a subprocess with ``-dSAFER``, a wall-clock
timeout, rlimits (address space, CPU seconds, output file size) and a lower CPU priority
(``nice``), so a PDF bomb or a PostScript ``{} loop`` costs at most ``timeout_s`` and
``memory_bytes_max`` and never the hub. Every helper runs in its own process group; a
timeout or a cancelled analysis (the job was deleted) kills the whole group at once.
How many analyses run at the same time is bounded by ``analysis_queue.AnalysisQueue``.

* ``-sDEVICE=inkcov`` prints the C, M, Y, K coverage (0..1) of every page; a page counts as
  colour when C, M or Y exceeds ``color_threshold`` (gray renders as K only). The same
  coverage is the basis for charging by coverage later.
* A PostScript ``EndPage`` hook prints each page's size in points before its coverage line.
* ``-sDEVICE=png16m`` at a low resolution renders page 1 as the thumbnail.

PJL jobs are not rendered: a PDF or PostScript body after ``ENTER LANGUAGE`` is analysed like a
plain document (copies, duplex and render mode from the PJL header); a PCL 5 or PCL XL job
(behind PJL, or headerless: ``ESC E`` / ``) HP-PCL XL``) is counted by :mod:`.pcl` in a
subprocess under the same limits (``python -m hub_server.intake.pcl``): pages, colour per page
(undecided colour counts as colour), duplex and copies, priced by impressions; a job it cannot
count exactly gets ``error = "cannot be counted: <reason>"`` and no page count, so the hub
prices it with its fallback. PWG raster (from phones) is walked by ``pwg_raster.py`` in a
subprocess under the same limits: pages, size, colour per page, copies and duplex from the page
headers (no ink coverage).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import AnalysisError
from .pcl import PclCount, result_from_json

__all__ = [
    "AnalysisLimits",
    "DocumentSettings",
    "JobAnalysis",
    "PageInfo",
    "analyze_file",
    "paper_name",
    "parse_pjl_header",
    "sniff_format",
]

log = logging.getLogger(__name__)

_GS = "gs"
_PRLIMIT = "prlimit"
_NICE = "nice"
_PWG_SCANNER = Path(__file__).with_name("pwg_raster.py")
# Print "%%PAGESIZE w h" for every output page (reason 0 showpage / 1 copypage), then let
# the page through to the device; reason 2 is device deactivation and must not print.
_PAGESIZE_HOOK = (
    "<</EndPage {exch pop dup 2 ne {currentpagedevice /PageSize get aload pop "
    "(%%PAGESIZE ) print exch =only ( ) print = flush} if 2 ne}>> setpagedevice"
)
_INKCOV_LINE = re.compile(rb"^\s*([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+CMYK\s+OK", re.M)
_PAGESIZE_LINE = re.compile(rb"^%%PAGESIZE ([0-9.]+) ([0-9.]+)$", re.M)
_PAPERS_PT = {  # name -> (width, height) in points, portrait
    "iso_a3_297x420mm": (842, 1191),
    "iso_a4_210x297mm": (595, 842),
    "iso_a5_148x210mm": (420, 595),
    "na_letter_8.5x11in": (612, 792),
    "na_legal_8.5x14in": (612, 1008),
    "na_ledger_11x17in": (792, 1224),
}
_PAPER_TOLERANCE_PT = 3.0
_PCL_FORMAT = "application/vnd.hp-pcl"
_PCL_LANGUAGES = ("PCL", "PCLXL")
UNCOUNTABLE = "cannot be counted: "  # the error of a PCL job the counter refuses, then the reason
_PJL_SETTING = re.compile(rb"^@PJL\s+SET\s+([A-Z]+)\s*=\s*\"?([A-Za-z0-9_]+)\"?", re.I | re.M)
_PJL_LANGUAGE = re.compile(rb"^@PJL\s+ENTER\s+LANGUAGE\s*=\s*([A-Za-z0-9]+)[^\n]*\n", re.I | re.M)
_UEL = b"\x1b%-12345X"


@dataclass(frozen=True)
class AnalysisLimits:
    """Resource bounds for one Ghostscript run."""

    timeout_s: float = 60.0
    memory_bytes_max: int = 1024 * 1024 * 1024
    thumbnail_dpi: int = 20
    color_threshold: float = 0.0001
    niceness: int = 10  # added to the hub's; logins and intake win the CPU over analyses


@dataclass(frozen=True)
class PageInfo:
    """One page: size in points, ink coverage (C, M, Y, K in 0..1), colour or not."""

    width_pt: float
    height_pt: float
    coverage_cmyk: tuple[float, float, float, float] | None  # None: not measured (PWG raster)
    color: bool

    @property
    def paper(self) -> str | None:
        """PWG media name of the page size, if it is a common one."""
        return paper_name(self.width_pt, self.height_pt)


@dataclass(frozen=True)
class DocumentSettings:
    """What the document itself asks for: a PJL header, or PWG raster page headers
    (None where it says nothing). The IPP/LPD ticket is separate (``PrintTicket``)."""

    copies: int | None = None
    duplex: bool | None = None
    binding_short_edge: bool | None = None
    grayscale: bool | None = None
    language: str | None = None


@dataclass(frozen=True)
class JobAnalysis:
    """The outcome of analysing one document."""

    document_format: str
    page_count: int | None
    pages: tuple[PageInfo, ...] = ()
    document_settings: DocumentSettings = field(default_factory=DocumentSettings)
    thumbnail_png: bytes | None = None
    error: str | None = None

    @property
    def color_page_count(self) -> int:
        """Pages that use colour ink."""
        return sum(1 for page in self.pages if page.color)

    @property
    def papers(self) -> tuple[str | None, ...]:
        """Distinct paper names in page order (None for unusual sizes)."""
        return tuple(dict.fromkeys(page.paper for page in self.pages))


def paper_name(width_pt: float, height_pt: float) -> str | None:
    """The PWG media name for a page size in points (either orientation), or None."""
    short, long_ = sorted((width_pt, height_pt))
    for name, (width, height) in _PAPERS_PT.items():
        if abs(short - width) <= _PAPER_TOLERANCE_PT and abs(long_ - height) <= _PAPER_TOLERANCE_PT:
            return name
    return None


def sniff_format(head: bytes) -> str:
    """Guess a MIME type from the first bytes of a document."""
    stripped = head.lstrip(b"\x04\r\n\t ")
    if stripped.startswith(_UEL) or stripped.startswith(b"@PJL"):
        return "application/vnd.hp-pjl"
    if stripped.startswith(b"\x1bE") or stripped.startswith(b") HP-PCL XL"):
        return _PCL_FORMAT
    if stripped.startswith(b"%PDF-"):
        return "application/pdf"
    if stripped.startswith(b"%!"):
        return "application/postscript"
    if head.startswith(b"RaS2"):
        return "image/pwg-raster"
    if head.startswith(b"UNIRAST\0"):
        return "image/urf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return "application/octet-stream"


def parse_pjl_header(head: bytes) -> tuple[DocumentSettings, int]:
    """Read PJL SET lines up to ``ENTER LANGUAGE``; return settings and the PDL offset.

    The offset is 0 when there is no ENTER LANGUAGE line in ``head``.
    """
    language_match = _PJL_LANGUAGE.search(head)
    header = head[: language_match.start()] if language_match else head
    header = header.replace(_UEL, b"\n")  # the first command usually follows the UEL directly
    values = {key.upper().decode(): value.upper().decode() for key, value in _PJL_SETTING.findall(header)}
    copies = values.get("QTY") or values.get("COPIES")
    settings = DocumentSettings(
        copies=int(copies) if copies and copies.isdigit() and 0 < int(copies) < 10_000 else None,
        duplex={"ON": True, "OFF": False}.get(values.get("DUPLEX", "")),
        binding_short_edge={"SHORTEDGE": True, "LONGEDGE": False}.get(values.get("BINDING", "")),
        grayscale={"GRAYSCALE": True, "COLOR": False}.get(values.get("RENDERMODE", "")),
        language=language_match.group(1).upper().decode() if language_match else None,
    )
    return settings, language_match.end() if language_match else 0


def _limited(argv: list[str], limits: AnalysisLimits) -> list[str]:
    """``argv`` run under resource limits by util-linux ``prlimit``, at a lower priority.

    Not a ``preexec_fn``: that forces a plain fork of the hub, whose gRPC threads then run
    their fork handlers in the child (seen as "epoll_wait error: Bad file descriptor"); without
    it Python can vfork/exec and gRPC never sees the child. ``prlimit`` and ``nice`` exec
    the helper, so the process we start is the helper itself.
    """
    cpu_s = int(limits.timeout_s) + 1
    return [
        _PRLIMIT,
        f"--as={limits.memory_bytes_max}",
        f"--cpu={cpu_s}:{cpu_s + 1}",
        f"--fsize={64 * 1024 * 1024}",
        "--core=0",
        "--",
        _NICE,
        "-n",
        str(limits.niceness),
        *argv,
    ]


def _kill_group(process: asyncio.subprocess.Process) -> None:
    # The helper leads its own process group (start_new_session): anything it started dies too.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


async def _run_limited(argv: list[str], limits: AnalysisLimits, what: str) -> bytes:
    """Run a helper with rlimits and a timeout; stdout, or ``AnalysisError``.

    Cancelling the caller kills the helper's process group before the cancellation goes on.
    """
    for program in (_PRLIMIT, _NICE, argv[0]):
        if shutil.which(program) is None:
            raise AnalysisError(f"{what} ({program}) is not installed")
    try:
        process = await asyncio.create_subprocess_exec(
            *_limited(argv, limits),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise AnalysisError(f"{what} ({argv[0]}) is not installed") from None
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), limits.timeout_s)
    except TimeoutError:
        raise AnalysisError(f"{what} timed out after {limits.timeout_s} s") from None
    finally:
        if process.returncode is None:  # timed out or cancelled: never leave it running
            _kill_group(process)
            await asyncio.shield(process.wait())
    if process.returncode != 0:
        message = stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit {process.returncode}"]
        raise AnalysisError(f"{what} failed: {message[0][:200]}")
    return stdout


async def _run_gs(arguments: list[str], limits: AnalysisLimits) -> bytes:
    """Run Ghostscript in safe mode with the analysis limits."""
    argv = [_GS, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dNOINTERPOLATE", *arguments]
    return await _run_limited(argv, limits, "ghostscript")


async def _analyze_raster(path: Path, document_format: str, limits: AnalysisLimits) -> JobAnalysis:
    """PWG or Apple raster, walked by ``pwg_raster.py`` in a limited subprocess."""
    output = await _run_limited([sys.executable, "-I", str(_PWG_SCANNER), str(path)], limits, "raster scan")
    pages = [json.loads(line) for line in output.decode().splitlines() if line]
    infos = tuple(PageInfo(p["width_pt"], p["height_pt"], None, p["color"]) for p in pages)
    copies = pages[0]["copies"] if pages else None
    duplex = any(p["duplex"] for p in pages) if pages else None
    return JobAnalysis(document_format, len(infos), infos, DocumentSettings(copies=copies, duplex=duplex))


_JPEG_FRAMES = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_SCAN_BYTES_MAX = 1024 * 1024  # the frame header comes before the image data


def jpeg_components(head: bytes) -> int:
    """The number of colour components in a JPEG's frame header (1: grey, 3: YCbCr/RGB,
    4: CMYK); ``AnalysisError`` when no frame header is found in ``head``."""
    at = 2
    while at + 4 <= len(head):
        if head[at] != 0xFF:
            raise AnalysisError("JPEG: marker expected")
        marker = head[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        length = int.from_bytes(head[at + 2 : at + 4], "big")
        if marker in _JPEG_FRAMES:
            if at + 10 > len(head):
                break
            return head[at + 9]
        if marker == 0xDA or length < 2:
            break
        at += 2 + length
    raise AnalysisError("JPEG: no frame header")


def _analyze_jpeg(path: Path) -> JobAnalysis:
    """A photo is one page, fitted to the queue's default paper (A4); colour when it has more
    than one component (a grey photo saved as YCbCr counts as colour: priced as it claims)."""
    with open(path, "rb") as stream:
        components = jpeg_components(stream.read(_JPEG_SCAN_BYTES_MAX))
    page = PageInfo(*_PAPERS_PT["iso_a4_210x297mm"], None, components >= 3)
    return JobAnalysis("image/jpeg", 1, (page,))


def _pages_from_inkcov(output: bytes, threshold: float) -> tuple[PageInfo, ...]:
    sizes = [(float(w), float(h)) for w, h in _PAGESIZE_LINE.findall(output)]
    coverages = [tuple(float(v) for v in match) for match in _INKCOV_LINE.findall(output)]
    if len(sizes) != len(coverages):
        raise AnalysisError(f"inkcov gave {len(coverages)} pages but {len(sizes)} page sizes")
    return tuple(
        PageInfo(w, h, (c[0], c[1], c[2], c[3]), max(c[0], c[1], c[2]) > threshold)
        for (w, h), c in zip(sizes, coverages, strict=True)
    )


async def _render(path: Path, document_format: str, limits: AnalysisLimits) -> JobAnalysis:
    inkcov = await _run_gs(
        ["-sDEVICE=inkcov", "-r36", "-o", "-", "-c", _PAGESIZE_HOOK, "-f", str(path)], limits
    )
    pages = _pages_from_inkcov(inkcov, limits.color_threshold)
    thumbnail = None
    if pages:
        thumbnail = await _run_gs(
            [
                "-sDEVICE=png16m",
                f"-r{limits.thumbnail_dpi}",
                "-dFirstPage=1",
                "-dLastPage=1",
                "-o",
                "-",
                str(path),
            ],
            limits,
        )
    return JobAnalysis(document_format, len(pages), pages, thumbnail_png=thumbnail or None)


def _pcl_page(media: str | None, color: bool | None) -> PageInfo:
    """A counted page: its size when the job names one (else unknown: 0 x 0), colour when
    colour is painted or undecided (priced as colour)."""
    width, height = _PAPERS_PT.get(media or "", (0, 0))
    return PageInfo(width, height, None, color is not False)


def _one(values: set[int] | set[bool | None]) -> int | bool | None:
    return next(iter(values)) if len(values) == 1 else None


async def _analyze_pcl(
    path: Path, document_format: str, settings: DocumentSettings, limits: AnalysisLimits
) -> JobAnalysis:
    """Count a PCL 5 / PCL XL job in a limited subprocess; impressions are what is priced.

    Copies the same on every page become the document's copies (times PJL ``QTY``); copies
    that differ per page repeat each page as often as it prints, so pages x copies is the
    impressions either way.
    """
    output = await _run_limited(
        [sys.executable, "-I", "-m", "hub_server.intake.pcl", str(path)], limits, "pcl count"
    )
    result = result_from_json(output)
    if not isinstance(result, PclCount):
        return JobAnalysis(
            document_format, None, document_settings=settings, error=UNCOUNTABLE + result.reason
        )
    copies = {page.copies or 1 for page in result.pages}
    uniform = len(copies) <= 1
    pages = tuple(
        _pcl_page(page.media, page.color)
        for page in result.pages
        for _ in range(1 if uniform else page.copies or 1)
    )
    duplex = _one({page.duplex for page in result.pages})
    document = replace(
        settings,
        copies=result.job_copies * next(iter(copies)) if uniform and copies else result.job_copies,
        duplex=duplex if isinstance(duplex, bool) else settings.duplex,
        grayscale=True if result.grayscale_forced else settings.grayscale,
    )
    return JobAnalysis(document_format, len(pages), pages, document)


async def _analyze_pjl(path: Path, limits: AnalysisLimits) -> JobAnalysis:
    with open(path, "rb") as stream:
        head = stream.read(64 * 1024)
    settings, body_offset = parse_pjl_header(head)
    if settings.language in _PCL_LANGUAGES:
        return await _analyze_pcl(path, "application/vnd.hp-pjl", settings, limits)
    if settings.language not in ("PDF", "POSTSCRIPT") or not body_offset:
        return JobAnalysis("application/vnd.hp-pjl", None, document_settings=settings)
    body = path.with_suffix(".body")
    try:
        _copy_from(path, body, body_offset)
        inner = await _render(body, "application/" + settings.language.lower(), limits)
    finally:
        body.unlink(missing_ok=True)
    return JobAnalysis("application/vnd.hp-pjl", inner.page_count, inner.pages, settings, inner.thumbnail_png)


def _copy_from(source: Path, target: Path, offset: int) -> None:
    with open(source, "rb") as reader, open(target, "wb") as writer:
        reader.seek(offset)
        while chunk := reader.read(1024 * 1024):
            writer.write(chunk)


async def analyze_file(path: Path, limits: AnalysisLimits | None = None) -> JobAnalysis:
    """Analyse a plaintext document file; failures are reported in ``JobAnalysis.error``.

    The format is sniffed from the content, not trusted from the submitter.
    """
    limits = limits or AnalysisLimits()
    with open(path, "rb") as stream:
        document_format = sniff_format(stream.read(64))
    try:
        if document_format in ("application/pdf", "application/postscript"):
            return await _render(path, document_format, limits)
        if document_format == "application/vnd.hp-pjl":
            return await _analyze_pjl(path, limits)
        if document_format == _PCL_FORMAT:
            return await _analyze_pcl(path, document_format, DocumentSettings(), limits)
        if document_format in ("image/pwg-raster", "image/urf"):
            return await _analyze_raster(path, document_format, limits)
        if document_format == "image/jpeg":
            return _analyze_jpeg(path)
    except AnalysisError as error:
        log.warning("analysis of %s failed: %s", path.name, error)
        return JobAnalysis(document_format, None, error=str(error))
    return JobAnalysis(document_format, None)
