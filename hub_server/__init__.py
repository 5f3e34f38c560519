"""printgate hub: users, cards, an exactly-once ledger, quotas, held jobs; gRPC services.

Layers, from the bottom: ``storage`` (SQLite and PostgreSQL behind one interface), the kernel
(``errors``, ``clock``, ``config``), ``domain`` (reached only through its ``Hub``), ``services``
(gRPC, translation only), and ``server`` composing them; capability subpackages with narrow
interfaces (``intake``) sit beside the domain. ``tests/test_layers.py`` keeps it so; the why is in
``docs/hub.md``.
"""
