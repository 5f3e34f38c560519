"""The admin CLI's errors; ``str()`` of each is the line printed after ``printgate admin: ``.

::

    AdminCommandError            exit_code 1
     ├── UsageError (ValueError)  exit_code 2
     └── HubUnreachable (ConnectionError)  exit_code 3
"""

from __future__ import annotations

__all__ = ["AdminCommandError", "HubUnreachable", "UsageError"]


class AdminCommandError(Exception):
    """A failed admin command; ``str()`` is the line printed after ``printgate admin: ``."""

    exit_code = 1


class UsageError(AdminCommandError, ValueError):
    """The command line (or a file or stdin it names) is not usable."""

    exit_code = 2


class HubUnreachable(AdminCommandError, ConnectionError):
    """No hub answered at the address."""

    exit_code = 3
