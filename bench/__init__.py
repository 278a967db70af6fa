"""Benchmarks: `python -m bench` (or `make bench`) times the busy pages on a large seeded dataset.

Figures are medians and ratios, never assertions: this machine is shared and noisy. The test
suite only checks that the harness still runs (tests/core/test_bench.py); query-count tests guard
against N+1 there.
"""
