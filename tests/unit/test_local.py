"""Rules only the local store has: its root, atomic files, junk, odd folder names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from minari_namespaces import (
    LocalNamespaceRepository,
    NamespaceConflictError,
    NamespaceExistsError,
    NamespaceId,
    NamespaceMetadata,
    NamespaceNotEmptyError,
    NamespaceNotFoundError,
    NamespaceService,
    SkippedEntryWarning,
    open_repository,
)
from minari_namespaces.atomic import STALE_TEMP_SECONDS

MARKER = "namespace_metadata.json"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "datasets"


@pytest.fixture
def repo(root: Path) -> LocalNamespaceRepository:
    return LocalNamespaceRepository(root)


@pytest.fixture
def service(repo: LocalNamespaceRepository) -> NamespaceService:
    return NamespaceService(repo)


def minari_create(root: Path, namespace: str, metadata: dict[str, Any]) -> Path:
    """Write a namespace the way ``minari.namespace.create_namespace`` does."""
    directory = root / namespace
    os.makedirs(directory, exist_ok=True)
    with open(directory / MARKER, "w") as file:
        json.dump(metadata, file)
    return directory / MARKER


# -- the root ------------------------------------------------------------------


def test_the_root_is_the_given_path_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    repo = LocalNamespaceRepository("relative/datasets")
    assert repo.root == tmp_path / "relative" / "datasets"
    assert repo.root.is_absolute()
    assert repo.url == str(tmp_path / "relative" / "datasets")


def test_the_root_is_fixed_at_construction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    service = NamespaceService(LocalNamespaceRepository("datasets"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(elsewhere))
    service.create("D4RL")
    assert (tmp_path / "datasets" / "D4RL" / MARKER).is_file()
    assert not (elsewhere / "datasets").exists()
    assert not (elsewhere / "D4RL").exists()


def test_the_root_defaults_to_minari_datasets_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "from-env"))
    assert LocalNamespaceRepository().root == tmp_path / "from-env"
    assert LocalNamespaceRepository(None).root == tmp_path / "from-env"


def test_an_explicit_root_wins_over_minari_datasets_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "from-env"))
    assert LocalNamespaceRepository(tmp_path / "given").root == tmp_path / "given"


def test_the_root_falls_back_to_minari_in_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MINARI_DATASETS_PATH", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    repo = LocalNamespaceRepository()
    assert repo.root == tmp_path / "home" / ".minari" / "datasets"
    NamespaceService(repo).create("D4RL")
    assert (tmp_path / "home" / ".minari" / "datasets" / "D4RL" / MARKER).is_file()


def test_a_tilde_in_the_given_root_means_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert LocalNamespaceRepository("~/data-sets").root == tmp_path / "home" / "data-sets"


def test_reading_never_creates_the_root(
    root: Path, repo: LocalNamespaceRepository, service: NamespaceService
) -> None:
    ns = NamespaceId("D4RL/door")
    assert service.list_local() == []
    assert service.list_local("D4RL") == []
    assert service.children() == []
    assert service.children("D4RL") == []
    assert not service.exists(ns)
    assert repo.get_many([ns]) == {}
    assert not repo.has_datasets(ns)
    with pytest.raises(NamespaceNotFoundError):
        service.get(ns)
    with pytest.raises(NamespaceNotFoundError):
        service.replace(ns, {"description": "x"})
    with pytest.raises(NamespaceNotFoundError):
        service.update_properties(ns, updates={"x": 1})
    with pytest.raises(NamespaceNotFoundError):
        service.delete(ns)
    assert not root.exists()
    assert not root.parent.joinpath("D4RL").exists()


def test_the_first_write_creates_the_root_and_its_parents(tmp_path: Path) -> None:
    root = tmp_path / "not" / "yet" / "there"
    service = NamespaceService(LocalNamespaceRepository(root))
    service.create("D4RL")
    assert sorted(os.listdir(root)) == ["D4RL"]
    assert service.list_local() == [NamespaceId("D4RL")]


# -- atomic files ---------------------------------------------------------------


def test_rewrites_leave_no_temporary_files(root: Path, service: NamespaceService) -> None:
    service.create("D4RL/door", description="v0")
    for version in range(1, 30):
        service.replace("D4RL/door", {"description": f"v{version}"})
        service.update_properties("D4RL/door", updates={"n": version}, removals=["gone"])
    assert sorted(os.listdir(root / "D4RL" / "door")) == [MARKER]
    assert sorted(os.listdir(root / "D4RL")) == ["door", MARKER]
    assert service.get("D4RL/door").to_dict() == {"description": "v29", "n": 29}


def test_a_lost_create_race_leaves_no_temporary_files(
    root: Path, repo: LocalNamespaceRepository
) -> None:
    repo.create(NamespaceId("a"), NamespaceMetadata("first"))
    for _ in range(5):
        with pytest.raises(NamespaceExistsError):
            repo.create(NamespaceId("a"), NamespaceMetadata("second"))
    assert os.listdir(root / "a") == [MARKER]
    assert repo.get(NamespaceId("a")).description == "first"


def test_a_replace_swaps_in_a_new_file_instead_of_writing_in_place(
    root: Path, service: NamespaceService
) -> None:
    service.create("a", description="old")
    marker = root / "a" / MARKER
    with open(marker, "rb") as held_open:
        service.replace("a", {"description": "new"})
        # The file a reader holds open still has the old, complete content.
        assert json.loads(held_open.read()) == {"description": "old"}
    assert json.loads(marker.read_bytes()) == {"description": "new"}


# -- delete: OS junk and everything else ----------------------------------------------


@pytest.mark.parametrize("junk", [".DS_Store", "Thumbs.db", "desktop.ini"])
def test_os_junk_files_do_not_block_delete_and_are_removed(
    root: Path, service: NamespaceService, junk: str
) -> None:
    service.create("D4RL/door")
    (root / "D4RL" / "door" / junk).write_bytes(b"\x00junk")
    service.delete("D4RL/door")
    assert not (root / "D4RL" / "door").exists()
    assert service.list_local() == [NamespaceId("D4RL")]


def test_all_os_junk_files_together_do_not_block_delete(
    root: Path, service: NamespaceService
) -> None:
    service.create("a")
    for junk in [".DS_Store", "Thumbs.db", "desktop.ini"]:
        (root / "a" / junk).write_bytes(b"junk")
    service.delete("a")
    assert os.listdir(root) == []


def test_a_leftover_temporary_file_of_a_crashed_writer_does_not_block_delete(
    root: Path, service: NamespaceService
) -> None:
    service.create("a")
    (root / "a" / f".{MARKER}.4242.0123456789ab.tmp").write_bytes(b'{"half')
    service.delete("a")
    assert not (root / "a").exists()


def dead_pid() -> int:
    """The id of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


