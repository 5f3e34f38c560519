"""printgate's dependencies as wheels for the board's architecture, from the hashed lock file.

1. ``pip download`` fetches every pinned distribution for the target platform, checking each
   against the lock's SHA-256 hashes (binary wheels where PyPI has them, else source).
2. Source distributions become wheels inside the *builder* root file system of the same
   architecture (the image's own Python and C library; through qemu-user for arm64), offline
   and without build isolation: the build backend (setuptools) comes from the same lock.
3. printgate itself is built as a wheel from this checkout.

The result is a wheelhouse plus ``install.txt``: one line per wheel with its SHA-256, so the
image's venv is installed offline with ``pip install --require-hashes`` (every byte checked).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

from images.builder.cache import StageCache, hash_tree
from images.builder.run import in_chroot, run
from images.errors import BuildError

__all__ = ["LOCK_FILE", "PYTHON_VERSION", "printgate_wheel", "source_hash", "wheel_packages", "wheelhouse"]

LOCK_FILE = Path(__file__).resolve().parents[1] / "lock" / "requirements.txt"
REPO = Path(__file__).resolve().parents[2]
PYTHON_VERSION = "3.11"  # Debian bookworm's python3
GLIBC_MINOR = 36  # Debian bookworm's glibc 2.36
_MACHINE = {"amd64": "x86_64", "arm64": "aarch64"}
_FIRST_MANYLINUX = {"amd64": 5, "arm64": 17}


def platform_tags(arch: str) -> list[str]:
    """Every wheel platform tag the board's glibc accepts, newest first."""
    machine = _MACHINE[arch]
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(GLIBC_MINOR, _FIRST_MANYLINUX[arch] - 1, -1)]
    legacy = ["manylinux2014", "manylinux2010", "manylinux1"] if arch == "amd64" else ["manylinux2014"]
    return tags + [f"{name}_{machine}" for name in legacy]


def _download(lock: Path, arch: str, into: Path) -> None:
    platforms = [arg for tag in platform_tags(arch) for arg in ("--platform", tag)]
    run(
        "download wheels",
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--require-hashes",
            "-r",
            lock,
            "-d",
            into,
            *platforms,
            "--python-version",
            PYTHON_VERSION,
            "--implementation",
            "cp",
            "--abi",
            f"cp{PYTHON_VERSION.replace('.', '')}",
            "--abi",
            "abi3",
            "--abi",
            "none",
        ],
    )


def _build_sources(
    builder_tar: Path, sources: list[Path], setuptools_wheel: Path, into: Path, scratch: Path
) -> None:
    root = scratch / "builder"
    root.mkdir()
    with tarfile.open(builder_tar) as tar:
        tar.extractall(root, filter="fully_trusted")  # our own mmdebstrap output, as root
    src = root / "tmp" / "src"
    src.mkdir(parents=True)
    for path in [*sources, setuptools_wheel]:
        shutil.copy2(path, src)
    in_chroot("build source wheels", root, ["python3", "-m", "venv", "/tmp/venv"])
    in_chroot(
        "build source wheels",
        root,
        ["/tmp/venv/bin/pip", "install", "--quiet", "--no-index", f"/tmp/src/{setuptools_wheel.name}"],
    )
    in_chroot(
        "build source wheels",
        root,
        [
            "/tmp/venv/bin/pip",
            "wheel",
            "--quiet",
            "--no-index",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            "/tmp/out",
            *(f"/tmp/src/{path.name}" for path in sources),
        ],
    )
    for wheel in (root / "tmp" / "out").glob("*.whl"):
        shutil.copy2(wheel, into)


def _install_list(house: Path) -> str:
    lines = []
    for wheel in sorted(house.glob("*.whl")):
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines.append(f"./{wheel.name} --hash=sha256:{digest}")
    return "\n".join(lines) + "\n"


def wheelhouse(cache: StageCache, arch: str, builder_tar: Path, lock: Path = LOCK_FILE) -> Path:
    """The dependency wheels for ``arch`` with their ``install.txt``, cached by the lock's hash."""
    key = StageCache.key(
        {
            "lock": hashlib.sha256(lock.read_bytes()).hexdigest(),
            "arch": arch,
            "python": PYTHON_VERSION,
            "builder": builder_tar.parent.name,
        }
    )

    def make(out: Path) -> None:
        downloads, house = out / "downloads", out / "wheels"
        downloads.mkdir()
        house.mkdir()
        _download(lock, arch, downloads)
        sources = sorted(p for p in downloads.iterdir() if not p.name.endswith(".whl"))
        for wheel in downloads.glob("*.whl"):
            shutil.copy2(wheel, house)
        setuptools = next(downloads.glob("setuptools-*.whl"), None)
        if sources:
            if setuptools is None:
                raise BuildError(
                    "build source wheels", "the lock pins no setuptools wheel to build sources with"
                )
            _build_sources(builder_tar, sources, setuptools, house, out)
            shutil.rmtree(out / "builder")
        (house / "install.txt").write_text(_install_list(house))
        shutil.rmtree(downloads)

    return cache.build(f"wheels-{arch}", key, make) / "wheels"


def printgate_wheel(into: Path) -> Path:
    """Build printgate's own wheel from this checkout into ``into``; returns its path."""
    into.mkdir(parents=True, exist_ok=True)
    run(
        "printgate wheel",
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            into,
            REPO,
        ],
    )
    wheels = sorted(into.glob("printgate-*.whl"))
    if len(wheels) != 1:
        raise BuildError("printgate wheel", f"expected one wheel in {into}, found {len(wheels)}")
    return wheels[0]


def wheel_packages(repo: Path = REPO) -> list[Path]:
    """The package directories pyproject.toml puts into printgate's wheel (its ``include`` list)."""
    find = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    patterns = [pattern.rstrip("*") for pattern in find["include"]]
    found = {
        path
        for where in find["where"]
        for path in (repo / where).iterdir()
        if path.is_dir() and (path / "__init__.py").exists() and path.name in patterns
    }
    return sorted(found)


def source_hash() -> str:
    """A hash of the printgate sources that go into its wheel (tests and docs excluded)."""
    digest = hashlib.sha256()
    digest.update(hashlib.sha256((REPO / "pyproject.toml").read_bytes()).digest())
    for path in wheel_packages():
        digest.update(f"{path.relative_to(REPO)} {hash_tree(path)}\n".encode())
    return digest.hexdigest()


def git_describe() -> str:
    """``git describe`` of the checkout, or "" outside a git tree."""
    done = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip()
