"""Helpers that tests, bench/ and loadtest/ import; fixtures live in conftest.py."""
