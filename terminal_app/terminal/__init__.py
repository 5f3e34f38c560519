"""The terminal beside a printer, without any UI toolkit: engine, journal, offline cache, config, wiring.

A front end renders :class:`TerminalState` snapshots from :meth:`TerminalEngine.subscribe` and
sends intents with :meth:`TerminalEngine.submit`; see :mod:`terminal_app.terminal.state` for both and
:mod:`terminal_app.terminal.engine` for the screens and the panel-lock rules. The Kivy screens are
in :mod:`terminal_app.terminal.ui`.
"""

from terminal_app.terminal.copying import (
    CopyCounter,
    CopyPages,
    CopyUnavailable,
    PulseCopyCounter,
    SnmpCopyCounter,
)
from terminal_app.terminal.engine import Subscriber, TerminalEngine
from terminal_app.terminal.journal import FlushResult, Journal, JournalEntry, OpenCopy, UsageSender
from terminal_app.terminal.offline_cache import CachedUser, OfflineCache, load_or_create_key
from terminal_app.terminal.settings import OfflinePolicy, TerminalSettings
from terminal_app.terminal.state import (
    Cancel,
    CardPresented,
    ChooseScanProfile,
    DeleteJobs,
    DismissMessage,
    Intent,
    JobOverrides,
    JobView,
    LinkCard,
    Logout,
    MessageKey,
    PasswordEntered,
    PinEntered,
    PriceHints,
    ProjectView,
    QuotaView,
    ReleaseAll,
    ReleaseSelected,
    ReleaseView,
    ScanProfileView,
    Screen,
    SelectProject,
    SetLanguage,
    StartCopy,
    TerminalState,
    Touch,
)

__all__ = [
    "CachedUser",
    "Cancel",
    "CardPresented",
    "ChooseScanProfile",
    "CopyCounter",
    "CopyPages",
    "CopyUnavailable",
    "DeleteJobs",
    "DismissMessage",
    "FlushResult",
    "Intent",
    "JobOverrides",
    "JobView",
    "Journal",
    "JournalEntry",
    "LinkCard",
    "Logout",
    "MessageKey",
    "OfflineCache",
    "OfflinePolicy",
    "OpenCopy",
    "PasswordEntered",
    "PinEntered",
    "PriceHints",
    "ProjectView",
    "PulseCopyCounter",
    "QuotaView",
    "ReleaseAll",
    "ReleaseSelected",
    "ReleaseView",
    "ScanProfileView",
    "Screen",
    "SelectProject",
    "SetLanguage",
    "SnmpCopyCounter",
    "StartCopy",
    "Subscriber",
    "TerminalEngine",
    "TerminalSettings",
    "TerminalState",
    "Touch",
    "UsageSender",
    "load_or_create_key",
]
