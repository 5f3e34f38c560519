"""A diagnostics bundle without secrets: recent logs, the configuration with every secret value
replaced, and versions — a ``tar.gz`` for the ``collect_diagnostics`` command.

Secrets are recognised by key name (:data:`SECRET_KEY_PARTS`, at any depth) and, in log lines,
by the patterns of the things printgate never logs on purpose but a third-party library might:
enrollment tokens and PEM private keys. The private key files of the state directory are never
read.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from printgate.fleet_wire import DIAGNOSTICS_MAX_BYTES

__all__ = ["REDACTED", "SECRET_KEY_PARTS", "build_bundle", "redact_config", "redact_text"]

REDACTED = "***"
SECRET_KEY_PARTS: tuple[str, ...] = (
    "secret",
    "password",
    "passwd",
    "token",
    "key",
    "pin",
    "community",
    "credential",
)
LOG_BYTES_MAX = 2 * 1024 * 1024
_SECRET_TEXT = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"pge1-[0-9A-Fa-f-]+(@\S+)?"),
    re.compile(r"(?i)(password|passwd|secret|token|pin)(\s*[=:]\s*)\S+"),
)


def _secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(part in lowered for part in SECRET_KEY_PARTS)


def redact_config(config: Any) -> Any:
    """A copy of ``config`` (nested mappings and lists) with every secret-named value replaced."""
    if isinstance(config, Mapping):
        return {
            key: REDACTED if _secret_key(str(key)) else redact_config(value) for key, value in config.items()
        }
    if isinstance(config, list | tuple):
        return [redact_config(item) for item in config]
    return config


def redact_text(text: str) -> str:
    """``text`` with private keys, enrollment tokens and ``password=...`` style values removed."""
    for pattern in _SECRET_TEXT:
        text = pattern.sub(
            lambda m: (m.group(1) + m.group(2) + REDACTED) if m.re.groups == 2 else REDACTED, text
        )
    return text


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def build_bundle(
    log_files: Iterable[Path],
    config: Mapping[str, Any],
    versions: Mapping[str, str],
    max_bytes: int = DIAGNOSTICS_MAX_BYTES,
) -> bytes:
    """The bundle: ``config.json`` (redacted), ``versions.json`` and the last
    :data:`LOG_BYTES_MAX` bytes of each log file (redacted), as ``tar.gz`` bytes of at most
    ``max_bytes``: logs that do not compress well enough keep a shorter tail, the newest part."""
    paths = [path for path in log_files if path.is_file()]
    tail_bytes = LOG_BYTES_MAX
    while True:
        bundle = _bundle(paths, config, versions, tail_bytes)
        if len(bundle) <= max_bytes or tail_bytes == 0:
            return bundle
        tail_bytes = tail_bytes // 2 if tail_bytes > 1024 else 0  # down to none at all


def _bundle(
    paths: list[Path], config: Mapping[str, Any], versions: Mapping[str, str], tail_bytes: int
) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        _add(archive, "config.json", json.dumps(redact_config(config), indent=2, default=str).encode())
        _add(archive, "versions.json", json.dumps(dict(versions), indent=2).encode())
        for path in paths:
            with path.open("rb") as handle:
                handle.seek(max(0, path.stat().st_size - tail_bytes))
                tail = handle.read(tail_bytes).decode("utf-8", errors="replace")
            _add(archive, f"logs/{path.name}", redact_text(tail).encode())
    return buffer.getvalue()