@pytest.mark.parametrize("url", ["{root}", "file://{root}"], ids=["local", "file"])
def test_a_download_sweeps_the_leftovers_of_a_killed_marker_write(
    root: Path, tmp_path: Path, url: str
) -> None:
    """Issue 23: a rerun of a transfer into a local store removes the temporary files
    a killed writer left beside the markers it writes, and only those: not one whose
    writer runs, nor a recent one whose process id runs nowhere here (a writer in
    another container sharing the volume has its own process ids)."""
    source = LocalNamespaceRepository(tmp_path / "source")
    NamespaceService(source).create("D4RL/door", description="door")
    service = NamespaceService(open_repository(url.format(root=root)), source)
    dead = f".{MARKER}.{dead_pid()}.0123456789ab.tmp"
    alive = f".{MARKER}.{os.getpid()}.0123456789ab.tmp"
    recent = f".{MARKER}.{dead_pid()}.ba9876543210.tmp"
    long_ago = time.time() - STALE_TEMP_SECONDS - 60
    for folder in [root / "D4RL", root / "D4RL" / "door"]:
        folder.mkdir(parents=True)
        for name in (dead, alive, recent):
            (folder / name).write_bytes(b'{"half')
        for name in (dead, alive):
            os.utime(folder / name, (long_ago, long_ago))

    service.download("D4RL/door")

    for folder in [root / "D4RL", root / "D4RL" / "door"]:
        left = sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))
        assert left == sorted([alive, recent])
        assert (folder / MARKER).is_file()
    assert service.get("D4RL/door").description == "door"


