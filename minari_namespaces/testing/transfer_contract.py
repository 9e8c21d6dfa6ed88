"""The transfer half of the dataset contract: every store sends and receives
datasets whole, byte for byte, and a rerun moves nothing.

Each test moves datasets between the harness's store and a local folder (both
ways), so a store proves it can be a source and a target.
:class:`~minari_namespaces.testing.contract.NamespaceRepositoryContract` includes
these tests; a harness whose store cannot copy datasets yet sets
``copies_datasets=False``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest

from minari_namespaces.dataset_files import DatasetFile, DatasetReader
from minari_namespaces.datasets import DatasetId
from minari_namespaces.errors import CopyVerificationError, KeptDatasetsWarning
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.repository import NamespaceRepository
from minari_namespaces.service import NamespaceService
from minari_namespaces.stores.local import LocalNamespaceRepository
from minari_namespaces.testing.harness import RepositoryHarness

__all__ = ["DatasetTransferContract", "plant_local_datasets", "tree_bytes"]

#: The datasets planted, with their files (relative path: content).
_FILES = {
    "D4RL/door/human-v1": {"data/main_data.hdf5": b"\x89HDF v1" * 10},
    "D4RL/door/human-v2": {
        "data/main_data.hdf5": os.urandom(3 * 1024 * 1024 + 17),
        "data/episode_id=0/part-0.parquet": b"PAR1" * 100,
        "data/metadata.json": b'{"dataset_id": "D4RL/door/human-v2"}',
    },
    "D4RL/pen/cloned-v0": {"data/main_data.hdf5": b"pen", "data/metadata.json": b"{}"},
}


def _files_of(dataset: str) -> dict[str, bytes]:
    """The files planted for ``dataset``, its default ``data/metadata.json`` included."""
    return {"data/metadata.json": b"{}", **_FILES[dataset]}


def plant_local_datasets(root: Path) -> LocalNamespaceRepository:
    """A local store at ``root`` holding the ``D4RL`` tree and three datasets."""
    store = LocalNamespaceRepository(root)
    service = NamespaceService(store)
    for namespace in ("D4RL/door", "D4RL/pen"):
        service.create(namespace, description=namespace, exist_ok=True)
    for dataset in _FILES:
        for path, raw in _files_of(dataset).items():
            target = root / dataset / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(raw)
    return store


def tree_bytes(store: NamespaceRepository, prefix: str | None = None) -> dict[str, bytes]:
    """Every file of every dataset in ``store`` (under ``prefix``), read back."""
    start = None if prefix is None else NamespaceId(prefix)
    found: dict[str, bytes] = {}
    ids = store.list_datasets(start)
    for dataset, files in store.dataset_files(ids).items():
        for file in files:
            with store.open_dataset_file(dataset, file) as handle:
                found[f"{dataset}/{file.path}"] = handle.read()
    return found


class _CountingReads:
    """A store that counts the dataset files opened and the records written
    through it."""

    def __init__(self, inner: NamespaceRepository) -> None:
        self.inner = inner
        self.opened = 0
        self.records = 0

    def write_record(self, name: str, payload: bytes) -> None:
        self.records += 1
        self.inner.write_record(name, payload)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def open_dataset_file(
        self, dataset: DatasetId, file: DatasetFile
    ) -> AbstractContextManager[BinaryIO]:
        self.opened += 1
        return self.inner.open_dataset_file(dataset, file)

    @contextlib.contextmanager
    def open_dataset(
        self, dataset: DatasetId, files: Sequence[DatasetFile] = (), *, jobs: int = 1
    ) -> Iterator[DatasetReader]:
        with self.inner.open_dataset(dataset, files, jobs=jobs) as reader:

            def counted(file: DatasetFile) -> AbstractContextManager[BinaryIO]:
                self.opened += 1
                return reader.open(file)

            yield dataclasses.replace(reader, open=counted)


class DatasetTransferContract:
    """Datasets moved to and from every store (a mixin of the repository contract)."""

    @pytest.fixture
    def copies(self, harness: RepositoryHarness) -> NamespaceRepository:
        if not harness.copies_datasets:
            pytest.skip("this store cannot copy dataset files")
        return harness.repository

    @pytest.fixture
    def local(self, tmp_path: Path) -> LocalNamespaceRepository:
        return plant_local_datasets(tmp_path / "local-source")

    def test_a_namespace_tree_moves_with_its_datasets_byte_for_byte(
        self, copies: NamespaceRepository, local: LocalNamespaceRepository, tmp_path: Path
    ) -> None:
        report = NamespaceService(local, copies).upload_tree(datasets=True)
        assert report.datasets_copied == sorted(DatasetId(d) for d in _FILES)
        assert report.files_copied == 7
        assert report.bytes_copied == sum(len(b) for b in tree_bytes(local).values())
        assert tree_bytes(copies) == tree_bytes(local)
        assert copies.list_namespaces() == local.list_namespaces()
        sizes = {e.id: e.size for e in NamespaceService(copies).list_datasets(sizes=True)}
        assert sizes == {DatasetId(d): sum(map(len, _files_of(d).values())) for d in _FILES}
        back = LocalNamespaceRepository(tmp_path / "back")
        NamespaceService(back, copies).download_tree("D4RL/door", datasets=True)
        assert tree_bytes(back) == tree_bytes(local, "D4RL/door")

    def test_a_rerun_moves_nothing(
        self, copies: NamespaceRepository, local: LocalNamespaceRepository
    ) -> None:
        service = NamespaceService(local, copies)
        service.upload_tree(datasets=True)
        source, target = _CountingReads(local), _CountingReads(copies)
        rerun = NamespaceService(
            cast(NamespaceRepository, source), cast(NamespaceRepository, target)
        )
        again = rerun.upload_tree(datasets=True)
        assert (again.files_copied, again.bytes_copied, again.datasets_copied) == (0, 0, [])
        assert again.datasets_unchanged == sorted(DatasetId(d) for d in _FILES)
        assert again.up_to_date
        assert rerun.diff(datasets=True).in_sync
        assert (source.opened, target.opened) == (0, 0)  # no file content was read
        assert target.records == 0  # and nothing was written, not even the record
        # The other way nothing is recorded yet: the first run compares by reading
        # once (and records it); the next one reads nothing.
        downloads = NamespaceService(local, copies)
        assert downloads.download_tree(datasets=True).bytes_copied == 0
        back = _CountingReads(copies)
        down = NamespaceService(local, cast(NamespaceRepository, back)).download_tree(datasets=True)
        assert (down.bytes_copied, back.opened) == (0, 0)

    def test_a_changed_dataset_is_kept_unless_overwrite_which_leaves_no_stale_file(
        self, copies: NamespaceRepository, local: LocalNamespaceRepository
    ) -> None:
        service = NamespaceService(local, copies)
        service.upload_tree(datasets=True)
        folder = local.root / "D4RL/door/human-v1/data"
        # Same size, other bytes: only the content tells.
        (folder / "main_data.hdf5").write_bytes(b"\x89HDF v9" * 10)
        (folder / "extra.bin").write_bytes(b"new")
        changed = DatasetId("D4RL/door/human-v1")
        assert service.diff(datasets=True).datasets_different == [changed]
        with pytest.warns(KeptDatasetsWarning, match="human-v1"):
            kept = service.upload_tree(datasets=True)
        assert kept.datasets_skipped == [changed]
        assert tree_bytes(copies)["D4RL/door/human-v1/data/main_data.hdf5"] == b"\x89HDF v1" * 10
        (folder / "extra.bin").unlink()
        (folder / "metadata.json").write_bytes(b'{"v": 9}')
        replaced = service.upload_tree(datasets=True, overwrite=True)
        assert replaced.datasets_copied == [changed]
        assert tree_bytes(copies) == tree_bytes(local)

    def test_overwrite_removes_a_file_only_the_target_holds(
        self, copies: NamespaceRepository, local: LocalNamespaceRepository
    ) -> None:
        service = NamespaceService(local, copies)
        folder = local.root / "D4RL/door/human-v2/data"
        original = (folder / "main_data.hdf5").read_bytes()
        # The target's copy is another version: one file the source lacks, one changed.
        (folder / "old-only.bin").write_bytes(b"left over from the old version")
        (folder / "main_data.hdf5").write_bytes(b"old" + original[3:])
        service.upload_tree(datasets=True)
        (folder / "old-only.bin").unlink()
        (folder / "main_data.hdf5").write_bytes(original)
        dataset = DatasetId("D4RL/door/human-v2")
        with pytest.warns(KeptDatasetsWarning, match="human-v2"):
            kept = service.upload_tree(datasets=True)
        assert kept.datasets_skipped == [dataset]
        assert "D4RL/door/human-v2/data/old-only.bin" in tree_bytes(copies)
        replaced = service.upload_tree(datasets=True, overwrite=True)
        assert replaced.datasets_copied == [dataset]
        held = [file.path for file in copies.dataset_files([dataset])[dataset]]
        assert held == [file.path for file in local.dataset_files([dataset])[dataset]]
        assert tree_bytes(copies) == tree_bytes(local)
        assert NamespaceService(local, copies).diff(datasets=True).in_sync

    def test_a_dry_run_writes_nothing_and_says_what_would_move(
        self, copies: NamespaceRepository, local: LocalNamespaceRepository
    ) -> None:
        report = NamespaceService(local, copies).upload_tree(datasets=True, dry_run=True)
        assert report.dry_run
        assert [plan.action for plan in report.datasets_planned] == ["copy"] * 3
        assert report.bytes_copied == sum(plan.bytes for plan in report.datasets_planned)
        assert copies.list_datasets() == []
        assert copies.list_namespaces() == []

    def test_one_dataset_moves_with_the_namespaces_above_it_latest_without_a_version(
        self, copies: NamespaceRepository, local: LocalNamespaceRepository, tmp_path: Path
    ) -> None:
        report = NamespaceService(local, copies).upload_dataset("D4RL/door/human")
        assert report.datasets_copied == [DatasetId("D4RL/door/human-v2")]
        assert report.copied == [NamespaceId("D4RL"), NamespaceId("D4RL/door")]
        back = LocalNamespaceRepository(tmp_path / "back")
        got = NamespaceService(back, copies).download_dataset("D4RL/door/human-v2")
        assert got.datasets_copied == [DatasetId("D4RL/door/human-v2")]
        source = tree_bytes(local)
        assert tree_bytes(back) == {
            key: raw for key, raw in source.items() if key.startswith("D4RL/door/human-v2/")
        }

    def test_an_interrupted_copy_is_never_listed_and_the_next_run_completes(
        self, copies: NamespaceRepository, local: LocalNamespaceRepository
    ) -> None:
        dataset = DatasetId("D4RL/door/human-v2")
        files = local.dataset_files([dataset])[dataset]
        opened: list[str] = []

        @contextlib.contextmanager
        def failing(file: DatasetFile) -> Iterator[BinaryIO]:
            opened.append(file.path)
            if len(opened) == 2:
                raise OSError("the network went away")
            with local.open_dataset_file(dataset, file) as handle:
                yield handle

        service = NamespaceService(local, copies)
        service.upload_tree("D4RL/door")
        with pytest.raises(OSError, match="network"):
            copies.write_dataset(dataset, files, failing)
        assert dataset not in copies.list_datasets()
        service.upload_tree(datasets=True)
        assert tree_bytes(copies) == tree_bytes(local)

    def test_a_copy_that_differs_from_its_source_is_refused_and_not_kept(
        self, copies: NamespaceRepository, local: LocalNamespaceRepository
    ) -> None:
        dataset = DatasetId("D4RL/door/human-v2")
        files = local.dataset_files([dataset])[dataset]

        @contextlib.contextmanager
        def shrunk(file: DatasetFile) -> Iterator[BinaryIO]:
            yield io.BytesIO(b"fewer bytes than listed")  # the file changed meanwhile

        NamespaceService(local, copies).upload_tree("D4RL/door")
        with pytest.raises(CopyVerificationError, match="human-v2/data/"):
            copies.write_dataset(dataset, files, shrunk)
        assert dataset not in copies.list_datasets()
        assert copies.dataset_files([dataset], strict=False) == {}
