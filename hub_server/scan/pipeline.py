"""Applying a scan profile to a received scan: one document in the profile's format.

Every step runs as a child process under util-linux ``prlimit`` (address space, CPU seconds,
file size, no core) with a wall-clock timeout, inside a bounded pool, so a PDF that makes OCR
hang or a decompression bomb costs at most ``timeout_s`` and ``memory_bytes_max`` of one
worker and never blocks the hub's event loop (logins go on). The same approach as the print
intake's Ghostscript runs. Steps:

* images to PDF losslessly: ``img2pdf`` (multi-page TIFF and JPEG, no re-encoding);
* several PDFs into one, page counting: ``qpdf``;
* searchable PDF/A-2b: ``ocrmypdf`` (Tesseract; ``--deskew`` straightens slightly skewed
  pages unless ``ocr_deskew`` is off, ``--skip-text`` leaves pages that already carry text,
  no optimisation pass), one Tesseract thread per worker;
* TIFF (LZW, 24-bit, one multi-page file) and JPEG (one file per page) from the PDF:
  Ghostscript.

OCR workers are a separate, smaller pool than conversions: a queue of OCR jobs never holds up
a plain "scan to me".
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import ProcessingError
from .mime import ScanAttachment
from .profiles import OutputFormat, ScanProfile

__all__ = ["ProcessedScan", "ProcessingLimits", "ScanProcessor"]

_PRLIMIT = "prlimit"


@dataclass(frozen=True)
class ProcessingLimits:
    """Bounds of one processing step, and the sizes of the worker pools."""

    timeout_s: float = 120.0
    ocr_timeout_s: float = 300.0
    memory_bytes_max: int = 2 * 1024 * 1024 * 1024
    output_bytes_max: int = 1024 * 1024 * 1024
    conversion_workers: int = 2
    ocr_workers: int = 1
    pages_max: int = 1000
    render_dpi: int = 200  # TIFF and JPEG output
    ocr_deskew: bool = True  # straighten skewed pages (about 1 s per A4 page at 300 dpi)


@dataclass(frozen=True)
class ProcessedScan:
    """The document(s) to deliver: one PDF or TIFF, or one JPEG per page."""

    files: tuple[Path, ...]
    pages: int
    content_type: str


class ScanProcessor:
    """Runs the conversion steps in bounded pools of limited child processes."""

    def __init__(self, work_dir: Path, limits: ProcessingLimits | None = None) -> None:
        self.work_dir = work_dir
        self.limits = limits or ProcessingLimits()
        self._conversions = asyncio.Semaphore(self.limits.conversion_workers)
        self._ocr = asyncio.Semaphore(self.limits.ocr_workers)

    async def process(
        self, scan_id: str, attachments: tuple[ScanAttachment, ...], profile: ScanProfile
    ) -> ProcessedScan:
        """Turn the received files into the profile's output in ``work_dir/scan_id``."""
        folder = self.work_dir / scan_id
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, mode=0o700)
        pdf = await self._as_one_pdf(folder, attachments)
        pages = await self._page_count(pdf)
        if pages > self.limits.pages_max:
            raise ProcessingError(f"a scan of {pages} pages is over the limit of {self.limits.pages_max}")
        output = profile.output
        if output is OutputFormat.PDF:
            return ProcessedScan((pdf,), pages, "application/pdf")
        if output is OutputFormat.SEARCHABLE_PDF_A:
            searchable = folder / "searchable.pdf"
            await self._ocr_pdf(pdf, searchable, profile.ocr_languages)
            return ProcessedScan((searchable,), pages, "application/pdf")
        if output is OutputFormat.TIFF:
            tiff = folder / "scan.tif"
            await self._ghostscript(pdf, ["-sDEVICE=tiff24nc", "-sCompression=lzw", "-o", str(tiff)])
            return ProcessedScan((tiff,), pages, "image/tiff")
        pattern = folder / "page-%04d.jpg"
        await self._ghostscript(pdf, ["-sDEVICE=jpeg", "-dJPEGQ=85", "-o", str(pattern)])
        jpegs = tuple(sorted(folder.glob("page-*.jpg")))
        if len(jpegs) != pages:
            raise ProcessingError(f"rendered {len(jpegs)} JPEG pages of {pages}")
        return ProcessedScan(jpegs, pages, "image/jpeg")

    def discard(self, scan_id: str) -> None:
        """Remove the working files of a scan (after delivery)."""
        shutil.rmtree(self.work_dir / scan_id, ignore_errors=True)

    async def _as_one_pdf(self, folder: Path, attachments: tuple[ScanAttachment, ...]) -> Path:
        pdfs: list[Path] = []
        images: list[Path] = []
        for index, attachment in enumerate(attachments):
            path = (
                folder / f"in-{index:03d}.{ {'pdf': 'pdf', 'tiff': 'tif', 'jpeg': 'jpg'}[attachment.kind] }"
            )
            path.write_bytes(attachment.data)
            if attachment.kind == "pdf":
                if images:
                    pdfs.append(await self._images_to_pdf(folder, images, len(pdfs)))
                    images = []
                pdfs.append(path)
            else:
                images.append(path)
        if images:
            pdfs.append(await self._images_to_pdf(folder, images, len(pdfs)))
        if len(pdfs) == 1:
            return pdfs[0]
        merged = folder / "merged.pdf"
        await self._run(
            ["qpdf", "--empty", "--pages", *map(str, pdfs), "--", str(merged)], "qpdf", self._conversions
        )
        return merged

    async def _images_to_pdf(self, folder: Path, images: list[Path], index: int) -> Path:
        target = folder / f"images-{index:03d}.pdf"
        argv = [sys.executable, "-I", "-m", "img2pdf", *map(str, images), "-o", str(target)]
        await self._run(argv, "img2pdf", self._conversions)
        return target

    async def _page_count(self, pdf: Path) -> int:
        output = await self._run(["qpdf", "--show-npages", str(pdf)], "qpdf", self._conversions)
        try:
            return int(output.strip())
        except ValueError:
            raise ProcessingError("qpdf did not count the pages") from None

    async def _ocr_pdf(self, source: Path, target: Path, languages: tuple[str, ...]) -> None:
        argv = [
            "ocrmypdf",
            "--quiet",
            "--output-type",
            "pdfa-2",
            "--language",
            "+".join(languages),
            "--jobs",
            "1",
            *(["--deskew"] if self.limits.ocr_deskew else []),
            "--skip-text",
            "--optimize",
            "0",  # no extra optimisation pass: faster, slightly larger files
            "--tesseract-timeout",
            str(int(self.limits.ocr_timeout_s)),
            str(source),
            str(target),
        ]
        environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one Tesseract thread per worker
        await self._run(argv, "ocrmypdf", self._ocr, self.limits.ocr_timeout_s, environment)

    async def _ghostscript(self, pdf: Path, arguments: list[str]) -> None:
        dpi = self.limits.render_dpi
        argv = ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", f"-r{dpi}", *arguments, str(pdf)]
        await self._run(argv, "ghostscript", self._conversions)

    async def _run(
        self,
        argv: list[str],
        what: str,
        pool: asyncio.Semaphore,
        timeout_s: float | None = None,
        environment: dict[str, str] | None = None,
    ) -> bytes:
        """Run one step under rlimits and a timeout in ``pool``; its stdout or ``ProcessingError``."""
        timeout_s = timeout_s or self.limits.timeout_s
        for program in (_PRLIMIT, argv[0]):
            if shutil.which(program) is None:
                raise ProcessingError(f"{what} ({program}) is not installed")
        limited = [
            _PRLIMIT,
            f"--as={self.limits.memory_bytes_max}",
            f"--cpu={int(timeout_s) + 1}",
            f"--fsize={self.limits.output_bytes_max}",
            "--core=0",
            "--",
            *argv,
        ]
        async with pool:
            process = await asyncio.create_subprocess_exec(
                *limited,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # its helpers (tesseract, gs) are killed with it
                env=environment,
            )
            try:
                stdout, stderr = await asyncio.wait_for(process.communicate(), timeout_s)
            except TimeoutError:
                raise ProcessingError(f"{what} timed out after {timeout_s} s") from None
            finally:
                if process.returncode is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    await process.wait()
        if process.returncode != 0:
            lines = stderr.decode(errors="replace").strip().splitlines()[-1:] or [
                f"exit {process.returncode}"
            ]
            raise ProcessingError(f"{what} failed: {lines[0][:200]}")
        return stdout
