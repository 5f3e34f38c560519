"""Directory passwords: a hub user linked to a directory proves their password by an LDAP bind.

The hub calls :meth:`DirectoryPasswords.verify` from its password login, *behind* its lockout
(a locked identity is refused before the directory is asked, and a ``MISMATCH`` is counted as a
failure like a wrong local password). The service account finds the user's entry by username;
the entry must carry the same stable id as the hub's link (a username now held by another person
in the directory does not open the old account) and must not be disabled; then the user's own
bind decides. An empty password is a mismatch without asking (LDAP would take it as anonymous).

``UNAVAILABLE`` (no server answered, the service account was refused, a search failed) is not
the user's fault and is not counted: the hub then does what ``password_outage`` says and nothing
else: ``"refuse"`` (default) refuses the login, ``"local"`` checks the hub's own password hash
of that user, when an admin set one.
"""

from __future__ import annotations

import enum

import ldap.filter

from .config import DirectoryConfig
from .connection import connect, connect_service
from .errors import DirectoryBindRefused, DirectoryError, UnknownSource
from .reader import EntryError, is_disabled, stable_id
from .store import UserStore

MAX_PASSWORD_CHARS = 128


class Verdict(enum.Enum):
    """What the directory said about a username and password."""

    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_DIRECTORY_USER = "not-directory-user"  # check the hub's own password hash
    UNAVAILABLE = "unavailable"  # apply password_outage


class DirectoryPasswords:
    """Password checks by LDAP bind for users linked to a source with ``password_login``."""

    def __init__(self, config: DirectoryConfig, store: UserStore) -> None:
        self.config = config
        self.store = store

    @property
    def outage_falls_back_to_local(self) -> bool:
        """True when ``password_outage = "local"``."""
        return self.config.password_outage == "local"

    def verify(self, username: str, password: str) -> Verdict:
        """Check ``password`` for the hub user ``username`` (blocking: run it in a thread)."""
        link = self.store.link_of(username)
        if link is None:
            return Verdict.NOT_DIRECTORY_USER
        try:
            source = self.config.source(link.source)
        except UnknownSource:
            return Verdict.UNAVAILABLE  # linked to a source this hub no longer reads
        if not source.password_login:
            return Verdict.NOT_DIRECTORY_USER
        if not password or len(password) > MAX_PASSWORD_CHARS or not link.active:
            return Verdict.MISMATCH
        attributes = source.attributes
        try:
            service = connect_service(source)
            try:
                escaped = ldap.filter.escape_filter_chars(username)
                wanted = f"(&{source.user_filter}({attributes.username}={escaped}))"
                entries = [
                    entry
                    for base in source.user_base_dns
                    for entry in service.search(base, wanted, [attributes.id, attributes.disabled or "1.1"])
                ]
            finally:
                service.close()
        except DirectoryError:
            return Verdict.UNAVAILABLE
        if len(entries) != 1:
            return Verdict.MISMATCH
        dn, values = entries[0]
        try:
            if stable_id(attributes, values) != link.stable_id or is_disabled(attributes, values):
                return Verdict.MISMATCH
        except EntryError:
            return Verdict.MISMATCH
        try:
            connect(source, dn, password).close()
        except DirectoryBindRefused:
            return Verdict.MISMATCH
        except DirectoryError:
            return Verdict.UNAVAILABLE
        return Verdict.MATCH
