"""Hostile dataset trees (issue 25): what a listing, the catalog and the command line do
with a bad dataset entry, a tree deeper than any id, a stray ``data`` at the root and a
store that holds an object where a dataset's folder belongs. Each bad entry is its own
error; every healthy one is listed; nothing stops the whole listing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minari_namespaces import (
    CorruptMetadataError,
    FsspecNamespaceRepository,
    NamespaceId,
    NamespaceMetadata,
    NamespaceService,
    RemoteError,
    SkippedEntryWarning,
    compat,
)
from minari_namespaces.catalog.pages import write_catalog
from minari_namespaces.cli import app

MARKER = "namespace_metadata.json"


def add_dataset(root: Path, dataset: str, raw: bytes = b"{}") -> Path:
    """A dataset folder as Minari writes it; returns its ``data/metadata.json``."""
    path = root.joinpath(*dataset.split("/"), "data", "metadata.json")
    path.parent.mkdir(parents=True)
    path.write_bytes(raw)
    return path


@contextmanager
def chains(*roots: Path, depth: int) -> Iterator[None]:
    """``depth`` nested folders ``d/d/...`` in each of ``roots``, made and removed one
    by one (``os.makedirs`` and ``shutil.rmtree`` recurse once per level themselves,
    so pytest could not clean them up)."""
    try:
        for root in roots:
            folder = root
            for _ in range(depth):
                folder = folder / "d"
                folder.mkdir()
        yield
    finally:
        for root in roots:
            for level in range(depth, 0, -1):
                with suppress(FileNotFoundError):
                    root.joinpath(*["d"] * level).rmdir()


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


# -- medium 2: an unreadable metadata.json or data folder --------------------------------------

LIST_AS_ANOTHER_USER = """
import json, sys, warnings
from minari_namespaces import NamespaceService
warnings.simplefilter("ignore")
service = NamespaceService.from_urls(sys.argv[1], sys.argv[2])
for remote in (False, True):
    entries = service.list_datasets(remote=remote, metadata=True)
    catalog = service.catalog(remote=remote)
    print(json.dumps({
        "listed": {str(e.id): None if e.error is None else str(e.error) for e in entries},
        "catalog": {str(e.id): None if e.error is None else str(e.error) for e in catalog.datasets},
    }))
