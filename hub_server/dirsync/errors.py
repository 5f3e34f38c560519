"""The one exception tree of directory sync.

::

    DirectoryError                     base of everything raised here
    ├── DirectoryConfigError (ValueError)  a [directory] table that cannot work
    ├── DirectoryUnavailable (ConnectionError)  no configured server could be used
    │   └── DirectoryTlsError          the TLS handshake failed: wrong, expired or unreadable CA
    ├── DirectoryBindRefused           the directory refused the service account's bind
    ├── DirectorySearchError           a search failed (bad filter, base DN, size limit...)
    ├── SyncRefused                    the sync would disable too many users: ask for force
    └── UnknownSource (LookupError)    no source of that name is configured

Messages name the server, the source and what to change; they never contain a password.
"""

from __future__ import annotations

__all__ = [
    "DirectoryBindRefused",
    "DirectoryConfigError",
    "DirectoryError",
    "DirectorySearchError",
    "DirectoryTlsError",
    "DirectoryUnavailable",
    "SyncRefused",
    "UnknownSource",
]


class DirectoryError(Exception):
    """Base of every directory-sync error."""


class DirectoryConfigError(DirectoryError, ValueError):
    """The ``[directory]`` configuration is invalid (the message names the key)."""


class DirectoryUnavailable(DirectoryError, ConnectionError):
    """Every server of a source failed (the message lists each server and why)."""


class DirectoryTlsError(DirectoryUnavailable):
    """TLS could not be established with any server: the CA file is wrong, expired or unreadable."""


class DirectoryBindRefused(DirectoryError):
    """The directory refused the service account's credentials (not retried on other servers)."""


class DirectorySearchError(DirectoryError):
    """A search was refused or failed part-way; nothing of it is used."""


class SyncRefused(DirectoryError):
    """A sync stopped before changing anything: it would disable too many users without force."""


class UnknownSource(DirectoryError, LookupError):
    """A command named a source that ``[directory]`` does not configure."""
