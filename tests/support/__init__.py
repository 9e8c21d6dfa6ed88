"""What the tests build on: the harness of every store, the servers and emulators
they start, the dataset layout, terminal and process helpers, and example trees.

Tests import from here; ``tests/conftest.py`` holds only fixtures.
"""
