"""What an operator sees of a runner: metrics, the health probe, structured logs."""
