"""A nested three-level tree of namespaces, shared by the transfer tests.

Descriptions, namespaces without one, Unicode ids and Unicode keys, and extra
metadata of every JSON type, so that a round trip proves the bytes survive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from minari_namespaces import NamespaceId, NamespaceMetadata, NamespaceRepository

_TREE_TEXT: list[tuple[str, dict[str, Any]]] = [
    ("D4RL", {"description": "Datasets from D4RL", "homepage": "https://example.org/d4rl"}),
    ("D4RL/door", {"description": "Door manipulation", "tasks": ["open", "close"], "level": 3}),
    (
        "D4RL/door/human",
        {
            "description": "Human demonstrations",
            "episodes": 25,
            "ratio": 0.125,
            "flags": {"sparse": False, "checked": True, "note": None},
        },
    ),
    ("D4RL/pen", {}),
    ("café", {"description": "Crème brûlée ☕", "languages": ["fr", "日本語"]}),
    ("café/naïve", {"ключ": "значение", "nested": {"deep": [[1, 2], {"x": "ü"}]}}),
    ("café/naïve/東京", {"description": "東京のデータ 🤖", "big": 2**53 + 1, "neg": -7}),
]
TREE: dict[NamespaceId, dict[str, Any]] = {NamespaceId(text): data for text, data in _TREE_TEXT}


def populate(store: NamespaceRepository, tree: dict[NamespaceId, dict[str, Any]] = TREE) -> None:
    """Create every namespace of ``tree`` in ``store``, parents first."""
    existed = store.create_many(
        (ns, NamespaceMetadata.from_dict(metadata)) for ns, metadata in sorted(tree.items())
    )
    assert existed == []


def contents(store: NamespaceRepository) -> dict[NamespaceId, dict[str, Any]]:
    """Every namespace of ``store`` with its metadata as stored (one batched read)."""
    listed = store.list_namespaces()
    found = store.get_many(listed)
    assert sorted(found) == listed, "a listed namespace could not be read"
    return {ns: found[ns].to_dict() for ns in listed}


def orphans(store: NamespaceRepository) -> list[NamespaceId]:
    """Namespaces of ``store`` whose parent namespace is missing."""
    listed = set(store.list_namespaces())
    return sorted(ns for ns in listed if ns.parent is not None and ns.parent not in listed)


def files_under(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` with its bytes (an empty dict if it is missing)."""
    if not root.exists():
        return {}
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
