"""Benchmarks: plain scripts run as `python -m bench.<name>` that print figures (targets live here, not in tests)."""