"""


@pytest.mark.processes
def test_an_unreadable_metadata_file_or_data_folder_is_that_entrys_error_alone(
    tmp_path: Path,
) -> None:
    """Issue 25, medium 2: an unreadable metadata.json (another user's, mode 600) or
    data/ folder (mode 000) stopped the whole listing with a raw PermissionError
    naming no path."""
    trees = [tmp_path / "local", tmp_path / "remote"]
    for root in trees:
        NamespaceService.from_urls(root).create("ns")
        add_dataset(root, "ns/good-v0", b'{"total_steps": 3}')
        os.chmod(add_dataset(root, "ns/secret-v0"), 0o000)
        os.chmod(add_dataset(root, "ns/closed-v0").parent, 0o000)
    command = [sys.executable, "-c", LIST_AS_ANOTHER_USER, str(trees[0]), trees[1].as_uri()]
    if os.geteuid() == 0:
        # Root reads every file whatever its mode: the listing runs without that power.
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    finally:
        for root in trees:  # so that pytest can remove them
            os.chmod(root / "ns" / "closed-v0" / "data", 0o755)
    assert done.returncode == 0, done.stderr
    for line, root in zip(done.stdout.splitlines(), trees, strict=True):
        for errors in json.loads(line).values():
            assert errors["ns/good-v0"] is None
            for name in ("secret-v0", "closed-v0"):
                assert "ermission denied" in errors[f"ns/{name}"]
                assert f"{root.name}/ns/{name}/data/metadata.json" in errors[f"ns/{name}"]


# -- medium 3: a folder chain far deeper than an id --------------------------------------------


def test_a_folder_chain_a_thousand_deep_is_listed_locally_and_on_file(tmp_path: Path) -> None:
    """Issue 25, medium 3: the walk recursed below the deepest id; every listing of
    the local store raised RecursionError, and on file:// every listing (diff too)
    was a RemoteError."""
    local, remote = tmp_path / "local", tmp_path / "remote"
    for root in (local, remote):
        NamespaceService.from_urls(root).create("a")
        add_dataset(root, "a/ds-v0")
    with chains(local, remote, depth=1000):
        service = NamespaceService.from_urls(local, remote.as_uri())
        with pytest.warns(SkippedEntryWarning, match="d/d/d"):
            assert service.list_local() == [NamespaceId("a")]
        with pytest.warns(SkippedEntryWarning):
            assert [entry.id for entry in service.list_datasets(metadata=True)] == ["a/ds-v0"]
        with pytest.warns(SkippedEntryWarning):
            assert [entry.id for entry in service.catalog().namespaces] == [NamespaceId("a")]
        assert service.list_remote() == [NamespaceId("a")]
        assert [entry.id for entry in service.list_datasets(remote=True)] == ["a/ds-v0"]
        with pytest.warns(SkippedEntryWarning):
            assert service.diff().same == [NamespaceId("a")]


# -- medium 4: nesting that passed on read and broke the output --------------------------------


def test_a_marker_nested_past_the_read_limit_is_corrupt_and_spoils_only_its_entry(
    tmp_path: Path,
) -> None:
    """Issue 25, medium 4: a marker 600 levels deep passed get(), then write_catalog
    (a deep copy in display_name), list --json and catalog failed on it."""
    root = tmp_path / "datasets"
    service = NamespaceService.from_urls(root)
    service.create("deep")
    service.create("fine", description="fine")
    (root / "deep" / MARKER).write_text('{"x": ' + "[" * 600 + "]" * 600 + "}")
    with pytest.raises(CorruptMetadataError, match="deeper than 128 levels"):
        service.get("deep")
    catalog = service.catalog()
    assert [entry.error is None for entry in catalog.namespaces] == [False, True]
    assert len(write_catalog(catalog, tmp_path / "site")) == 4
    code, out, err = cli("list", "--json", "--root", str(root))
    assert code == 0, err
    assert "deeper than 128 levels" in err
    assert json.loads(out)[-1] == {"id": "fine", "metadata": {"description": "fine"}}
    assert cli("catalog", str(tmp_path / "site"), "--root", str(root))[0] == 0


def test_dataset_metadata_500_deep_fails_only_its_row_of_datasets_json(tmp_path: Path) -> None:
    """Issue 25, medium 4: dataset metadata 500 levels deep read fine, then failed
    ``datasets --json`` for the whole listing."""
    root = tmp_path / "datasets"
    NamespaceService.from_urls(root).create("ns")
    add_dataset(root, "ns/deep-v0", b'{"x": ' + b"[" * 500 + b"]" * 500 + b"}")
    add_dataset(root, "ns/fine-v0", b'{"total_steps": 7}')
    for command, key in (
        (["datasets", "--json"], None),
        (["list", "--datasets", "--json"], "datasets"),
    ):
        code, out, err = cli(*command, "--root", str(root))
        assert code == 0, err
        printed = json.loads(out)
        rows = {row["id"]: row for row in (printed if key is None else printed[key])}
        assert "deeper than" in rows["ns/deep-v0"]["error"]
        assert rows["ns/fine-v0"]["total_steps"] == 7


# -- medium 1 and 5: a surrogate and integers too long to print, on the pages ------------------


def test_the_catalog_pages_are_written_whole_beside_a_surrogate_and_huge_integers(
    tmp_path: Path,
) -> None:
    """Issue 25, medium 1 and 5: a lone surrogate made write_catalog raise a raw
    UnicodeEncodeError after writing some pages; two 4,300-digit total_steps made the
    HTML page's sum unprintable."""
    root = tmp_path / "datasets"
    NamespaceService.from_urls(root).create("ns")
    add_dataset(root, "ns/surrogate-v0", b'{"description": "\\ud800"}')
    for name in ("big-v0", "big-v1"):
        add_dataset(root, f"ns/{name}", b'{"total_steps": ' + b"9" * 4300 + b"}")
    add_dataset(root, "ns/fine-v0", b'{"total_steps": 7, "total_episodes": 1}')
    catalog = NamespaceService.from_urls(root).catalog()
    errors = {str(entry.id): entry.error for entry in catalog.datasets}
    assert errors.pop("ns/fine-v0") is None
    assert all(isinstance(error, CorruptMetadataError) for error in errors.values())
    pages = write_catalog(catalog, tmp_path / "site")
    assert len(pages) == 7
    assert "1 dataset" not in (tmp_path / "site" / "index.html").read_text()
    assert "7 steps" in (tmp_path / "site" / "index.html").read_text()
    assert json.loads((tmp_path / "site" / ".catalog-pages.json").read_bytes())["pages"]


# -- medium 6: a stray ``data`` at the store's root --------------------------------------------


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_stray_data_entry_at_the_root_hides_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Issue 25, medium 6: a file or folder named ``data`` at the root made every
    listing empty, silently; Minari 0.5.4 lists the tree beside it."""
    root = tmp_path / "datasets"
    service = NamespaceService.from_urls(root)
    service.create("D4RL/door")
    add_dataset(root, "D4RL/door/human-v2")
    if kind == "file":
        (root / "data").write_text("stray")
    else:
        (root / "data").mkdir()
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    expected = [NamespaceId("D4RL"), NamespaceId("D4RL/door")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert service.list_local() == expected
        assert [entry.id for entry in service.list_datasets()] == ["D4RL/door/human-v2"]
        assert [entry.id for entry in service.catalog().namespaces] == expected
        assert compat.list_local_namespaces() == ["D4RL", "D4RL/door"]
    # A folder named ``data`` is a folder no id can name, said like any other.
    said = [str(warning.message) for warning in caught]
    assert len(said) == (4 if kind == "folder" else 0), said
    assert all(warning.category is SkippedEntryWarning for warning in caught)
    assert all(str(root / "data") in text for text in said)


# -- medium 8: an object named ``data`` where a dataset's folder belongs ---------------------


@pytest.mark.parametrize("protocol", ["memory", "file"])
def test_an_object_named_data_where_a_dataset_folder_belongs_is_that_entrys_error(
    tmp_path: Path, protocol: str
) -> None:
    """Issue 25, medium 8: on memory:// a raw FileExistsError escaped
    list_datasets(metadata=True) and catalog() (file:// made it the entry's error)."""
    url = f"memory://hostile/{tmp_path.name}" if protocol == "memory" else tmp_path.as_uri()
    store = FsspecNamespaceRepository(url)
    store.create(NamespaceId("ns"), NamespaceMetadata())
    fs, base = store.fs, store.fs._strip_protocol(store.url)
    for folder in ("blocked-v0", "fine-v0/data"):
        fs.makedirs(f"{base}/ns/{folder}", exist_ok=True)
    fs.pipe_file(f"{base}/ns/blocked-v0/data", b"an object, not a folder")
    fs.pipe_file(f"{base}/ns/fine-v0/data/metadata.json", b'{"total_steps": 2}')
    service = NamespaceService(store)
    for entries in (service.list_datasets(metadata=True), service.catalog().datasets):
        errors = {str(entry.id): entry.error for entry in entries}
        assert errors["ns/fine-v0"] is None
        if protocol == "memory":
            # An object store lists a dataset once its data/metadata.json is there.
            assert "ns/blocked-v0" not in errors
            continue
        assert isinstance(errors["ns/blocked-v0"], CorruptMetadataError)
        assert "ns/blocked-v0/data/metadata.json" in str(errors["ns/blocked-v0"])


# -- low: words that mislead ---------------------------------------------------------------------


#: What a listing says of each thing in the metadata file's place, locally and on file://.
IN_ITS_PLACE = {
    "fifo-v0": ("is a FIFO, not a regular file", "is not a regular file"),
    "folder-v0": ("is a folder, not a regular file", "is not a regular file"),
    "link-v0": ("is a symbolic link, not a regular file", "is not a regular file"),
    "missing-v0": ("is missing", "is missing"),
}


@pytest.mark.parametrize("protocol", ["local", "file"])
def test_a_fifo_folder_or_link_where_the_metadata_belongs_is_said_as_what_it_is(
    tmp_path: Path, protocol: str
) -> None:
    """Issue 25, low: each was reported as "missing"."""
    root = tmp_path / "datasets"
    NamespaceService.from_urls(root).create("ns")
    for name in IN_ITS_PLACE:
        (root / "ns" / name / "data").mkdir(parents=True)
    os.mkfifo(root / "ns/fifo-v0/data/metadata.json")
    (root / "ns/folder-v0/data/metadata.json").mkdir()
    (root / "ns/link-v0/data/metadata.json").symlink_to(tmp_path / "elsewhere.json")
    (tmp_path / "elsewhere.json").write_text("{}")
    (root / "ns/missing-v0/data/main_data.hdf5").write_bytes(b"\x89HDF")
    store = NamespaceService.from_urls(root if protocol == "local" else root.as_uri()).local
    said = {str(entry.id): str(entry.error) for entry in store.read_datasets(store.list_datasets())}
    shown = f"{root}" if protocol == "local" else root.as_uri()
    remote = protocol == "file"
    assert said == {
        f"ns/{name}": f"Dataset metadata {shown}/ns/{name}/data/metadata.json {words[remote]}."
        for name, words in IN_ITS_PLACE.items()
    }


def test_a_skipped_name_of_ten_thousand_characters_is_shown_cut(tmp_path: Path) -> None:
    """Issue 25, low: the skipped-dataset warning printed a 10,000-character name whole."""
    store = FsspecNamespaceRepository(f"memory://long/{tmp_path.name}")
    store.create(NamespaceId("ns"), NamespaceMetadata())
    store.fs.pipe_file(
        f"{store.fs._strip_protocol(store.url)}/ns/{'x' * 10_000}/data/metadata.json", b"{}"
    )
    with pytest.warns(SkippedEntryWarning) as caught:
        assert store.list_datasets() == []
    (warning,) = caught
    assert len(str(warning.message)) < 1000
    assert "(10," in str(warning.message)


def test_a_hub_url_without_an_organisation_is_not_told_to_install_the_hub_extra() -> None:
    """Issue 25, low: ``--remote hf://`` suggested installing the installed ``hf`` extra."""
    with pytest.raises(RemoteError, match="hf://ORG") as caught:
        FsspecNamespaceRepository("hf://")
    assert "pip install" not in str(caught.value)
