"""Benchmarks (SPEC §9); each module runs with ``python -m bench.<name>``."""
