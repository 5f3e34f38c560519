"""printgate hub: users, cards, an exactly-once ledger, quotas, held jobs; gRPC services."""
