"""Datasets moving with their namespaces: hostile input, leftovers of interrupted
transfers, and copies between two remotes."""

from __future__ import annotations

import fcntl
import os
import warnings
from pathlib import Path
from typing import Protocol

import pytest

from minari_namespaces import (
    DatasetId,
    FsspecNamespaceRepository,
    LocalNamespaceRepository,
    NamespaceService,
)
from minari_namespaces.errors import KeptDatasetsWarning, UnsafeDatasetFileError
from minari_namespaces.testing.transfer_contract import plant_local_datasets, tree_bytes
from tests.support.emulators import GcsServer
from tests.support.servers import S3Server

HUMAN = DatasetId("D4RL/door/human-v2")


def everything_under(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


# -- hostile input -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_link_or_fifo_inside_a_local_dataset_is_refused_before_anything_is_written(
    tmp_path: Path, kind: str
) -> None:
    local = plant_local_datasets(tmp_path / "local")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for upload")
    entry = local.root / "D4RL/door/human-v2/data/extra"
    if kind == "symlink":
        entry.symlink_to(secret)
    else:
        os.mkfifo(entry)
    remote = FsspecNamespaceRepository(f"file://{tmp_path}/remote")
    with pytest.raises(UnsafeDatasetFileError, match="human-v2/data/extra"):
        NamespaceService(local, remote).upload_tree(datasets=True)
    assert not (tmp_path / "remote").exists()


def test_a_symlink_inside_a_file_remote_dataset_is_refused_on_download(tmp_path: Path) -> None:
    local = plant_local_datasets(tmp_path / "local")
    remote = FsspecNamespaceRepository(f"file://{tmp_path}/remote")
    NamespaceService(local, remote).upload_tree(datasets=True)
    (tmp_path / "remote/D4RL/door/human-v2/data/link").symlink_to("/etc/passwd")
    target = LocalNamespaceRepository(tmp_path / "target")
    with pytest.raises(UnsafeDatasetFileError, match="link"):
        NamespaceService(target, remote).download_tree(datasets=True)
    assert target.list_datasets() == []


@pytest.mark.s3
def test_a_key_that_is_a_file_and_a_folder_is_refused_while_planning(
    tmp_path: Path, moto_s3: S3Server
) -> None:
    # Object keys may hold both; a folder on disk cannot. (On S3: fsspec's memory
    # filesystem before 2025 lists only one of the two.)
    remote, plant = moto_remote(moto_s3)
    NamespaceService(plant_local_datasets(tmp_path / "local"), remote).upload_tree(datasets=True)
    plant("D4RL/pen/cloned-v0/data/a/b", b"a file below a")
    plant("D4RL/pen/cloned-v0/data/a", b"and a is a file too")
    target = LocalNamespaceRepository(tmp_path / "target")
    with pytest.raises(UnsafeDatasetFileError) as refused:
        NamespaceService(target, remote).download_tree(datasets=True)
    assert "'D4RL/pen/cloned-v0' holds 'data/a' and 'data/a/b'" in str(refused.value)
    assert not (tmp_path / "target").exists()


@pytest.mark.s3
def test_a_dotdot_key_in_an_s3_dataset_is_refused_and_nothing_lands_outside(
    tmp_path: Path, moto_s3: S3Server
) -> None:
    remote, plant = moto_remote(moto_s3)
    NamespaceService(plant_local_datasets(tmp_path / "local"), remote).upload_tree(datasets=True)
    plant("D4RL/door/human-v2/data/../../../../escaped.txt")
    target = LocalNamespaceRepository(tmp_path / "deep/target")
    with pytest.raises(UnsafeDatasetFileError, match="escaped.txt"):
        NamespaceService(target, remote).download_tree(datasets=True)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "deep/escaped.txt").exists()
    assert target.list_datasets() == []


class Plant(Protocol):
    """Puts a raw object under a remote's root, past every check of ours."""

    def __call__(self, key: str, body: bytes = b"outside") -> None: ...


def memory_remote(tmp_path: Path) -> tuple[FsspecNamespaceRepository, Plant]:
    """A ``memory://`` remote, and how to plant a raw key under its root."""
    remote = FsspecNamespaceRepository(f"memory://hostile-overwrite/{tmp_path.name}")
    root = f"/hostile-overwrite/{tmp_path.name}"

    def plant(key: str, body: bytes = b"outside") -> None:
        remote.fs.pipe_file(f"{root}/{key}", body)

    return remote, plant


