"""Talking to a directory server with python-ldap (OpenLDAP's libldap): TLS, bind, failover, paging.

Servers are tried in the configured order. A server that cannot be reached, times out or fails
the TLS handshake is skipped for the next; a refused bind is not (the same account would be
refused everywhere, and retrying only brings the account closer to a directory lockout). When
every server failed, :class:`DirectoryUnavailable` lists each one with its reason.

TLS is checked before any connection: the CA file must be readable, hold PEM certificates and
none may be expired or not yet valid. Certificate and host name are always verified
(``OPT_X_TLS_REQUIRE_CERT = DEMAND``).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import socket
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ldap
from cryptography import x509
from ldap.controls import SimplePagedResultsControl

from .config import SourceConfig
from .errors import (
    DirectoryBindRefused,
    DirectoryConfigError,
    DirectorySearchError,
    DirectoryTlsError,
    DirectoryUnavailable,
)

AD_CAPABILITY = "1.2.840.113556.1.4.800"  # LDAP_CAP_ACTIVE_DIRECTORY_OID in supportedCapabilities
PAGED_RESULTS = SimplePagedResultsControl.controlType
MAX_PASSWORD_BYTES = 1024
Entry = tuple[str, dict[str, list[bytes]]]


def read_bind_password(path: str) -> str:
    """The service account's password from its file (trailing newline dropped).

    The file must not be readable by other users: a password others can read is refused.
    """
    file = Path(path)
    try:
        mode = file.stat().st_mode
        raw = file.read_bytes()
    except OSError as error:
        raise DirectoryConfigError(f"bind_password_file {path}: {error.strerror}") from None
    if mode & stat.S_IROTH:
        raise DirectoryConfigError(f"bind_password_file {path} is readable by other users: chmod o-r it")
    if len(raw) > MAX_PASSWORD_BYTES:
        raise DirectoryConfigError(f"bind_password_file {path} is larger than {MAX_PASSWORD_BYTES} bytes")
    try:
        password = raw.decode().rstrip("\r\n")
    except UnicodeDecodeError:
        raise DirectoryConfigError(f"bind_password_file {path} is not UTF-8 text") from None
    if not password:
        raise DirectoryConfigError(
            f"bind_password_file {path} is empty (an empty password is an anonymous bind)"
        )
    return password


def check_ca_file(path: str, now: datetime.datetime | None = None) -> None:
    """Refuse a CA file that cannot verify anything today, with the reason."""
    if not path:
        return
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise DirectoryTlsError(f"ca_file {path}: {error.strerror}") from None
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise DirectoryTlsError(f"ca_file {path} holds no PEM certificate") from None
    now = now or datetime.datetime.now(datetime.UTC)
    for certificate in certificates:
        subject = certificate.subject.rfc4514_string()
        if certificate.not_valid_after_utc < now:
            raise DirectoryTlsError(
                f"ca_file {path}: CA certificate {subject} expired on "
                f"{certificate.not_valid_after_utc:%Y-%m-%d}"
            )
        if certificate.not_valid_before_utc > now:
            raise DirectoryTlsError(
                f"ca_file {path}: CA certificate {subject} is not valid before "
                f"{certificate.not_valid_before_utc:%Y-%m-%d}"
            )


def _reason(error: ldap.LDAPError) -> str:
    """libldap's description and detail, without the dict noise."""
    details = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    description = str(details.get("desc", type(error).__name__))
    info = str(details.get("info", "")).strip()
    return f"{description} ({info})" if info and info != "(unknown error code)" else description


def _is_tls_failure(error: ldap.LDAPError, url: str, start_tls: bool) -> bool:
    reason = _reason(error).lower()
    if any(word in reason for word in ("certificate", "tls", "ssl", "handshake", "x509")):
        return True
    # libldap reports a failed ldaps:// handshake as "Can't contact LDAP server" after the TCP
    # connection succeeded; connect_error is StartTLS refusing.
    return isinstance(error, ldap.CONNECT_ERROR) and start_tls


@dataclass(frozen=True)
class ServerInfo:
    """What a server said about itself in its root DSE."""

    url: str
    active_directory: bool
    paged_results: bool
    vendor: str


