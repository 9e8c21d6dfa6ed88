"""Hostile local trees (issue 10): what an attacker or an unlucky user can leave in a
dataset folder must never hang, crash or mislead a read, a listing or a transfer."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from minari_namespaces import (
    LocalNamespaceRepository,
    NamespaceConflictError,
    NamespaceError,
    NamespaceId,
    NamespaceMetadata,
    NamespaceService,
    SkippedEntryWarning,
    compat,
)
from minari_namespaces.repository import open_repository
from tests.support.deadline import within

MARKER = "namespace_metadata.json"


def outcome(call: Callable[[], object]) -> str:
    """``ok`` or the name of the library error; anything else escapes."""
    try:
        with within(5):
            call()
    except NamespaceError as error:
        return type(error).__name__
    return "ok"


# -- defect 1: a FIFO where a marker belongs ------------------------------------------------


@pytest.fixture
def fifo_tree(tmp_path: Path) -> Path:
    root = tmp_path / "datasets"
    service = NamespaceService.from_urls(root)
    service.create("ok/fine", description="fine")
    (root / "trap").mkdir()
    os.mkfifo(root / "trap" / MARKER)
    return root


def test_a_fifo_named_like_a_marker_never_blocks_a_local_read(
    fifo_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = NamespaceService.from_urls(fifo_tree, (fifo_tree.parent / "remote").as_uri())
    trap = NamespaceId("trap")
    assert outcome(lambda: service.get(trap)) == "NamespaceNotFoundError"
    assert outcome(lambda: service.exists(trap)) == "ok"
    assert not service.exists(trap)
    assert outcome(lambda: service.local.get_many([trap, NamespaceId("ok")])) == "ok"
    assert outcome(lambda: service.upload("trap")) == "NamespaceNotFoundError"
    assert outcome(service.upload_tree) == "ok"
    assert service.list_local() == [NamespaceId("ok"), NamespaceId("ok/fine")]
    assert outcome(lambda: service.create("trap")) == "NamespaceConflictError"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(fifo_tree))
    assert outcome(lambda: compat.get_namespace_metadata("trap")) == "NamespaceNotFoundError"


def test_a_fifo_named_like_a_marker_never_blocks_a_file_remote(tmp_path: Path) -> None:
    remote_root = tmp_path / "remote"
    service = NamespaceService.from_urls(tmp_path / "local", remote_root.as_uri())
    service.create("ok")
    service.upload_tree()
    (remote_root / "trap").mkdir()
    os.mkfifo(remote_root / "trap" / MARKER)
    fresh = NamespaceService.from_urls(tmp_path / "fresh", remote_root.as_uri())
    assert outcome(lambda: fresh.get("trap", remote=True)) == "NamespaceNotFoundError"
    assert outcome(lambda: fresh.download("trap")) == "NamespaceNotFoundError"
    assert outcome(fresh.download_tree) == "ok"
    assert fresh.list_local() == [NamespaceId("ok")]


# -- defect 13: folders deeper or longer than an id ----------------------------------------------


def test_namespaces_deeper_than_an_id_are_skipped_with_a_warning_never_raised(
    tmp_path: Path,
) -> None:
    root = tmp_path / "datasets"
    deep = root.joinpath(*(f"l{i}" for i in range(17)))
    deep.mkdir(parents=True)
    (deep / MARKER).write_text("{}")  # as Minari 0.5.4 writes a 17-deep namespace
    (deep.parent / MARKER).write_text("{}")
    repository = LocalNamespaceRepository(root)
    sixteen = NamespaceId("/".join(f"l{i}" for i in range(16)))
    with pytest.warns(SkippedEntryWarning, match="l16"):
        assert repository.list_namespaces() == [sixteen]
    with pytest.warns(SkippedEntryWarning, match="l16"):
        assert repository.children(sixteen) == []
    assert repository.children(sixteen.parent) == [sixteen]


def test_a_folder_that_would_make_an_id_over_512_bytes_is_skipped_by_children(
    tmp_path: Path,
) -> None:
    root = tmp_path / "datasets"
    parent = NamespaceId("/".join(["x" * 96] * 5))  # 484 bytes
    repository = LocalNamespaceRepository(root)
    repository.create(parent, NamespaceMetadata())
    too_long = root.joinpath(*parent.parts, "y" * 40)
    too_long.mkdir()
    (too_long / MARKER).write_text("{}")
    with pytest.warns(SkippedEntryWarning):
        assert repository.children(parent) == []


# -- conflicts stay conflicts ----------------------------------------------------------------------


def test_a_marker_that_is_a_folder_is_a_conflict_on_create(tmp_path: Path) -> None:
    root = tmp_path / "datasets"
    (root / "odd" / MARKER).mkdir(parents=True)
    with pytest.raises(NamespaceConflictError, match="not a regular file"):
        LocalNamespaceRepository(root).create(NamespaceId("odd"), NamespaceMetadata())


# -- defect 16: datasets on a file:// remote -------------------------------------------------------


def test_an_empty_data_folder_makes_a_dataset_on_a_file_remote_as_locally(tmp_path: Path) -> None:
    remote_root = tmp_path / "remote"
    for root in (tmp_path / "local", remote_root):
        (root / "ds" / "data").mkdir(parents=True)
        (root / "ds" / MARKER).write_text("{}")
        (root / "ds" / "inner").mkdir()
        (root / "ds" / "inner" / MARKER).write_text("{}")
    service = NamespaceService.from_urls(tmp_path / "local", remote_root.as_uri())
    for remote in (False, True):
        assert not service.exists("ds", remote=remote)
        assert not service.exists("ds/inner", remote=remote)
    assert service.list_local() == service.list_remote() == []
    fresh = NamespaceService.from_urls(tmp_path / "fresh", remote_root.as_uri())
    assert fresh.download_tree().copied == []
    assert outcome(lambda: fresh.download("ds/inner")) == "NamespaceNotFoundError"


# -- issue 19: one wording for a folder that a file or a link blocks ----------------------------


@pytest.mark.parametrize("blocker", ["file", "link"])
def test_a_blocked_folder_is_worded_alike_locally_and_on_a_file_remote(
    tmp_path: Path, blocker: str
) -> None:
    texts: list[str] = []
    for name, url in (("local", None), ("remote", "file")):
        root = tmp_path / name
        (root / "elsewhere").mkdir(parents=True)
        if blocker == "file":
            (root / "a").write_text("not a folder")
        else:
            (root / "a").symlink_to(root / "elsewhere")
        store = open_repository(root if url is None else root.as_uri())
        with pytest.raises(NamespaceConflictError) as caught:
            store.create(NamespaceId("a/b"), NamespaceMetadata())
        texts.append(str(caught.value).replace(store.url, "<url>"))
        assert not (root / "elsewhere" / "b").exists()
        assert store.list_namespaces() == []
    assert (
        texts[0]
        == texts[1]
        == (
            "Cannot create namespace 'a/b': <url>/a is a file or a symbolic link, not a folder. "
            "Move it away first."
        )
    )
