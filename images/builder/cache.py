"""A content-addressed cache of build stages, outside the repository.

Each stage's result lives in ``<cache>/<stage>-<key>/`` where ``key`` is a SHA-256 of
everything that stage's output depends on (package lists, hook scripts, lock file, sources,
the previous stages' keys). A result is complete only when its ``done`` file exists: it is
built in a temporary directory and renamed into place, so a build killed midway leaves nothing
that looks finished. Older results of a stage are pruned, keeping the newest few.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_CACHE_ENV", "StageCache", "default_cache_dir", "hash_tree"]

DEFAULT_CACHE_ENV = "PRINTGATE_IMAGE_CACHE"
KEEP_PER_STAGE = 3


def default_cache_dir() -> Path:
    """``$PRINTGATE_IMAGE_CACHE``, else ``$XDG_CACHE_HOME/printgate-images`` (``~/.cache/...``)."""
    if os.environ.get(DEFAULT_CACHE_ENV):
        return Path(os.environ[DEFAULT_CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "printgate-images"


def hash_tree(root: Path, ignore: Iterable[str] = ("__pycache__",)) -> str:
    """SHA-256 over the relative paths, modes, link targets and contents of every file under ``root``."""
    skip = set(ignore)
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if skip & set(path.relative_to(root).parts):
            continue
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            digest.update(f"L {rel} {os.readlink(path)}\n".encode())
        elif path.is_file():
            digest.update(f"F {rel} {path.stat().st_mode & 0o7777:o}\n".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        elif path.is_dir():
            digest.update(f"D {rel}\n".encode())
    return digest.hexdigest()


class StageCache:
    """Results of build stages under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def key(inputs: dict[str, Any]) -> str:
        """The cache key of a stage: a hash of its (JSON-serialisable) inputs."""
        blob = json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:24]

    def path(self, stage: str, key: str) -> Path:
        """Where the result of ``stage`` for ``key`` lives (complete or not)."""
        return self.root / f"{stage}-{key}"

    def lookup(self, stage: str, key: str) -> Path | None:
        """The finished result, or None."""
        path = self.path(stage, key)
        return path if (path / "done").exists() else None

    def build(self, stage: str, key: str, make: Callable[[Path], None]) -> Path:
        """Return the finished result, running ``make(tmp_dir)`` first if there is none."""
        found = self.lookup(stage, key)
        if found is not None:
            os.utime(found / "done")  # most recently used: pruned last
            return found
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_abandoned(stage)
        final = self.path(stage, key)
        work = self.root / f".{stage}-{key}.{os.getpid()}.tmp"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        try:
            make(work)
            (work / "done").write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n")
            shutil.rmtree(final, ignore_errors=True)
            work.rename(final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        self.prune(stage)
        return final

    def _remove_abandoned(self, stage: str) -> None:
        """Remove half-built results of ``stage`` whose builder process is gone."""
        for work in self.root.glob(f".{stage}-*.tmp"):
            pid = work.suffixes[-2].lstrip(".") if len(work.suffixes) >= 2 else ""
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                shutil.rmtree(work, ignore_errors=True)

    def prune(self, stage: str, keep: int = KEEP_PER_STAGE) -> None:
        """Remove all but the ``keep`` most recently used results of ``stage``."""
        results = [p for p in self.root.glob(f"{stage}-*") if (p / "done").exists()]
        results.sort(key=lambda p: (p / "done").stat().st_mtime, reverse=True)
        for old in results[keep:]:
            with contextlib.suppress(OSError):
                shutil.rmtree(old)
