"""Child process for the kill -9 test: journal usage reports one by one, say so, never send them.

Usage: ``python -m tests.terminal_app.terminal.journal_child STORE TOKEN COUNT``. Prints ``journaled N`` after
each committed append, then waits to be killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from printgate.v1 import common_pb2, terminal_pb2

from terminal_app.session import open_store
from terminal_app.terminal import Journal


def main() -> None:
    store, token, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    journal = Journal(open_store(store))
    for number in range(1, count + 1):
        line = common_pb2.UsageLine(
            function=common_pb2.FUNCTION_COPY, color=common_pb2.COLOR_MODE_MONO, paper_size="A4", pages=1
        )
        request = terminal_pb2.ReportUsageRequest(
            session_token=token, idempotency_key=f"crash-{number}", lines=[line], performed=True
        )
        journal.append(request, created_us=number)
        print(f"journaled {number}", flush=True)
    time.sleep(3600)


if __name__ == "__main__":
    main()
