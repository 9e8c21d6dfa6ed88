"""The issue's example catalog tree (issue 17), with a display name, hostile
descriptions and corrupt files, for the tests of the catalog pages."""

from __future__ import annotations

import json
from pathlib import Path

from minari_namespaces import LocalNamespaceRepository, NamespaceId, NamespaceService
from minari_namespaces.catalog import Catalog
from tests.support.harnesses import local_harness_at

#: A description that would be markup (and script) if a page pasted it as it is.
HOSTILE = (
    "<script>alert(1)</script><img src=x onerror=alert(2)> | x | "
    "[click](javascript:alert(3)) ![i](http://e/x.png)"
)
#: The display name of ``D4RL/door``.
DOOR_NAME = "Door | *opening* <b>"


def _dataset_metadata(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def example_tree(root: Path) -> Path:
    """Lay out ``D4RL/door/{human-v1,human-v2,expert-v2}``, ``D4RL/door-x/play-v0``
    and ``D4RL/pen/cloned-v1`` under ``root``; ``D4RL/pen`` has no marker and
    ``cloned-v1``'s metadata is not JSON."""
    service = NamespaceService(LocalNamespaceRepository(root))
    service.create("D4RL", description=f"Datasets from D4RL. {HOSTILE}")
    service.create("D4RL/door", "Open a door. With a hand.", metadata={"display_name": DOOR_NAME})
    service.create("D4RL/door-x", description="](javascript:alert(4)) Play.\n\nSecond paragraph.")
    harness = local_harness_at(root)
    add, write = harness.add_dataset, harness.write_dataset_metadata
    assert write is not None
    door, door_x, pen = (NamespaceId(f"D4RL/{name}") for name in ("door", "door-x", "pen"))
    add(door, "human-v1")
    metadata = _dataset_metadata(total_episodes=25, total_steps=6729, description=HOSTILE)
    write(door, "human-v1", metadata)
    add(door, "human-v2")
    write(door, "human-v2", _dataset_metadata(total_episodes=25, total_steps=6729, author="Farama"))
    add(door, "expert-v2")
    write(door, "expert-v2", _dataset_metadata(description="# Expert. Trained with SAC."))
    add(door_x, "play-v0")
    add(pen, "cloned-v1")
    write(pen, "cloned-v1", b"{not json")
    return root


def catalog_of(root: Path) -> Catalog:
    """The catalog of the local store at ``root``."""
    return NamespaceService(LocalNamespaceRepository(root)).catalog()
