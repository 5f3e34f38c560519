"""``printgate-device COMMAND [ARGS]``: the device-side commands (see :mod:`images.guest`)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

COMMANDS = {
    "firstboot": "images.guest.firstboot",
    "runtime": "images.guest.runtime",
    "console": "images.guest.console",
    "boot-backend": "images.guest.bootchooser",
    "pre-install": "images.guest.preinstall",
    "post-install": "images.guest.post_install",
    "slot-health": "images.guest.slot_health",
    "requests": "images.guest.device_requests",
    "app": "images.guest.appservice",
}


def main(argv: Sequence[str]) -> int:
    """Run one command; its module is imported only when chosen."""
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: printgate-device {{{','.join(COMMANDS)}}} [args]", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[argv[0]])
    return int(module.main(list(argv[1:])))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
