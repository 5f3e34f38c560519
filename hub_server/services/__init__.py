"""The gRPC services: each RPC translates its request into a call on the domain's front door
(:class:`hub_server.domain.Hub`) and the answer back into its reply; hub errors become gRPC
status codes in one place (:mod:`.common`). No SQL, no transactions, no storage here; what two
servicers both need (enum tables, user references, timestamps) is in :mod:`.convert`."""
