"""Benchmarks of the blog: what security and Lambda cost, as side-by-side ratios.

Run `.venv/bin/python -m bench` (see bench/README.md).
"""