@pytest.mark.parametrize(
    "other",
    ["notes.txt", ".hidden", "README", "ds_store", "thumbs.db", "namespace_metadata.json.bak"],
)
def test_any_other_file_blocks_delete_and_nothing_is_lost(
    root: Path, service: NamespaceService, other: str
) -> None:
    service.create("a", description="kept")
    (root / "a" / other).write_bytes(b"precious")
    (root / "a" / ".DS_Store").write_bytes(b"junk")
    with pytest.raises(NamespaceNotEmptyError, match=other.replace(".", r"\.")):
        service.delete("a")
    assert (root / "a" / other).read_bytes() == b"precious"
    assert (root / "a" / ".DS_Store").read_bytes() == b"junk"
    assert service.get("a").description == "kept"


def test_an_empty_subfolder_blocks_delete(root: Path, service: NamespaceService) -> None:
    service.create("a")
    (root / "a" / "pending").mkdir()
    with pytest.raises(NamespaceNotEmptyError, match="pending"):
        service.delete("a")
    assert (root / "a" / "pending").is_dir()
    assert service.exists("a")


@pytest.mark.parametrize("name", [".DS_Store", "Thumbs.db", f".{MARKER}.1.abcdefabcdef.tmp"])
def test_a_folder_named_like_junk_is_not_junk(
    root: Path, service: NamespaceService, name: str
) -> None:
    service.create("a")
    (root / "a" / name).mkdir()
    (root / "a" / name / "inside.txt").write_bytes(b"precious")
    with pytest.raises(NamespaceNotEmptyError):
        service.delete("a")
    assert (root / "a" / name / "inside.txt").read_bytes() == b"precious"
    assert service.exists("a")


# -- folders that are not valid ids --------------------------------------------------------


def test_invalid_folder_names_are_skipped_with_one_warning_naming_them(
    root: Path, service: NamespaceService
) -> None:
    service.create("ok/inner")
    bad = [root / "bad name", root / "x.y", root / "cafe\u0301", root / "ok" / "in valid"]
    for folder in bad:
        folder.mkdir()
        (folder / MARKER).write_text("{}")
    with pytest.warns(SkippedEntryWarning) as record:
        listed = service.list_local()
    assert listed == [NamespaceId("ok"), NamespaceId("ok/inner")]
    assert len(record) == 1
    message = str(record[0].message)
    for folder in bad:
        assert str(folder) in message


def test_a_listing_of_valid_folders_warns_nothing(root: Path, service: NamespaceService) -> None:
    service.create("a/b/c")
    service.create("café/ロボット")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(service.list_local()) == 5


def test_children_leave_invalid_folder_names_out(root: Path, service: NamespaceService) -> None:
    service.create("ok")
    (root / "not ok").mkdir()
    (root / "not ok" / MARKER).write_text("{}")
    assert service.children() == [NamespaceId("ok")]


def test_a_folder_without_a_marker_is_not_a_namespace_but_its_children_are(
    root: Path, service: NamespaceService
) -> None:
    minari_create(root, "outer/inner", {"description": "inner"})
    assert service.list_local() == [NamespaceId("outer/inner")]
    assert not service.exists("outer")
    assert service.children() == []
    assert service.children("outer") == [NamespaceId("outer/inner")]


# -- things in the way ------------------------------------------------------------------


def test_a_file_where_a_namespace_folder_would_go_is_a_conflict(
    root: Path, service: NamespaceService
) -> None:
    root.mkdir()
    (root / "D4RL").write_bytes(b"a file")
    with pytest.raises(NamespaceConflictError, match="not a folder"):
        service.create("D4RL")
    with pytest.raises(NamespaceConflictError):
        service.create("D4RL/door")
    assert (root / "D4RL").read_bytes() == b"a file"
    assert os.listdir(root) == ["D4RL"]
    assert service.list_local() == []


