"""Intake fixtures: a spool in tmp, the in-memory registry, a running intake on loopback,
and small documents generated here (one mono page + one colour page, A4)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio

from hub_server.intake import (
    AnalysisLimits,
    InMemoryJobRegistry,
    IntakeConfig,
    IntakeServer,
    Spool,
    start_intake,
)

# Page 1: black text only (K ink). Page 2: a red square (M+Y ink), landscape A4.
MONO_COLOR_PS = b"""%!PS-Adobe-3.0
%%Pages: 2
<< /PageSize [595 842] >> setpagedevice
/Helvetica findfont 24 scalefont setfont
72 700 moveto (printgate mono page) show
showpage
<< /PageSize [842 595] >> setpagedevice
1 0 0 setrgbcolor 72 72 200 200 rectfill
showpage
"""


def require_binary(name: str) -> str:
    """The path of a required tool; fail loudly (setup.sh installs it) rather than skip."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (scripts/setup.sh installs it)")
    return path


@pytest.fixture(scope="session")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Sample documents: PostScript and PDF (mono page + colour page), letter variants."""
    require_binary("gs")
    folder = tmp_path_factory.mktemp("documents")
    ps = folder / "mono-color.ps"
    ps.write_bytes(MONO_COLOR_PS)
    pdf = folder / "mono-color.pdf"
    subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", "-o", str(pdf), str(ps)],
        check=True,
        timeout=60,
    )
    return {"ps": ps, "pdf": pdf}


@pytest.fixture
def hub_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def spool(tmp_path: Path, hub_key: bytes) -> Spool:
    return Spool(tmp_path / "spool", hub_key, chunk_bytes=64 * 1024)


@pytest.fixture
def registry() -> InMemoryJobRegistry:
    return InMemoryJobRegistry()


FAST_CONFIG = IntakeConfig(
    idle_timeout_s=1.0,
    keepalive_timeout_s=5.0,
    analysis=AnalysisLimits(timeout_s=30.0),
)
# HTTP Basic users of the intakes that can authenticate ("basic": optional credentials).
PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw"}
AUTHENTICATING_CONFIG = replace(
    FAST_CONFIG, authenticate=lambda user, password: PASSWORDS.get(user) == password
)


@pytest_asyncio.fixture
async def intake(registry: InMemoryJobRegistry, spool: Spool) -> AsyncIterator[IntakeServer]:
    """IPP and LPD on ephemeral loopback ports, 1 s idle timeout, analysis on."""
    server = await start_intake(
        registry, spool, ipp_listen=("127.0.0.1", 0), lpd_listen=("127.0.0.1", 0), config=FAST_CONFIG
    )
    yield server
    await server.close()


@pytest_asyncio.fixture
async def authenticating_intake(registry: InMemoryJobRegistry, spool: Spool) -> AsyncIterator[IntakeServer]:
    """Like ``intake``, but IPP clients may authenticate (HTTP Basic, ``PASSWORDS``)."""
    server = await start_intake(
        registry,
        spool,
        ipp_listen=("127.0.0.1", 0),
        lpd_listen=("127.0.0.1", 0),
        config=AUTHENTICATING_CONFIG,
    )
    yield server
    await server.close()
