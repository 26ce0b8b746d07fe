"""The blog's tests: fixtures in conftest.py files, helpers in tests/support/."""
