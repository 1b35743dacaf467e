"""Live-session analytics: the metrics of shared/spec/metrics.md and their reference oracle."""
