"""Child process for the kill -9 test: journal usage reports one by one, say so, never send them.

Usage: ``python -m tests.terminal_app.terminal.journal_child STORE TOKEN COUNT``. Prints ``journaled N`` after
each committed append, then waits to be killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from terminal_app.hub.values import ColorMode, Function, UsageLine, UsageReport
from terminal_app.session import open_store
from terminal_app.terminal import Journal


def main() -> None:
    store, token, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    journal = Journal(open_store(store))
    for number in range(1, count + 1):
        line = UsageLine(Function.COPY, ColorMode.MONO, "A4", duplex=False, pages=1)
        request = UsageReport(session_token=token, idempotency_key=f"crash-{number}", lines=(line,))
        journal.append(request, created_us=number)
        print(f"journaled {number}", flush=True)
    time.sleep(3600)


if __name__ == "__main__":
    main()
