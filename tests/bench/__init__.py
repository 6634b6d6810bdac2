"""Benchmarks: `make bench` runs them (tests/bench/run.py) and records the numbers in BENCHMARKS.md.

They measure and report; they never assert timings. Every server they start listens on
127.0.0.1 only and is stopped when the run ends, also on error.
"""