def moto_remote(server: S3Server) -> tuple[FsspecNamespaceRepository, Plant]:
    """A bucket of moto's server, and how to plant a raw key (stored literally: a
    ``..`` segment, or a key that is a file and a folder at once)."""
    bucket = server.new_bucket()
    remote = FsspecNamespaceRepository(f"s3://{bucket}/tree", **server.storage_options())

    def plant(key: str, body: bytes = b"outside") -> None:
        remote.fs.call_s3("put_object", Bucket=bucket, Key=f"tree/{key}", Body=body)

    return remote, plant


@pytest.mark.parametrize("store", ["memory", pytest.param("moto", marks=pytest.mark.s3)])
def test_overwrite_removes_an_unsafe_key_of_the_dataset_and_the_next_run_is_in_sync(
    tmp_path: Path, request: pytest.FixtureRequest, store: str
) -> None:
    if store == "moto":
        remote, plant = moto_remote(request.getfixturevalue("moto_s3"))
    else:
        remote, plant = memory_remote(tmp_path)
    local = plant_local_datasets(tmp_path / "local")
    service = NamespaceService(local, remote)
    service.upload_tree(datasets=True)
    plant("D4RL/door/human-v2/data/../../evil.txt")
    # A plain run keeps the dataset, and says which entry makes it differ.
    with pytest.warns(KeptDatasetsWarning, match=r"'D4RL/door/human-v2/data/\.\./\.\./evil\.txt'"):
        kept = service.upload_tree(datasets=True)
    assert kept.datasets_skipped == [HUMAN]
    (local.root / "D4RL/door/human-v2/data/metadata.json").write_bytes(b'{"changed": 1}')
    replaced = service.upload_tree(datasets=True, overwrite=True)
    assert replaced.datasets_copied == [HUMAN]
    prefix = f"{remote.fs._strip_protocol(remote.url)}/D4RL/door/human-v2/"
    remote.fs.invalidate_cache()
    keys = sorted(key[len(prefix) :] for key in remote.fs.find(prefix.rstrip("/")))
    assert keys == sorted(f"data/{path}" for path in local_files(local, HUMAN))
    again = service.upload_tree(datasets=True)
    assert (again.datasets_skipped, again.bytes_copied) == ([], 0)
    assert HUMAN in again.datasets_unchanged
    assert tree_bytes(remote) == tree_bytes(local)


def local_files(local: LocalNamespaceRepository, dataset: DatasetId) -> list[str]:
    """The paths inside ``data/`` of ``dataset``'s files in ``local``."""
    data = local.root / str(dataset) / "data"
    return [str(path.relative_to(data)) for path in data.rglob("*") if path.is_file()]


# -- leftovers of an interrupted transfer ------------------------------------------------


@pytest.mark.compat  # Minari itself lists the target: the floors lane has no minari
def test_a_leftover_staging_folder_is_listed_by_nobody_and_cleaned_by_the_next_run(
    tmp_path: Path,
) -> None:
    import minari

    source = plant_local_datasets(tmp_path / "local")
    target_root = tmp_path / "target"
    target = LocalNamespaceRepository(target_root)
    service = NamespaceService(target, FsspecNamespaceRepository(f"file://{tmp_path}/remote"))
    NamespaceService(source, service.remote).upload_tree(datasets=True)
    service.download_tree("D4RL/pen", datasets=True)
    # What a download killed mid-copy leaves: a hidden staging folder, half written.
    stage = target_root / "D4RL/door/.human-v2.minari-partial-0123456789ab/data"
    stage.mkdir(parents=True)
    (stage / "main_data.hdf5").write_bytes(b"half")
    assert target.list_datasets() == [DatasetId("D4RL/pen/cloned-v0")]
    os.environ["MINARI_DATASETS_PATH"] = str(target_root)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            listed = list(minari.list_local_datasets())
    finally:
        del os.environ["MINARI_DATASETS_PATH"]
    # Minari skips hidden folders: only the planted dataset (whose metadata lacks an
    # id, which Minari warns about) is seen, never the staging folder.
    assert "human" not in " ".join(listed + [str(w.message) for w in seen])
    service.download_tree(datasets=True)
    assert tree_bytes(target) == tree_bytes(source)
    assert not [name for name in everything_under(target_root) if ".minari-partial" in name]


