"""The dataset scanner: walk, per-file inspection, aggregates."""
