"""gRPC server credentials from the PKI material, replaced without a restart.

``grpc.dynamic_ssl_server_credentials`` asks a fetcher for new material before every TLS
handshake (returning None keeps the current one). :class:`ServerTls`'s fetcher is cheap: at most
once per ``check_interval_s`` it compares the watched files' (inode, mtime, size) and, when they
changed, loads them again (and re-issues a hub-made server certificate that is due). An explicit
:meth:`ServerTls.reload` does the same at once. Material that fails to load is logged once and
the previous material stays in force; connections already open keep their handshake.

Listeners that are not gRPC (IPPS, a web console) take :meth:`ServerTls.ssl_context`: a server
:class:`ssl.SSLContext` that makes the same check before every handshake and hands the
connection a context made from the new material when it changed.
"""

from __future__ import annotations

import logging
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc

from hub_server.clock import Clock
from hub_server.pki.errors import PkiError
from hub_server.pki.keys import pem_of, private_key_pem
from hub_server.pki.material import PkiConfig, PkiMaterial, load_material

__all__ = ["ServerTls"]

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 1.0
_Stamp = tuple[tuple[int, int, int], ...]


def _stamp(paths: tuple[Path, ...]) -> _Stamp:
    stamps = []
    for path in paths:
        try:
            status = path.stat()
        except FileNotFoundError:
            stamps.append((-1, -1, -1))
        else:
            stamps.append((status.st_ino, status.st_mtime_ns, status.st_size))
    return tuple(stamps)


def _ssl_context(material: PkiMaterial, directory: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # load_cert_chain reads files only: the material passes through a scratch directory (0700).
    with tempfile.TemporaryDirectory(dir=directory, prefix=".tls-") as scratch:
        chain, key = Path(scratch) / "chain.pem", Path(scratch) / "key.pem"
        chain.write_bytes(pem_of(material.server_chain))
        key.write_bytes(private_key_pem(material.server_key))
        context.load_cert_chain(chain, key)
    return context


def certificate_configuration(material: PkiMaterial) -> grpc.ServerCertificateConfiguration:
    """The gRPC server certificate configuration for ``material``: the server key and chain, and
    the roots client certificates must chain to."""
    return grpc.ssl_server_certificate_configuration(
        [(private_key_pem(material.server_key), pem_of(material.server_chain))],
        root_certificates=material.client_roots_pem(),
    )


class ServerTls:
    """The hub's TLS material, and credentials for gRPC listeners that follow its changes."""

    def __init__(self, config: PkiConfig, clock: Clock, check_interval_s: float = CHECK_INTERVAL_S) -> None:
        self._config = config
        self._clock = clock
        self._check_interval_s = check_interval_s
        self._lock = threading.Lock()
        self._material = load_material(config, clock)
        self._stamp = _stamp(config.watched_files())
        self._generation = 0
        self._last_check = time.monotonic()
        self._failed_stamp: _Stamp | None = None

    @property
    def material(self) -> PkiMaterial:
        """The material in force."""
        return self._material

    def reload(self) -> grpc.ServerCertificateConfiguration:
        """Load the files again now; the next handshakes use the result. Raises PkiError (the
        old material stays in force) when the files are unusable."""
        with self._lock:
            self._load()
            return certificate_configuration(self._material)

    def _load(self) -> None:
        material = load_material(self._config, self._clock)
        # After loading: re-issuing a hub-made server certificate rewrites the files.
        self._stamp = _stamp(self._config.watched_files())
        if material != self._material:
            self._material = material
            self._generation += 1
            log.info(
                "TLS material loaded: server certificate serial %x", material.server_chain[0].serial_number
            )

    def _poll(self) -> None:
        now = time.monotonic()
        if now - self._last_check < self._check_interval_s:
            return
        self._last_check = now
        stamp = _stamp(self._config.watched_files())
        if stamp == self._stamp or stamp == self._failed_stamp:
            return
        try:
            self._load()
        except PkiError as error:
            self._failed_stamp = stamp  # logged once per broken state of the files
            log.error("TLS files changed but cannot be used, keeping the previous ones: %s", error)

    def ssl_context(self) -> ssl.SSLContext:
        """A TLS server context for a listener that is not gRPC (no client certificate asked
        for) following the material like :meth:`credentials` does: give it to
        ``asyncio.start_server(ssl=...)`` once; reloads need nothing more."""
        built = {self._generation: _ssl_context(self._material, self._config.directory)}

        def current() -> ssl.SSLContext:
            with self._lock:
                self._poll()
                generation, material = self._generation, self._material
            context = built.get(generation)
            if context is None:
                context = _ssl_context(material, self._config.directory)
                built.clear()
                built[generation] = context
            return context

        def choose(connection: ssl.SSLObject, _server_name: str | None, _context: ssl.SSLContext) -> None:
            # Called by OpenSSL for every ClientHello (server_name None without SNI): never raise.
            try:
                connection.context = current()
            except Exception:
                log.exception("TLS context refresh failed; keeping the current material")

        front = _ssl_context(self._material, self._config.directory)
        front.sni_callback = choose
        return front

    def credentials(self, require_client_auth: bool) -> grpc.ServerCredentials:
        """Credentials for one listener: client certificates required (device listener) or not
        asked for (enrollment listener)."""
        seen = [self._generation]

        def fetch() -> grpc.ServerCertificateConfiguration | None:
            # Called by gRPC before every handshake, on its own threads: never raise.
            try:
                with self._lock:
                    self._poll()
                    if seen[0] == self._generation:
                        return None
                    seen[0] = self._generation
                    return certificate_configuration(self._material)
            except Exception:
                log.exception("TLS certificate fetcher failed; keeping the current material")
                return None

        fetcher: Callable[[], grpc.ServerCertificateConfiguration | None] = fetch
        return grpc.dynamic_ssl_server_credentials(
            certificate_configuration(self._material),
            fetcher,
            require_client_authentication=require_client_auth,
        )
