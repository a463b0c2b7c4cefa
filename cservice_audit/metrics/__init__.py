"""Metrics: pure LazyFrame -> LazyFrame functions (waits, turns, items, periods)."""
