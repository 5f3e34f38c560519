"""One module per command group; each adds its verbs with ``add_verbs(table)``. ``GROUPS`` is
the order ``printgate admin --help`` lists them in."""

from __future__ import annotations

from collections.abc import Callable

from admin_cli.commands import (
    accounts,
    cards,
    devices,
    directory,
    enrollment,
    fleet,
    groups,
    kiosks,
    prices,
    printjobs,
    quotas,
    roles,
    rules,
    scan,
    sites,
    users,
    web,
)
from admin_cli.verbs import VerbTable

__all__ = ["GROUPS"]

GROUPS: tuple[Callable[[VerbTable], None], ...] = (
    users.add_verbs,
    cards.add_verbs,
    groups.add_verbs,
    roles.add_verbs,
    devices.add_verbs,
    enrollment.add_verbs,
    prices.add_verbs,
    accounts.add_verbs,
    quotas.add_verbs,
    kiosks.add_verbs,
    printjobs.add_verbs,
    rules.add_verbs,
    directory.add_verbs,
    scan.add_verbs,
    sites.add_verbs,
    web.add_verbs,
    fleet.add_verbs,
)
