"""``python -m printgate_cli ...``: the ``printgate`` command."""

import sys

from printgate_cli.commands import main

sys.exit(main())
