"""Public helpers for testing code that uses namespaces.

- :class:`InMemoryNamespaceRepository`: a small fake that passes the repository
  contract, for fast tests of code that takes a ``NamespaceRepository``.
- :mod:`minari_namespaces.testing.strategies`: Hypothesis strategies
  (``namespace_ids()``, ``namespace_segments()``, ``invalid_namespace_strings()``,
  ``metadata()``); they need ``hypothesis``.
- :mod:`minari_namespaces.testing.contract`: the repository contract suite, to run
  against your own repository; it needs ``pytest``.

The strategies are importable from here too; importing them needs ``hypothesis``.
"""

from __future__ import annotations

from typing import Any

from minari_namespaces.testing.memory import InMemoryNamespaceRepository

__all__ = [
    "InMemoryNamespaceRepository",
    "invalid_namespace_strings",
    "metadata",
    "namespace_ids",
    "namespace_segments",
]

_STRATEGIES = frozenset(
    {"invalid_namespace_strings", "metadata", "namespace_ids", "namespace_segments"}
)


def __getattr__(name: str) -> Any:
    # Hypothesis is only needed by those who use the strategies.
    if name in _STRATEGIES:
        from minari_namespaces.testing import strategies

        return getattr(strategies, name)
    raise AttributeError(f"module 'minari_namespaces.testing' has no attribute {name!r}")
