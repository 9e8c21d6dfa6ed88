"""Real Minari datasets published to the stand-in Hub by the real minari 0.5.4.

Both the side-by-side listing tests and the request-count tests use the same tree:
namespaces uploaded with ``minari.namespace.upload_namespace``, then datasets written
by Minari's own ``DataCollector`` and uploaded with ``minari.upload_dataset`` (which
also adds each id to the registry ``datasets`` of its repository's root metadata).
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any

from tests.compat.cartpole import cartpole_collector, collect_cartpole
from tests.support.harnesses import HUB_ORG

#: Namespaces, parents first, with their descriptions.
NAMESPACES = {
    "D4RL": "D4RL datasets",
    "D4RL/door": "Door opening",
    "D4RL/door-x": "Door, a name that begins like D4RL/door",
    "minigrid": "MiniGrid",
    "minigrid/empty": "Empty rooms",
}
#: Datasets in those namespaces: two repositories, several versions of one name.
NAMESPACED = [
    "D4RL/door/human-v1",
    "D4RL/door/human-v2",
    "D4RL/door/expert-v2",
    "D4RL/door-x/play-v0",
    "minigrid/empty/random-v0",
]
#: A dataset without a namespace: the whole repository ``ORG/cartpole-v0``.
TOP_LEVEL = "cartpole-v0"


@contextmanager
def minari_at(root: Path) -> Iterator[None]:
    """Run minari with ``root`` as its dataset folder and its default remote (the
    stand-in Hub's ``farama-minari``), quietly: it prints each upload."""
    saved = {name: os.environ.get(name) for name in ("MINARI_DATASETS_PATH", "MINARI_REMOTE")}
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    os.environ.pop("MINARI_REMOTE", None)
    try:
        with warnings.catch_warnings(), redirect_stdout(io.StringIO()):
            # Minari warns that an uploaded dataset has no eval_env and that
            # huggingface_hub leaves its cache folder; neither is under test.
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def collect(root: Path, dataset_ids: list[str]) -> None:
    """Write each dataset with Minari's DataCollector into ``root``, with its
    namespaces made by minari itself."""
    import minari.namespace as minari_namespace

    with minari_at(root):
        for name, description in NAMESPACES.items():
            minari_namespace.create_namespace(name, description)
        env = cartpole_collector()
        for seed, dataset_id in enumerate(dataset_ids):
            collect_cartpole(env, dataset_id, episodes=2, seed=seed)
        env.close()


def publish(root: Path, dataset_ids: list[str]) -> None:
    """Upload the namespaces, then ``dataset_ids``, from ``root`` with minari."""
    import minari
    import minari.namespace as minari_namespace

    with minari_at(root):
        for name in NAMESPACES:
            minari_namespace.upload_namespace(name, None)
        for dataset_id in dataset_ids:
            minari.upload_dataset(dataset_id, None)


def minari_ids(root: Path, prefix: str | None = None) -> set[str]:
    """What Minari's Hub storage lists (``list_datasets`` is a generator)."""
    from minari.storage.remotes.huggingface import HuggingFaceStorage

    with minari_at(root):
        return set(HuggingFaceStorage(HUB_ORG).list_datasets(prefix=prefix))


def minari_metadata(root: Path, **options: Any) -> dict[str, dict[str, Any]]:
    """What ``minari.list_remote_datasets`` returns: metadata by id."""
    import minari

    with minari_at(root):
        found: dict[str, dict[str, Any]] = minari.list_remote_datasets(**options)
    return found
