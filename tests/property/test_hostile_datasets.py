"""Hostile dataset trees, generated (issue 25, in the manner of issue 10's trees).

Hypothesis lays out datasets whose ``data/metadata.json`` is healthy or hostile (a lone
surrogate, nesting past the read limit, an integer too long to print, not JSON, not
an object, missing, a FIFO, a folder or a link in its place, unreadable) and whose
folder names are valid, decomposed (NFD) or no dataset id at all, on the local store,
a ``file://`` remote and ``memory://``. A listing, the catalog, its pages and the
command line's JSON always finish; every healthy dataset is listed with its
metadata; each bad one carries its own ``CorruptMetadataError``; a folder no id names
is skipped with a warning, never listed under another id.
"""

from __future__ import annotations

import json
import os
import tempfile
import unicodedata
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from minari_namespaces import (
    CorruptMetadataError,
    FsspecNamespaceRepository,
    NamespaceId,
    NamespaceMetadata,
    NamespaceService,
    NamespaceWarning,
)
from minari_namespaces.catalog.pages import write_catalog
from minari_namespaces.cli import app
from tests.support.deadline import within

#: Folder names: dataset ids (one of them composed, NFC) and names no id spells
#: exactly (its decomposed twin, no version, a dot).
VALID_NAMES = ["door-v0", "door-v1", "café-v0", "x" * 90 + "-v2"]
SKIPPED_NAMES = [unicodedata.normalize("NFD", "café-v0"), "no-version", "x.y-v0"]
HEALTHY: dict[str, bytes] = {
    "healthy": b'{"total_episodes": 2, "total_steps": 10, "description": "fine"}',
    "minari-nan": b'{"total_steps": NaN, "deep": ' + b"[" * 100 + b"]" * 100 + b"}",
}
#: Metadata that can never be read: its entry's error, whatever the store.
CORRUPT: dict[str, bytes] = {
    "surrogate": b'{"description": "\\ud800"}',
    "too-deep": b'{"x": ' + b"[" * 600 + b"]" * 600 + b"}",
    "huge-int": b'{"total_steps": ' + b"9" * 4300 + b"}",
    "not-json": b"{not json",
    "array": b"[1, 2]",
    "not-utf8": b'{"description": "\xff"}',
}
#: What stands in the file's place (local and file:// only; memory:// has no such thing).
IN_ITS_PLACE = ["missing", "fifo", "folder", "link", "unreadable"]

layouts = st.dictionaries(
    st.sampled_from(VALID_NAMES + SKIPPED_NAMES),
    st.sampled_from([*HEALTHY, *CORRUPT, *IN_ITS_PLACE]),
    min_size=1,
    max_size=7,
)


def lay_out(root: Path, layout: dict[str, str]) -> None:
    """The namespace ``ns`` holding one dataset folder per entry of ``layout``."""
    NamespaceService.from_urls(root).create("ns")
    (root / "elsewhere.json").write_text("{}")
    for name, kind in layout.items():
        data = root / "ns" / name / "data"
        data.mkdir(parents=True)
        metadata = data / "metadata.json"
        if kind in HEALTHY or kind in CORRUPT:
            metadata.write_bytes({**HEALTHY, **CORRUPT}[kind])
        elif kind == "fifo":
            os.mkfifo(metadata)
        elif kind == "folder":
            metadata.mkdir()
        elif kind == "link":
            metadata.symlink_to(root / "elsewhere.json")
        elif kind == "unreadable":
            metadata.write_bytes(HEALTHY["healthy"])
            os.chmod(data, 0o000)


def readable_again(root: Path, layout: dict[str, str]) -> None:
    for name, kind in layout.items():
        if kind == "unreadable":
            os.chmod(root / "ns" / name / "data", 0o755)


def lay_out_in_memory(url: str, layout: dict[str, str]) -> None:
    """The same on ``memory://``: bytes where there are bytes, nothing where the file
    is missing, and an object named ``data`` for everything that stands in its place."""
    store = FsspecNamespaceRepository(url)
    store.create(NamespaceId("ns"), NamespaceMetadata())
    base = store.fs._strip_protocol(store.url)
    for name, kind in layout.items():
        folder = f"{base}/ns/{name}"
        if kind in HEALTHY or kind in CORRUPT:
            store.fs.pipe_file(f"{folder}/data/metadata.json", {**HEALTHY, **CORRUPT}[kind])
        elif kind == "missing":
            store.fs.pipe_file(f"{folder}/data/main_data.hdf5", b"\x89HDF")
        else:
            store.fs.pipe_file(f"{folder}/data", b"an object where a folder belongs")


def check_every_step(
    service: NamespaceService,
    layout: dict[str, str],
    out: Path,
    *,
    remote: bool = False,
    by_metadata: bool = False,
) -> None:
    """A listing, the catalog and its pages finish (of the remote if ``remote``); the
    listing holds exactly the valid names, each healthy or with its own error (with
    ``by_metadata``, as on object stores, only those whose ``metadata.json`` is an
    object: a dataset without one is an interrupted upload, not listed)."""
    with warnings.catch_warnings(record=True) as caught, within(20):
        warnings.simplefilter("always")
        entries = service.list_datasets(remote=remote, metadata=True)
        catalog = service.catalog(remote=remote)
        write_catalog(catalog, out)
    assert all(issubclass(warning.category, NamespaceWarning) for warning in caught)
    valid = {
        f"ns/{name}"
        for name, kind in layout.items()
        if name in VALID_NAMES and (not by_metadata or kind in HEALTHY or kind in CORRUPT)
    }
    assert [str(entry.id) for entry in entries] == sorted(valid, key=version_order)
    assert [entry.id for entry in catalog.datasets] == [entry.id for entry in entries]
    for entry in entries:
        kind = layout[entry.id.folder]
        if kind in HEALTHY or (kind == "unreadable" and entry.error is None):
            assert entry.error is None, entry.error
            assert entry.metadata is not None
        else:
            assert entry.metadata is None
            assert isinstance(entry.error, CorruptMetadataError)
            assert f"ns/{entry.id.folder}/data/metadata.json" in str(entry.error)
    listed = {
        name for name, kind in layout.items() if not by_metadata or kind in {**HEALTHY, **CORRUPT}
    }
    if any(name in SKIPPED_NAMES for name in listed):
        assert caught, "a skipped folder is said"


def version_order(text: str) -> tuple[str, int]:
    name, _, version = text.rpartition("-v")
    return name, int(version)


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(layout=layouts)
def test_no_hostile_dataset_stops_a_listing_or_the_catalog(layout: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="minari-hostile-datasets-") as scratch:
        base = Path(scratch)
        local, remote = base / "local", base / "remote"
        for root in (local, remote):
            lay_out(root, layout)
        try:
            service = NamespaceService.from_urls(local, remote.as_uri())
            check_every_step(service, layout, base / "site-local")
            check_every_step(service, layout, base / "site-remote", remote=True)
            result = CliRunner().invoke(app, ["datasets", "--json", "--root", str(local)])
            assert result.exit_code == 0, result.stderr
            assert len(json.loads(result.stdout)) == len(
                {name for name in layout if name in VALID_NAMES}
            )
        finally:
            for root in (local, remote):
                readable_again(root, layout)


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(layout=layouts)
def test_no_hostile_dataset_stops_a_listing_of_memory(layout: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="minari-hostile-datasets-") as scratch:
        url = f"memory://hostile-datasets/{Path(scratch).name}"
        lay_out_in_memory(url, layout)
        service = NamespaceService(FsspecNamespaceRepository(url))
        check_every_step(service, layout, Path(scratch) / "site", by_metadata=True)