@pytest.mark.parametrize("scheme", ["local", "file"])
def test_leftovers_beside_datasets_in_place_are_removed_by_the_next_transfer_unless_held(
    tmp_path: Path, scheme: str
) -> None:
    source = plant_local_datasets(tmp_path / "local")
    root = tmp_path / "target"
    target = (
        LocalNamespaceRepository(root)
        if scheme == "local"
        else FsspecNamespaceRepository(root.as_uri())
    )
    service = NamespaceService(source, target)
    service.upload_tree(datasets=True)
    door = root / "D4RL/door"
    # What SIGKILL leaves beside datasets that are already in place: an overwrite's
    # old copy renamed aside, and a staging folder half written.
    killed = [".human-v2.minari-old-0123456789ab", ".human-v1.minari-partial-0123456789ab"]
    for name in killed:
        (door / name / "data").mkdir(parents=True)
        (door / name / "data/main_data.hdf5").write_bytes(b"half")
    # A staging folder that a live transfer still holds (its flock) is not a leftover.
    live = door / ".human-v1.minari-partial-abcdef012345"
    (live / "data").mkdir(parents=True)
    holder = os.open(live, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        service.upload_tree(datasets=True, dry_run=True)
        assert {p.name for p in door.iterdir() if p.name.startswith(".")} == {*killed, live.name}
        report = service.upload_tree(datasets=True)
        assert (report.bytes_copied, len(report.datasets_unchanged)) == (0, 3)
        assert [p.name for p in door.iterdir() if p.name.startswith(".")] == [live.name]
    finally:
        os.close(holder)
    assert tree_bytes(target) == tree_bytes(source)


@pytest.mark.s3
def test_a_partial_object_store_upload_is_not_listed_and_the_next_run_completes(
    tmp_path: Path, moto_s3: S3Server
) -> None:
    url = f"s3://{moto_s3.new_bucket()}/tree"
    remote = FsspecNamespaceRepository(url, **moto_s3.storage_options())
    local = plant_local_datasets(tmp_path / "local")
    service = NamespaceService(local, remote)
    service.upload_tree("D4RL/door")
    root = url[5:]
    remote.fs.pipe_file(f"{root}/D4RL/door/human-v2/data/main_data.hdf5", b"half")
    remote.fs.pipe_file(f"{root}/D4RL/door/human-v2/data/stale.bin", b"stale")
    assert HUMAN not in remote.list_datasets()
    service.upload_tree(datasets=True)
    assert tree_bytes(remote) == tree_bytes(local)
    assert not remote.fs.exists(f"{root}/D4RL/door/human-v2/data/stale.bin")


# -- between two remotes -----------------------------------------------------------------


def test_memory_to_file_and_back_byte_for_byte(tmp_path: Path) -> None:
    local = plant_local_datasets(tmp_path / "local")
    memory = FsspecNamespaceRepository(f"memory://two-remotes/{tmp_path.name}")
    files = FsspecNamespaceRepository(f"file://{tmp_path}/files")
    NamespaceService(local, memory).upload_tree(datasets=True)
    report = NamespaceService(memory, files).upload_tree(datasets=True)
    assert len(report.datasets_copied) == 3
    assert tree_bytes(files) == tree_bytes(local)
    assert NamespaceService(memory, files).upload_tree(datasets=True).bytes_copied == 0


@pytest.mark.s3
@pytest.mark.gcs
def test_s3_to_gcs_byte_for_byte_and_a_rerun_moves_nothing(
    tmp_path: Path, moto_s3: S3Server, gcs: GcsServer
) -> None:
    local = plant_local_datasets(tmp_path / "local")
    s3 = FsspecNamespaceRepository(f"s3://{moto_s3.new_bucket()}/t", **moto_s3.storage_options())
    gs = FsspecNamespaceRepository(f"gs://{gcs.new_bucket()}/t", **gcs.storage_options())
    NamespaceService(local, s3).upload_tree(datasets=True)
    mirror = NamespaceService(s3, gs)
    assert len(mirror.upload_tree(datasets=True).datasets_copied) == 3
    assert tree_bytes(gs) == tree_bytes(local)
    again = mirror.upload_tree(datasets=True)
    assert (again.files_copied, again.bytes_copied) == (0, 0)


def test_a_touched_file_is_compared_by_content_and_a_same_size_change_is_found(
    tmp_path: Path,
) -> None:
    # A copy records no hash, so a file whose version changed on one side is read
    # on both sides: same bytes are unchanged, other bytes of the same size are not.
    local = plant_local_datasets(tmp_path / "local")
    target = FsspecNamespaceRepository(f"file://{tmp_path}/files")
    NamespaceService(local, target).upload_tree(datasets=True)
    touched = next((tmp_path / "local").rglob("main_data.hdf5"))
    os.utime(touched, ns=(1, 1))
    assert NamespaceService(local, target).upload_tree(datasets=True).bytes_copied == 0
    assert NamespaceService(local, target).upload_tree(datasets=True).bytes_copied == 0
    touched.write_bytes(bytes(reversed(touched.read_bytes())))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        kept = NamespaceService(local, target).upload_tree(datasets=True)
    assert kept.bytes_copied == 0
    replaced = NamespaceService(local, target).upload_tree(datasets=True, overwrite=True)
    assert replaced.bytes_copied > 0
    assert tree_bytes(target) == tree_bytes(local)
