"""Fixtures of the side-by-side tests with the real minari."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.formats import collect_formats
from tests.compat.hub_datasets import NAMESPACED, TOP_LEVEL, collect


@pytest.fixture(scope="session")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset folder holding real datasets written by Minari's DataCollector
    (every id of ``hub_datasets``), collected once per run."""
    root = tmp_path_factory.mktemp("minari-collected")
    collect(root, [*NAMESPACED, TOP_LEVEL])
    return root


@pytest.fixture(scope="session")
def formats_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset folder holding one real dataset per format Minari writes (HDF5 and
    Arrow, ``formats.FORMATS``), collected once per run: DataCollector is slow.
    Tests read it and never write into it (copy it first)."""
    root = tmp_path_factory.mktemp("minari-formats")
    collect_formats(root)
    return root


@pytest.fixture
def fresh_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty download cache of ``huggingface_hub`` for this test. Minari edits the
    cached copy of a repository's root metadata in place when it uploads, and the same
    bytes have the same ETag on a fresh stand-in Hub, so a shared cache would hand one
    test's edits to the next (its uploads would register another test's datasets); an
    empty one also makes Minari's request counts those of a first run."""
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache
