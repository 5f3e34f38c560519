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
_PRIVATE_KEY_BEGIN = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_PRIVATE_KEY_END = re.compile(r"-----END [A-Z ]*PRIVATE KEY-----")
_SECRET_TEXT = (
    re.compile(f"{_PRIVATE_KEY_BEGIN.pattern}.*?{_PRIVATE_KEY_END.pattern}", re.S),
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
    """The bundle: ``config.json`` (redacted), ``versions.json`` and the whole lines in the last
    :data:`LOG_BYTES_MAX` bytes of each log file (redacted), as ``tar.gz`` bytes of at most
    ``max_bytes``: logs that do not compress well enough keep a shorter tail, the newest part."""
    fixed = {
        "config.json": json.dumps(redact_config(config), indent=2, default=str).encode(),
        "versions.json": json.dumps(dict(versions), indent=2).encode(),
    }
    # Each log is read and redacted once; a shorter tail is cut from the redacted text, so a cut
    # never splits a secret the redaction would have recognised whole.
    logs = {f"logs/{path.name}": _redacted_tail(path) for path in log_files if path.is_file()}
    tail_bytes = LOG_BYTES_MAX
    while True:
        bundle = _archive({**fixed, **{name: _last(data, tail_bytes) for name, data in logs.items()}})
        if len(bundle) <= max_bytes or tail_bytes == 0:
            return bundle
        tail_bytes = tail_bytes // 2 if tail_bytes > 1024 else 0  # down to none at all


def _redacted_tail(path: Path) -> bytes:
    with path.open("rb") as handle:
        start = max(0, path.stat().st_size - LOG_BYTES_MAX)
        handle.seek(start)
        text = handle.read().decode("utf-8", errors="replace")
    if start:
        text = _whole_lines_only(text)
    return redact_text(text).encode()


def _whole_lines_only(text: str) -> str:
    """A tail that began inside a line: without that line (its secret may have lost the name the
    redaction knows it by), and without the rest of a private key whose beginning was cut off."""
    text = text.partition("\n")[2]
    key_end = _PRIVATE_KEY_END.search(text)
    if key_end is not None and _PRIVATE_KEY_BEGIN.search(text, 0, key_end.start()) is None:
        text = REDACTED + text[key_end.end() :]
    return text


def _last(data: bytes, count: int) -> bytes:
    """The last ``count`` bytes of ``data``, from a character boundary on."""
    return data[-count:].decode("utf-8", errors="ignore").encode() if count else b""


def _archive(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            _add(archive, name, data)
    return buffer.getvalue()
