"""Local and ``file://`` dataset copies: deep folders of many small files, and what a
durable store flushes before a dataset appears."""

from __future__ import annotations

import errno
import os
import resource
from collections.abc import Iterator
from pathlib import Path

import pytest
from fsspec.implementations.memory import MemoryFile

from minari_namespaces import (
    DatasetId,
    LocalNamespaceRepository,
    NamespaceService,
    dataset_files,
    open_repository,
)
from minari_namespaces.errors import RemoteError
from minari_namespaces.repository import NamespaceRepository

# More files than one copy task takes, in folders two levels deep, as Minari's Arrow
# datasets lay them out (data/<episode>/part-0.arrow).
EPISODES = 150


def _arrow_like(root: Path) -> dict[str, bytes]:
    service = NamespaceService(LocalNamespaceRepository(root))
    service.create("mujoco/hopper")
    files = {"data/metadata.json": b'{"total_episodes": 150}'}
    for episode in range(EPISODES):
        files[f"data/{episode}/part-0.arrow"] = bytes([episode]) * (episode * 97 + 1)
        files[f"data/{episode}/metadata.json"] = b"{}"
    for path, raw in files.items():
        target = root / "mujoco/hopper/arrow-v0" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)
    return files


def _targets(tmp_path: Path, durable: bool) -> list[NamespaceRepository]:
    return [
        LocalNamespaceRepository(tmp_path / "local", durable=durable),
        open_repository(f"file://{tmp_path / 'file'}", durable=durable),
    ]


def _files_under(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


@pytest.mark.parametrize("durable", [False, True])
def test_a_dataset_of_many_small_files_in_deep_folders_arrives_byte_for_byte(
    tmp_path: Path, durable: bool
) -> None:
    files = _arrow_like(tmp_path / "source")
    for target in _targets(tmp_path, durable):
        service = NamespaceService(LocalNamespaceRepository(tmp_path / "source"), target)
        report = service.upload_tree(datasets=True)
        assert report.files_copied == len(files)
        root = Path(target.url.removeprefix("file://"))
        assert _files_under(root / "mujoco/hopper/arrow-v0") == files
        assert not [p for p in (root / "mujoco/hopper").iterdir() if p.name.startswith(".")]
        assert service.upload_tree(datasets=True).bytes_copied == 0


@pytest.mark.parametrize("durable", [False, True])
def test_a_durable_store_flushes_every_file_before_the_dataset_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, durable: bool
) -> None:
    _arrow_like(tmp_path / "source")
    flushed: set[int] = set()
    fsync = os.fsync

    def noting_fsync(fd: int) -> None:
        flushed.add(os.fstat(fd).st_ino)
        fsync(fd)

    monkeypatch.setattr(os, "fsync", noting_fsync)
    for target in _targets(tmp_path, durable):
        flushed.clear()
        service = NamespaceService(LocalNamespaceRepository(tmp_path / "source"), target)
        service.upload_tree(datasets=True)
        published = Path(target.url.removeprefix("file://")) / "mujoco/hopper/arrow-v0"
        inodes = {path.stat().st_ino for path in published.rglob("*") if path.is_file()}
        folders = {path.stat().st_ino for path in published.rglob("*") if path.is_dir()}
        if durable:
            assert inodes <= flushed  # every file
            assert folders <= flushed  # every folder in it (data/<episode>: their entries)
            assert published.stat().st_ino in flushed  # the (staging) folder
            assert published.parent.stat().st_ino in flushed  # and where it was renamed
        else:
            assert not (inodes | folders) & flushed


@pytest.fixture
def descriptor_limit() -> Iterator[int]:
    """The process may hold 512 descriptors in the test (restored after it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = 512
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(limit, hard), hard))
    try:
        yield limit
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize("target", ["local", "memory://"])
def test_a_dataset_of_more_folders_than_open_descriptors_allowed_is_copied(
    tmp_path: Path, descriptor_limit: int, target: str
) -> None:
    # Minari's Arrow layout has a folder per episode: a copy holds a few folders open
    # at a time, not one per folder, on either side.
    source = LocalNamespaceRepository(tmp_path / "source")
    NamespaceService(source).create("mujoco")
    episodes = 3 * descriptor_limit
    data = tmp_path / "source/mujoco/arrow-v0/data"
    data.mkdir(parents=True)
    (data / "metadata.json").write_bytes(b"{}")
    for episode in range(episodes):
        (data / str(episode)).mkdir()
        (data / str(episode) / "part-0.arrow").write_bytes(str(episode).encode())
    stores: dict[str, NamespaceRepository] = {
        "local": LocalNamespaceRepository(tmp_path / "target"),
        "memory://": open_repository("memory://many/folders"),
    }
    service = NamespaceService(source, stores[target])

    report = service.upload_tree(datasets=True)

    dataset = DatasetId("mujoco/arrow-v0")
    assert report.files_copied == episodes + 1
    listed = {file.path: file.size for file in stores[target].dataset_files([dataset])[dataset]}
    assert listed == {file.path: file.size for file in source.dataset_files([dataset])[dataset]}


@pytest.fixture
def on_memory(tmp_path: Path) -> tuple[NamespaceService, DatasetId]:
    """A download service from a ``memory://`` remote holding the Arrow-like dataset
    (each test has a memory store of its own: ``_fresh_memory_filesystem``)."""
    _arrow_like(tmp_path / "source")
    remote = open_repository("memory://remote")
    NamespaceService(LocalNamespaceRepository(tmp_path / "source"), remote).upload_tree(
        datasets=True
    )
    local = LocalNamespaceRepository(tmp_path / "local")
    return NamespaceService(local, remote), DatasetId("mujoco/hopper/arrow-v0")


def test_a_full_local_disk_in_a_download_is_the_local_error_naming_the_file(
    on_memory: tuple[NamespaceService, DatasetId],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The remote read fine: blaming it ("could not read ... at memory://") would send
    # the user to the wrong place. The error keeps its errno and names the file.
    service, dataset = on_memory

    def full(fd: int, chunk: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(dataset_files, "_write_all", full)
    with pytest.raises(OSError, match="No space left") as raised:
        service.download_dataset(dataset)

    assert not isinstance(raised.value, RemoteError)
    assert raised.value.errno == errno.ENOSPC
    assert str(raised.value.filename).startswith(str(tmp_path / "local/mujoco/hopper/arrow-v0/"))
    _nothing_landed(tmp_path / "local")


def test_a_failed_remote_read_in_a_download_is_the_remotes_error(
    on_memory: tuple[NamespaceService, DatasetId],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service, dataset = on_memory

    read = MemoryFile.read

    def broken(self: MemoryFile, size: int = -1) -> bytes:
        if "/arrow-v0/" in str(self.path):
            raise OSError(errno.EIO, "the connection broke")
        data: bytes = read(self, size)
        return data

    monkeypatch.setattr(MemoryFile, "read", broken)
    with pytest.raises(RemoteError, match=r"Could not read mujoco/hopper/arrow-v0/.* at memory://"):
        service.download_dataset(dataset)
    _nothing_landed(tmp_path / "local")


def _nothing_landed(local: Path) -> None:
    """Neither the dataset nor its staging folder is in ``local``."""
    assert os.listdir(local / "mujoco/hopper") == ["namespace_metadata.json"]
