"""Real Minari datasets (HDF5 and Arrow, written by Minari's DataCollector) move with
their namespaces byte for byte through every store and between two remotes; after a
download into a fresh local folder, Minari lists them and ``minari.load_dataset``
opens each with the source's steps.

Every store of the suite is a target and then a source: local, ``file://``,
``memory://``, S3 (moto and SeaweedFS), GCS (fake-gcs-server) and Azure (Azurite).
A parameter's id names its servers, which puts the test in their lanes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from minari_namespaces import (
    METADATA_FILENAME,
    DatasetId,
    FsspecNamespaceRepository,
    LocalNamespaceRepository,
    NamespaceRepository,
    NamespaceService,
    open_repository,
)
from minari_namespaces.stores.base import BOOKKEEPING_FOLDER
from minari_namespaces.testing.transfer_contract import tree_bytes
from tests.compat.formats import FORMATS, NAMESPACES, assert_same_steps, files_of
from tests.compat.hub_datasets import minari_at

pytestmark = pytest.mark.compat

#: The fixture of each store that needs a server (a fresh bucket per test).
SERVERS = {"s3-moto": "moto_s3", "s3-seaweed": "seaweed_s3", "gcs": "gcs", "azure": "azure"}
#: Every store the datasets travel through.
STORES = ("local", "file", "memory", *SERVERS)
#: Remote to remote, each pair across two backends.
PAIRS = (("s3-moto", "gcs"), ("gcs", "azure"), ("azure", "file"), ("memory", "s3-seaweed"))
DATASETS = sorted(DatasetId(dataset_id) for dataset_id in FORMATS)
ARROW = "D4RL/door/arrow-v0"
NAMESPACE_MARKERS = {f"{ns}/{METADATA_FILENAME}" for ns in NAMESPACES}


def empty_store(kind: str, request: pytest.FixtureRequest, folder: Path) -> NamespaceRepository:
    """A new, empty store of ``kind``; the local kinds live in ``folder``."""
    if kind == "local":
        return open_repository(folder)
    if kind == "file":
        return open_repository(f"file://{folder}")
    if kind == "memory":
        return open_repository(f"memory://real-datasets/{folder.name}")
    server: Any = request.getfixturevalue(SERVERS[kind])
    url = f"{server.protocol}://{server.new_bucket()}/minari"
    return open_repository(url, **server.storage_options())


def stored_files(store: NamespaceRepository) -> dict[str, bytes]:
    """Every file ``store`` holds below its root, read straight from the backend:
    namespace markers and dataset files alike, all but the library's bookkeeping."""
    if isinstance(store, LocalNamespaceRepository):
        found = files_of(store.root)
    else:
        assert isinstance(store, FsspecNamespaceRepository)
        root = store.path_of(())
        raw: dict[str, bytes] = store.fs.cat(store.fs.find(root))
        found = {path.removeprefix(root).lstrip("/"): data for path, data in raw.items()}
    return {
        path: data for path, data in found.items() if not path.startswith(f"{BOOKKEEPING_FOLDER}/")
    }


def copied_source(formats_source: Path, folder: Path) -> LocalNamespaceRepository:
    """A private copy of the collected datasets: a test may not change the shared one."""
    shutil.copytree(formats_source, folder)
    return LocalNamespaceRepository(folder)


def assert_downloads_whole_and_loads(
    remote: NamespaceRepository, formats_source: Path, target_root: Path
) -> None:
    """Everything ``remote`` holds comes down into a fresh local folder byte for byte
    (then compares equal, and a rerun moves nothing); Minari lists each dataset there
    and loads it with the source's steps."""
    target = LocalNamespaceRepository(target_root)
    service = NamespaceService(target, remote)
    down = service.download_tree(datasets=True)
    assert down.datasets_copied == DATASETS
    assert sorted(map(str, down.copied)) == sorted(NAMESPACES)
    assert stored_files(target) == files_of(formats_source)
    compared = service.diff(datasets=True)
    assert (compared.in_sync, compared.datasets_same) == (True, DATASETS)
    again = service.download_tree(datasets=True)
    assert (again.datasets_unchanged, again.files_copied, again.bytes_copied) == (DATASETS, 0, 0)
    with minari_at(target_root):
        import minari

        assert sorted(minari.list_local_datasets()) == sorted(FORMATS)
    for dataset_id in FORMATS:
        assert_same_steps(target_root, formats_source, dataset_id)


@pytest.mark.parametrize("kind", STORES)
def test_real_datasets_go_up_to_every_store_and_come_down_byte_for_byte(
    kind: str, formats_source: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    source = copied_source(formats_source, tmp_path / "source")
    remote = empty_store(kind, request, tmp_path / "remote")

    up = NamespaceService(source, remote).upload_tree("D4RL", datasets=True)

    assert up.datasets_copied == DATASETS
    assert tree_bytes(remote) == tree_bytes(source)
    assert stored_files(remote) == files_of(formats_source)
    assert_downloads_whole_and_loads(remote, formats_source, tmp_path / "target")


@pytest.mark.parametrize("kind", STORES)
def test_one_real_dataset_comes_down_from_every_store_with_the_namespaces_above_it(
    kind: str, formats_source: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    remote = empty_store(kind, request, tmp_path / "remote")
    NamespaceService(copied_source(formats_source, tmp_path / "source"), remote).upload_tree(
        datasets=True
    )
    target_root = tmp_path / "target"

    # No version: the latest the remote holds, arrow-v0.
    down = NamespaceService(LocalNamespaceRepository(target_root), remote).download_dataset(
        "D4RL/door/arrow"
    )

    assert down.datasets_copied == [DatasetId(ARROW)]
    assert sorted(map(str, down.copied)) == sorted(NAMESPACES)
    expected = {
        path: data
        for path, data in files_of(formats_source).items()
        if path in NAMESPACE_MARKERS or path.startswith(f"{ARROW}/")
    }
    assert stored_files(LocalNamespaceRepository(target_root)) == expected
    with minari_at(target_root):
        import minari

        assert list(minari.list_local_datasets()) == [ARROW]
    assert_same_steps(target_root, formats_source, ARROW)


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=[f"{a}-to-{b}" for a, b in PAIRS])
def test_real_datasets_move_between_two_remotes_and_load_after_a_download(
    first: str,
    second: str,
    formats_source: Path,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    source = copied_source(formats_source, tmp_path / "source")
    one = empty_store(first, request, tmp_path / "one")
    NamespaceService(source, one).upload_tree(datasets=True)
    other = empty_store(second, request, tmp_path / "other")

    mirrored = NamespaceService(one, other).upload_tree("D4RL", datasets=True)

    assert mirrored.datasets_copied == DATASETS
    assert tree_bytes(other) == tree_bytes(source)
    assert stored_files(other) == files_of(formats_source)
    again = NamespaceService(one, other).upload_tree("D4RL", datasets=True)
    assert (again.datasets_unchanged, again.bytes_copied) == (DATASETS, 0)
    assert_downloads_whole_and_loads(other, formats_source, tmp_path / "target")