def test_a_folder_where_the_marker_would_go_is_a_conflict(
    root: Path, service: NamespaceService
) -> None:
    (root / "a" / MARKER).mkdir(parents=True)
    with pytest.raises(NamespaceConflictError, match="not a regular file"):
        service.create("a")
    assert (root / "a" / MARKER).is_dir()
    assert not service.exists("a")


def test_a_decomposed_unicode_twin_is_refused(root: Path, service: NamespaceService) -> None:
    # The NFD folder of macOS and the NFC one of Linux are one folder on macOS.
    (root / "cafe\u0301").mkdir(parents=True)
    with pytest.raises(NamespaceConflictError, match="twin"):
        service.create("café")
    assert os.listdir(root) == ["cafe\u0301"]


def test_a_case_twin_made_outside_the_library_is_refused(
    root: Path, service: NamespaceService
) -> None:
    minari_create(root, "D4RL", {"description": None})
    with pytest.raises(NamespaceConflictError, match="case"):
        service.create("d4rl/door")
    assert os.listdir(root) == ["D4RL"]


# -- Minari-written trees ------------------------------------------------------------------


def test_a_tree_written_by_minari_is_read_exactly(root: Path, service: NamespaceService) -> None:
    minari_create(root, "D4RL", {"description": "D4RL tasks", "author": "Farama"})
    minari_create(root, "D4RL/door", {"description": None})
    minari_create(root, "D4RL/pen", {"source": "hf", "namespaces": [], "datasets": ["x"]})
    dataset = root / "D4RL" / "door" / "human-v2" / "data"
    dataset.mkdir(parents=True)
    (dataset / "main_data.hdf5").write_bytes(b"\x89HDF")
    (root / "D4RL" / "door" / "human-v2" / "metadata.json").write_text("{}")

    assert service.list_local() == [
        NamespaceId("D4RL"),
        NamespaceId("D4RL/door"),
        NamespaceId("D4RL/pen"),
    ]
    assert service.get("D4RL").to_dict() == {"description": "D4RL tasks", "author": "Farama"}
    assert service.get("D4RL/door").to_dict() == {"description": None}
    assert service.get("D4RL/door").description is None
    assert service.get("D4RL/pen")["datasets"] == ["x"]
    assert service.children("D4RL") == [NamespaceId("D4RL/door"), NamespaceId("D4RL/pen")]


def test_minari_reads_what_we_write(root: Path, service: NamespaceService) -> None:
    service.create("D4RL/door", description="Door", metadata={"tags": ["a"]})
    service.update_properties("D4RL/door", updates={"n": 1})
    with open(root / "D4RL" / "door" / MARKER) as file:
        assert json.load(file) == {"tags": ["a"], "description": "Door", "n": 1}
    with open(root / "D4RL" / MARKER) as file:
        assert json.load(file) == {}


def test_a_minari_namespace_can_be_updated_and_deleted(
    root: Path, service: NamespaceService
) -> None:
    marker = minari_create(root, "D4RL", {"description": None})
    service.replace("D4RL", {"description": "now described"})
    assert json.loads(marker.read_bytes()) == {"description": "now described"}
    service.delete("D4RL")
    assert os.listdir(root) == []


def test_the_skipped_folder_warning_points_at_the_callers_code(root: Path) -> None:
    (root / "bad name").mkdir(parents=True)
    (root / "bad name" / MARKER).write_text("{}")
    service = NamespaceService(LocalNamespaceRepository(root))
    with pytest.warns(SkippedEntryWarning) as through_service:
        service.list_local()
    with pytest.warns(SkippedEntryWarning) as directly:
        LocalNamespaceRepository(root).list_namespaces()
    assert through_service[0].filename == __file__
    assert directly[0].filename == __file__


def test_hidden_folders_are_skipped_without_a_warning(root: Path) -> None:
    for hidden in [".git", ".cache/huggingface", ".ipynb_checkpoints"]:
        (root / hidden).mkdir(parents=True)
        (root / hidden / MARKER).write_text("{}")
    (root / "visible").mkdir()
    (root / "visible" / MARKER).write_text("{}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert LocalNamespaceRepository(root).list_namespaces() == [NamespaceId("visible")]
