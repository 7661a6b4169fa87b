"""Benchmarks and load drills: ``python bench/run.py`` measures every figure (see docs/performance.md)."""
