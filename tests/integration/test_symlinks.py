"""Symbolic links inside the root are never followed: nothing outside is touched.

Every test plants links from inside the dataset root to a folder beside it that
looks like a namespace tree (markers, a child namespace, a dataset, OS junk), runs
every operation of the service against the links, and then checks that the
outside folder holds exactly the same files, bytes and modification times.
Outside markers hold content that would surface (or fail as corrupt) if read.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from minari_namespaces import (
    LocalNamespaceRepository,
    NamespaceConflictError,
    NamespaceId,
    NamespaceNotEmptyError,
    NamespaceNotFoundError,
    NamespaceService,
)

MARKER = "namespace_metadata.json"
Snapshot = dict[str, tuple[str, bytes, int]]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "datasets"
    folder.mkdir()
    return folder


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    (folder / "child").mkdir(parents=True)
    (folder / MARKER).write_bytes(b'{"description": "outside, must never be read"}')
    (folder / "child" / MARKER).write_bytes(b'{"description": "outside child"}')
    (folder / "bad name").mkdir()
    (folder / "bad name" / MARKER).write_bytes(b"{}")
    (folder / "dataset-v0" / "data").mkdir(parents=True)
    (folder / "dataset-v0" / "data" / "main_data.hdf5").write_bytes(b"\x89HDF")
    (folder / ".DS_Store").write_bytes(b"outside junk")
    (folder / "corrupt.json").write_bytes(b"{not json, would fail if read")
    return folder


@pytest.fixture
def service(root: Path) -> NamespaceService:
    return NamespaceService(LocalNamespaceRepository(root))


def snapshot(folder: Path) -> Snapshot:
    """Every entry under ``folder`` (links not followed): kind, bytes, mtime."""
    result: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            info = path.lstat()
            if path.is_symlink():
                result[str(path.relative_to(folder))] = (
                    "link",
                    os.readlink(path).encode(),
                    info.st_mtime_ns,
                )
            elif path.is_dir():
                result[str(path.relative_to(folder))] = ("dir", b"", info.st_mtime_ns)
            else:
                result[str(path.relative_to(folder))] = (
                    "file",
                    path.read_bytes(),
                    info.st_mtime_ns,
                )
    result["."] = ("dir", b"", folder.lstat().st_mtime_ns)
    return result


@pytest.fixture
def untouched(outside: Path) -> Iterator[None]:
    before = snapshot(outside)
    yield
    assert snapshot(outside) == before


@pytest.fixture(autouse=True)
def _no_warnings() -> Iterator[None]:
    # A listing that walked into the outside tree would warn about 'bad name'.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def assert_never_reachable(service: NamespaceService, text: str) -> None:
    """Every operation on ``text`` behaves as if nothing were there."""
    assert not service.exists(text)
    assert service.list_local(text) == []
    assert service.children(text) == []
    assert not service.local.has_datasets(NamespaceId(text))
    assert service.local.get_many([NamespaceId(text)]) == {}
    with pytest.raises(NamespaceNotFoundError):
        service.get(text)
    with pytest.raises(NamespaceNotFoundError):
        service.replace(text, {"description": "overwritten"})
    with pytest.raises(NamespaceNotFoundError):
        service.update_properties(text, updates={"x": 1}, removals=["description"])
    with pytest.raises(NamespaceNotFoundError):
        service.delete(text)


@pytest.mark.usefixtures("untouched")
def test_a_symlinked_namespace_folder_is_never_followed(
    root: Path, outside: Path, service: NamespaceService
) -> None:
    service.create("real", description="inside")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "real" / "sub").symlink_to(outside, target_is_directory=True)

    assert service.list_local() == [NamespaceId("real")]
    assert service.children() == [NamespaceId("real")]
    assert service.children("real") == []
    for text in ["linked", "linked/child", "real/sub", "real/sub/child"]:
        assert_never_reachable(service, text)

    for text in ["linked", "linked/new", "linked/child", "real/sub", "real/sub/new"]:
        with pytest.raises(NamespaceConflictError, match="symbolic link"):
            service.create(text, description="through the link")
        with pytest.raises(NamespaceConflictError):
            service.create(text, exist_ok=True)

    assert (root / "linked").is_symlink()
    assert (root / "real" / "sub").is_symlink()
    assert service.get("real").description == "inside"
    with pytest.raises(NamespaceNotEmptyError):
        service.delete("real")
    assert (root / "real" / "sub").is_symlink()


@pytest.mark.usefixtures("untouched")
def test_a_symlinked_marker_file_is_never_followed(
    root: Path, outside: Path, service: NamespaceService
) -> None:
    (root / "ns").mkdir()
    (root / "ns" / MARKER).symlink_to(outside / MARKER)
    (root / "corrupt").mkdir()
    (root / "corrupt" / MARKER).symlink_to(outside / "corrupt.json")

    assert service.list_local() == []
    assert service.children() == []
    for text in ["ns", "corrupt"]:
        assert_never_reachable(service, text)
        with pytest.raises(NamespaceConflictError, match="not a regular file"):
            service.create(text, description="over the link")
        with pytest.raises(NamespaceConflictError):
            service.create(f"{text}/child")
        assert (root / text / MARKER).is_symlink()


@pytest.mark.usefixtures("untouched")
def test_a_dangling_marker_link_is_neither_a_namespace_nor_replaced(
    root: Path, outside: Path, service: NamespaceService
) -> None:
    (root / "ns").mkdir()
    (root / "ns" / MARKER).symlink_to(outside / "created-if-followed.json")
    assert_never_reachable(service, "ns")
    with pytest.raises(NamespaceConflictError):
        service.create("ns")
    assert not (outside / "created-if-followed.json").exists()


@pytest.mark.usefixtures("untouched")
def test_symlink_loops_are_skipped_and_refused(root: Path, service: NamespaceService) -> None:
    service.create("a/b", description="inside")
    (root / "self").symlink_to(root / "self")
    (root / "ping").symlink_to(root / "pong")
    (root / "pong").symlink_to(root / "ping")
    (root / "a" / "up").symlink_to(root, target_is_directory=True)
    (root / "a" / "b" / "back").symlink_to(root / "a", target_is_directory=True)

    assert service.list_local() == [NamespaceId("a"), NamespaceId("a/b")]
    assert service.children() == [NamespaceId("a")]
    assert service.children("a") == [NamespaceId("a/b")]
    for text in ["self", "ping", "pong", "a/up", "a/up/a", "a/b/back", "a/b/back/b"]:
        assert_never_reachable(service, text)
        with pytest.raises(NamespaceConflictError):
            service.create(text)
    for link in [root / "self", root / "ping", root / "pong", root / "a" / "up"]:
        assert link.is_symlink()
    assert service.get("a/b").description == "inside"


@pytest.mark.usefixtures("untouched")
def test_deleting_a_namespace_never_deletes_through_a_link(
    root: Path, outside: Path, service: NamespaceService
) -> None:
    service.create("junk")
    (root / "junk" / ".DS_Store").symlink_to(outside / ".DS_Store")
    service.delete("junk")
    assert not (root / "junk").exists()
    assert (outside / ".DS_Store").read_bytes() == b"outside junk"

    service.create("kept")
    (root / "kept" / "notes").symlink_to(outside / MARKER)
    with pytest.raises(NamespaceNotEmptyError, match="notes"):
        service.delete("kept")
    assert (root / "kept" / "notes").is_symlink()
    assert service.exists("kept")


@pytest.mark.usefixtures("untouched")
def test_a_symlinked_dataset_folder_neither_lists_nor_counts(
    root: Path, outside: Path, service: NamespaceService
) -> None:
    service.create("ns")
    (root / "ns" / "dataset-v0").symlink_to(outside / "dataset-v0", target_is_directory=True)
    assert not service.local.has_datasets(NamespaceId("ns"))
    assert service.list_local() == [NamespaceId("ns")]
    with pytest.raises(NamespaceConflictError):
        service.create("ns/dataset-v0")