class Connection:
    """A bound connection to one server of a source."""

    def __init__(self, source: SourceConfig, url: str, handle: Any) -> None:
        self.source = source
        self.url = url
        self._handle = handle
        self.info = self._root_dse()

    def _root_dse(self) -> ServerInfo:
        try:
            found = self._handle.search_st(
                "",
                ldap.SCOPE_BASE,
                "(objectClass=*)",
                ["supportedCapabilities", "supportedControl", "vendorName"],
                timeout=self.source.operation_timeout_s,
            )
        except ldap.LDAPError as error:
            raise DirectorySearchError(f"{self.url}: cannot read the root DSE: {_reason(error)}") from None
        attributes = found[0][1] if found else {}
        capabilities = {v.decode(errors="replace") for v in attributes.get("supportedCapabilities", [])}
        controls = {v.decode(errors="replace") for v in attributes.get("supportedControl", [])}
        vendor = b"".join(attributes.get("vendorName", [])).decode(errors="replace")
        active_directory = AD_CAPABILITY in capabilities
        return ServerInfo(
            url=self.url,
            active_directory=active_directory,
            paged_results=PAGED_RESULTS in controls,
            vendor=vendor or ("Active Directory" if active_directory else "LDAP"),
        )

    def search(self, base: str, filter_text: str, attributes: list[str]) -> Iterator[Entry]:
        """Every entry under ``base`` matching ``filter_text``, page by page (referrals skipped)."""
        timeout = self.source.operation_timeout_s
        control = SimplePagedResultsControl(True, size=self.source.page_size, cookie="")
        while True:
            controls = [control] if self.info.paged_results else []
            try:
                message = self._handle.search_ext(
                    base, ldap.SCOPE_SUBTREE, filter_text, attributes or ["1.1"], serverctrls=controls
                )
                _, entries, _, reply_controls = self._handle.result3(message, timeout=timeout)
            except (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.UNAVAILABLE, ldap.BUSY) as error:
                raise DirectoryUnavailable(
                    f"{self.url}: search under {base!r} failed: {_reason(error)}"
                ) from None
            except ldap.SIZELIMIT_EXCEEDED:
                raise DirectorySearchError(
                    f"{self.url}: more entries under {base!r} than the server returns without paging "
                    "(it does not offer the paged-results control)"
                ) from None
            except ldap.NO_SUCH_OBJECT:
                raise DirectorySearchError(f"{self.url}: base DN {base!r} does not exist") from None
            except ldap.FILTER_ERROR:
                raise DirectorySearchError(
                    f"{self.url}: the server rejects the filter {filter_text!r}"
                ) from None
            except ldap.LDAPError as error:
                raise DirectorySearchError(
                    f"{self.url}: search under {base!r} failed: {_reason(error)}"
                ) from None
            for dn, values in entries:
                if dn is not None and isinstance(values, dict):
                    yield dn, values
            cookie = next((c.cookie for c in reply_controls or () if c.controlType == PAGED_RESULTS), b"")
            if not cookie:
                return
            control.cookie = cookie

    def close(self) -> None:
        """Unbind and close (errors while closing are of no interest)."""
        _close_quietly(self._handle)


def _open(source: SourceConfig, url: str) -> Any:
    handle = ldap.initialize(url)
    handle.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
    handle.set_option(ldap.OPT_REFERRALS, 0)  # AD's referrals would need a bind of their own
    handle.set_option(ldap.OPT_NETWORK_TIMEOUT, source.connect_timeout_s)
    handle.set_option(ldap.OPT_TIMEOUT, source.operation_timeout_s)
    handle.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
    if source.ca_file:
        handle.set_option(ldap.OPT_X_TLS_CACERTFILE, os.fspath(source.ca_file))
    handle.set_option(ldap.OPT_X_TLS_NEWCTX, 0)  # after every TLS option: build the context
    if source.start_tls and url.startswith("ldap://"):
        handle.start_tls_s()
    return handle


def connect(source: SourceConfig, dn: str, password: str) -> Connection:
    """A connection to the first server of ``source`` that accepts ``dn`` and ``password``."""
    if not password:
        raise DirectoryBindRefused("refusing an empty password (LDAP would treat it as anonymous)")
    check_ca_file(source.ca_file)
    failures: list[str] = []
    tls_failures = 0
    for url in source.servers:
        handle = None
        try:
            handle = _open(source, url)
            handle.simple_bind_s(dn, password)
            return Connection(source, url, handle)
        except ldap.INVALID_CREDENTIALS:
            raise DirectoryBindRefused(
                f"{url}: the directory refused the bind of {dn!r} (invalid credentials)"
            ) from None
        except (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR, ldap.UNAVAILABLE, ldap.BUSY) as error:
            if _is_tls_failure(error, url, source.start_tls) or (
                url.startswith("ldaps://") and isinstance(error, ldap.SERVER_DOWN) and _reachable(url)
            ):
                tls_failures += 1
                failures.append(
                    f"{url}: TLS failed: {_reason(error)}; is the server's certificate signed by a CA in "
                    f"{source.ca_file or 'the system store'} and issued for this host name?"
                )
            else:
                failures.append(f"{url}: {_reason(error)}")
        except ldap.LDAPError as error:
            failures.append(f"{url}: {_reason(error)}")
        if handle is not None:
            _close_quietly(handle)
    error_type = DirectoryTlsError if failures and tls_failures == len(failures) else DirectoryUnavailable
    raise error_type(f"source {source.name!r}: no server could be used: " + "; ".join(failures))


def _close_quietly(handle: Any) -> None:
    with contextlib.suppress(ldap.LDAPError):
        handle.unbind_s()


def _reachable(url: str) -> bool:
    """True when a TCP connection to the URL's host and port opens (told apart from TLS failures)."""
    parts = urlsplit(url)
    port = parts.port or (636 if parts.scheme == "ldaps" else 389)
    try:
        with socket.create_connection((parts.hostname or "localhost", port), timeout=2.0):
            return True
    except OSError:
        return False


def connect_service(source: SourceConfig) -> Connection:
    """A connection bound as the source's service account."""
    return connect(source, source.bind_dn, read_bind_password(source.bind_password_file))
