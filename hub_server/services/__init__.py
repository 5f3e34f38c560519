"""gRPC servicers: translate messages to and from the hub's domain, nothing else."""
