"""The IPPS listener's TLS context from PEM material the hub hands in, replaced without a restart.

The hub injects ``load() -> (key_pem, chain_pem)`` (its PKI's server key and certificate
chain). :class:`PemTlsSource` is a TLS source for :func:`~.http_server.start_http`: it is
called on every handshake, asks ``load`` at most once per ``check_interval_s``, and builds a
new ``ssl.SSLContext`` only when the PEM bytes changed. Material that cannot be loaded is
logged once and the previous context stays in force; connections already open keep theirs.
"""

from __future__ import annotations

import logging
import os
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["PemTlsSource", "tls_context_from_pem"]

log = logging.getLogger(__name__)

PemLoader = Callable[[], tuple[bytes, bytes]]


def tls_context_from_pem(key_pem: bytes, chain_pem: bytes) -> ssl.SSLContext:
    """A TLS 1.2+ server context for a private key and its certificate chain (PEM).

    ``ssl`` loads keys from files only: they are written to a private temporary directory
    (0700, key 0600) and removed as soon as they are loaded."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.num_tickets = 0  # see http_server.server_ssl_context: CUPS clients choke on them
    with tempfile.TemporaryDirectory(prefix="printgate-tls-") as folder:
        key_path, chain_path = Path(folder) / "key.pem", Path(folder) / "chain.pem"
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key_pem)
        chain_path.write_bytes(chain_pem)
        context.load_cert_chain(chain_path, key_path)
    return context


class PemTlsSource:
    """A callable TLS source following ``load``'s material (see the module docstring)."""

    def __init__(self, load: PemLoader, check_interval_s: float = 5.0) -> None:
        self._load = load
        self._check_interval_s = check_interval_s
        self._lock = threading.Lock()
        self._pem = load()
        self._context = tls_context_from_pem(*self._pem)
        self._checked_s = time.monotonic()
        self._failed: tuple[bytes, bytes] | None = None
        self.generation = 0  # contexts built after the first (for tests and metrics)

    def __call__(self) -> ssl.SSLContext:
        """The context in force, after loading the material again when it is due."""
        with self._lock:
            now_s = time.monotonic()
            if now_s - self._checked_s >= self._check_interval_s:
                self._checked_s = now_s
                self._refresh()
            return self._context

    def reload(self) -> None:
        """Load the material now (the next handshakes use it)."""
        with self._lock:
            self._checked_s = time.monotonic()
            self._refresh()

    def _refresh(self) -> None:
        try:
            pem = self._load()
        except Exception as error:  # the hub's loader failing must not fail the handshake
            log.error("intake: TLS material could not be read, keeping the previous: %s", error)
            return
        if pem in (self._pem, self._failed):
            return
        try:
            context = tls_context_from_pem(*pem)
        except (OSError, ssl.SSLError, ValueError) as error:
            # Logged once per broken material; the error names no key bytes.
            log.error("intake: new TLS material unusable, keeping the previous: %s", type(error).__name__)
            self._failed = pem
            return
        self._pem, self._context = pem, context
        self.generation += 1
        log.info("intake: IPPS serves a new server certificate")
