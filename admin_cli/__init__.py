"""``printgate admin``: every AdminService call from a shell or a script.

Usage: ``printgate admin [--hub HOST:PORT] [--ca FILE] [--token-file PATH | --data-dir DIR]
[--json] [--timeout-s S] GROUP VERB ...`` (the global options may also follow the verb).

* The hub address (its admin port) comes from ``--hub``, else ``PRINTGATE_HUB``, else
  ``127.0.0.1:50052``.
* The connection is TLS that trusts only the hub's CA: ``--ca FILE``, else ``DIR/hub-ca.pem``
  for ``--data-dir``, else the file ``PRINTGATE_HUB_CA`` names; none given is a usage error.
* The admin token comes from ``--token-file``, else ``DIR/admin-token`` for ``--data-dir``, else
  ``PRINTGATE_ADMIN_TOKEN``; it travels as ``authorization: Bearer <token>`` metadata.
* ``--json`` prints one JSON document on stdout: the reply's protobuf JSON form with the
  ``.proto`` field names, every field present, int64 as numbers where exact (below 2**53);
  ``account adjust`` and ``cashbox empty`` add the ``idempotency_key`` they used. Otherwise
  readable text and tables.
* Nothing prompts. Secrets can come from stdin (``--password-stdin``, ``--pin-stdin``) so they
  stay out of argv and the process list.
* Money is integer cents; option names carry the unit (``--amount-cents``).

Exit codes; every failure also writes one line to stderr, ``printgate admin: STATUS: message``
for what the hub said (argparse adds its usage text to its own errors):

====  ==================================================================================
0     done
1     the hub refused (its gRPC status and message), an import had rows in error, or the
      ledger check found problems
2     usage error: bad arguments, no admin token, unreadable file, nothing on stdin
3     the hub cannot be reached (UNAVAILABLE, or no answer within ``--timeout-s``)
====  ==================================================================================

Errors (:mod:`admin_cli.errors`)::

    AdminCommandError            exit_code 1
     ├── UsageError (ValueError)  exit_code 2
     └── HubUnreachable (ConnectionError)  exit_code 3

A client of the hub's gRPC API, apart from the hub: it imports only ``printgate`` (the protocol
stubs). :mod:`.client` talks to the hub, :mod:`.render` turns replies into text,
:mod:`.verbs` holds the data-driven verb table, :mod:`.commands` has one module per command
group, and :mod:`.command` parses and runs.
"""

from admin_cli.client import AdminClient
from admin_cli.command import register, run
from admin_cli.errors import AdminCommandError, HubUnreachable, UsageError

__all__ = ["AdminClient", "AdminCommandError", "HubUnreachable", "UsageError", "register", "run"]
