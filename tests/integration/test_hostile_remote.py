"""A hostile or broken remote: unsafe keys, dataset content, corrupt and huge markers.

Keys are planted below the repository's back (raw ``pipe_file``, or a raw upload
on S3, GCS and Azure so that a key with ``..`` or ``//`` is stored literally) on
``memory://``, ``file://``, moto's S3 server, fake-gcs-server and Azurite. Not every
store can hold every key literally: ``file://`` cannot hold ``..`` or ``//`` keys
(the path would resolve or collapse); fake-gcs-server cleans object names as paths
(``a//b`` becomes ``a/b``, ``..`` is resolved); Azure Blob resolves ``..`` in the
request path (such a key cannot be written). So both are planted on ``memory://``
and S3, ``a//b`` on Azurite, and neither on ``file://`` or fake-gcs-server.

The local store sits two folders below ``outer/``; every test snapshots all of
``outer/`` (which ``../../x`` from the local root would reach) before and after.

Whether a 50 MiB marker is refused *without being loaded* is measured with
``tracemalloc`` on ``memory://``, ``file://``, SeaweedFS, fake-gcs-server and
Azurite; not on moto, whose server runs in the test process and would itself
allocate the whole object to answer the GET.
"""

from __future__ import annotations

import json
import tracemalloc
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from minari_namespaces import (
    CorruptMetadataError,
    FsspecNamespaceRepository,
    InvalidNamespaceError,
    LocalNamespaceRepository,
    NamespaceId,
    NamespaceMetadata,
    NamespaceService,
    RemoteError,
    SkippedEntryWarning,
)
from tests.support.emulators import AzureServer, GcsServer
from tests.support.servers import S3Server

MARKER = "namespace_metadata.json"
MiB = 1024 * 1024

VALID = {
    "good": {"description": "a valid namespace beside hostile ones"},
    "good/child": {"description": "its valid child", "n": 1},
}
CORRUPT = {
    "huge": b'{"description": "' + b"x" * (50 * MiB) + b'"}',
    "notjson": b"{this is not json",
    "array": b'["a", "JSON", "array"]',
    "notutf8": b'{"description": "\xff\xfe"}',
}
#: Keys no valid id can name: skipped with one warning.
UNSAFE_EVERYWHERE = [f"bad name/{MARKER}", f"x.y/{MARKER}", f"CON/{MARKER}"]
UNSAFE_LITERAL = [f"../../x/{MARKER}", f"a//b/{MARKER}", f"good/../../escape/{MARKER}"]
#: The literal keys an emulator that normalises names can hold.
LITERAL_ON = {"gcs": [], "azure": [f"a//b/{MARKER}"]}
#: fsspec's memory filesystem lists a key with an empty segment (``a//b``) as it is
#: from 2026.7.0 on; before, it lists a folder in its place, so the floors lane (which
#: installs fsspec's oldest supported release) plants no such key there.
MEMORY_KEEPS_EMPTY_SEGMENTS = tuple(map(int, version("fsspec").split(".")[:2])) >= (2026, 7)
if not MEMORY_KEEPS_EMPTY_SEGMENTS:
    LITERAL_ON["memory"] = [key for key in UNSAFE_LITERAL if "//" not in key]
#: Dataset content: skipped silently.
DATASET_CONTENT = [f"data/{MARKER}", f"ok/data/x/{MARKER}", "ok/data/main_data.hdf5"]


@dataclass
class HostileRemote:
    service: NamespaceService
    outer: Path
    local_root: Path
    unsafe: list[str]


def plant_memory(url: str) -> Callable[[str, bytes], None]:
    repository = FsspecNamespaceRepository(url)
    fs = repository.fs
    root = fs._strip_protocol(repository.url)

    def plant(key: str, raw: bytes) -> None:
        fs.pipe_file(f"{root}/{key}", raw)

    return plant


def plant_file(folder: Path) -> Callable[[str, bytes], None]:
    def plant(key: str, raw: bytes) -> None:
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)

    return plant


def plant_s3(server: S3Server, bucket: str, prefix: str) -> Callable[[str, bytes], None]:
    fs = server.filesystem()

    def plant(key: str, raw: bytes) -> None:
        fs.call_s3("put_object", Bucket=bucket, Key=f"{prefix}/{key}", Body=raw)

    return plant


def plant_gcs(server: GcsServer, bucket: str, prefix: str) -> Callable[[str, bytes], None]:
    """A raw media upload: the object name is taken literally."""

    def plant(key: str, raw: bytes) -> None:
        name = quote(f"{prefix}/{key}", safe="")
        url = f"{server.endpoint}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={name}"
        request = urllib.request.Request(url, data=raw, method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 200

    return plant


def plant_azure(server: AzureServer, container: str, prefix: str) -> Callable[[str, bytes], None]:
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient.from_connection_string(server.connection_string)

    def plant(key: str, raw: bytes) -> None:
        blob = client.get_blob_client(container, f"{prefix}/{key}")
        blob.upload_blob(raw, overwrite=True)

    return plant


def plant_cloud(
    kind: str, request: pytest.FixtureRequest
) -> tuple[str, dict[str, Any], Callable[[str, bytes], None]]:
    """A fresh bucket on the server ``kind`` names: its URL, options and planter."""
    if kind in ("gcs", "azure"):
        cloud: GcsServer | AzureServer = request.getfixturevalue(kind)
        bucket = cloud.new_bucket()
        if isinstance(cloud, GcsServer):
            planted = plant_gcs(cloud, bucket, "root")
        else:
            planted = plant_azure(cloud, bucket, "root")
        return f"{cloud.protocol}://{bucket}/root", cloud.storage_options(), planted
    server: S3Server = request.getfixturevalue(f"{kind}_s3")
    bucket = server.new_bucket()
    return f"s3://{bucket}/root", server.storage_options(), plant_s3(server, bucket, "root")


def open_hostile(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> HostileRemote:
    options: dict[str, object] = {}
    if kind == "memory":
        url = f"memory://hostile/{tmp_path.name}"
        plant = plant_memory(url)
        unsafe = UNSAFE_EVERYWHERE + LITERAL_ON.get(kind, UNSAFE_LITERAL)
    elif kind == "file":
        url = f"file://{tmp_path / 'remote'}"
        plant = plant_file(tmp_path / "remote")
        unsafe = UNSAFE_EVERYWHERE
    else:
        url, options, plant = plant_cloud(kind, request)
        unsafe = UNSAFE_EVERYWHERE + LITERAL_ON.get(kind, UNSAFE_LITERAL)
    for ns, metadata in VALID.items():
        plant(f"{ns}/{MARKER}", json.dumps(metadata).encode())
    for ns, raw in CORRUPT.items():
        plant(f"{ns}/{MARKER}", raw)
    for key in unsafe + DATASET_CONTENT:
        plant(key, b'{"description": "planted"}')
    outer = tmp_path / "outer"
    local_root = outer / "middle" / "local"
    local_root.mkdir(parents=True)
    (outer / "sentinel.txt").write_text("untouched")
    service = NamespaceService(
        LocalNamespaceRepository(local_root), FsspecNamespaceRepository(url, **options)
    )
    return HostileRemote(service, outer, local_root, unsafe)


@pytest.fixture(params=["memory", "file", "moto", "gcs", "azure"])
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> HostileRemote:
    return open_hostile(request.param, tmp_path, request)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder``: file bytes, or ``None`` for a folder."""
    return {
        str(path.relative_to(folder)): None if path.is_dir() else path.read_bytes()
        for path in sorted(folder.rglob("*"))
    }


def outside(entries: dict[str, bytes | None], local: str) -> dict[str, bytes | None]:
    return {key: value for key, value in entries.items() if not key.startswith(f"{local}/")}


def ids(*texts: str) -> list[NamespaceId]:
    return [NamespaceId(text) for text in texts]


# -- listing ------------------------------------------------------------------------------


def test_listing_skips_unsafe_keys_with_one_warning_and_dataset_content_silently(
    hostile: HostileRemote,
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        listed = hostile.service.list_remote()

    assert listed == sorted(ids(*VALID, *CORRUPT))
    assert [warning.category for warning in caught] == [SkippedEntryWarning]
    message = str(caught[0].message)
    assert f"Skipped {len(hostile.unsafe)} key(s)" in message
    for key in hostile.unsafe:
        assert repr(key) in message
    for key in DATASET_CONTENT:
        assert key not in message


def test_no_unsafe_key_is_returned_by_any_listing(hostile: HostileRemote) -> None:
    service = hostile.service
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedEntryWarning)
        everything = [
            *service.list_remote(),
            *service.list_remote("good"),
            *service.children(remote=True),
        ]
        assert service.children("good", remote=True) == ids("good/child")
    for ns in everything:
        assert ".." not in ns.parts
        assert ns.parts[0] not in ("data", "ok", "bad name", "x.y", "CON", "a", "x")


# -- downloads -----------------------------------------------------------------------------


def test_download_tree_of_a_remote_with_corrupt_markers_writes_nothing(
    hostile: HostileRemote,
) -> None:
    before = snapshot(hostile.outer)
    with pytest.warns(SkippedEntryWarning), pytest.raises(CorruptMetadataError, match=MARKER):
        hostile.service.download_tree()
    assert snapshot(hostile.outer) == before


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("huge", "over 1048576 bytes"),
        ("notjson", "not valid JSON"),
        ("array", "JSON list, not an object"),
        ("notutf8", "not UTF-8"),
    ],
)
def test_each_corrupt_marker_is_refused_with_a_typed_error_and_nothing_written(
    hostile: HostileRemote, name: str, reason: str
) -> None:
    before = snapshot(hostile.outer)
    with pytest.raises(CorruptMetadataError, match=rf"{name}/{MARKER}.*{reason}"):
        hostile.service.download(name)
    with pytest.raises(CorruptMetadataError, match=reason):
        hostile.service.get(name, remote=True)
    assert snapshot(hostile.outer) == before


def test_valid_siblings_still_download_and_nothing_lands_outside_the_local_root(
    hostile: HostileRemote,
) -> None:
    before = snapshot(hostile.outer)
    hostile.service.download("good/child")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedEntryWarning)
        report = hostile.service.download_tree("good", overwrite=True)
    assert report.unchanged == ids("good", "good/child")  # the same already: nothing to write
    assert report.copied == []

    local = hostile.local_root.relative_to(hostile.outer)
    after = snapshot(hostile.outer)
    assert outside(after, str(local)) == outside(before, str(local))
    assert {
        str(ns): hostile.service.get(ns).to_dict() for ns in hostile.service.list_local()
    } == VALID
    assert sorted(path for path in after if after[path] is not None) == sorted(
        ["sentinel.txt", f"{local}/good/{MARKER}", f"{local}/good/child/{MARKER}"]
    )


@pytest.mark.parametrize("text", ["../../x", "a//b", "bad name", "data", "ok/data/x"])
def test_a_download_cannot_be_pointed_at_an_unsafe_key(
    text: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    hostile = open_hostile("memory", tmp_path, request)
    before = snapshot(hostile.outer)
    with pytest.raises(InvalidNamespaceError, match="Malformed namespace"):
        hostile.service.download(text)
    assert snapshot(hostile.outer) == before


# -- a 50 MiB marker is never loaded ---------------------------------------------------------


@pytest.fixture(params=["memory", "file", "seaweed", "gcs", "azure"])
def huge_marker_remote(request: pytest.FixtureRequest, tmp_path: Path) -> NamespaceService:
    raw = CORRUPT["huge"]
    options: dict[str, object] = {}
    if request.param == "memory":
        url = f"memory://huge/{tmp_path.name}"
        plant_memory(url)(f"huge/{MARKER}", raw)
    elif request.param == "file":
        url = f"file://{tmp_path / 'remote'}"
        plant_file(tmp_path / "remote")(f"huge/{MARKER}", raw)
    else:
        url, options, plant = plant_cloud(request.param, request)
        plant(f"huge/{MARKER}", raw)
    return NamespaceService(
        LocalNamespaceRepository(tmp_path / "local"), FsspecNamespaceRepository(url, **options)
    )


def test_a_50_mib_marker_is_refused_without_being_loaded(
    huge_marker_remote: NamespaceService,
) -> None:
    service = huge_marker_remote
    # Open connections, and let memory:// settle its own copy of the object (its
    # first size query unshares the buffer), before measuring.
    service.list_remote()
    service.exists("huge", remote=True)
    tracemalloc.start()
    try:
        for attempt in (
            lambda: service.download("huge"),
            service.download_tree,
            lambda: service.get("huge", remote=True),
        ):
            with pytest.raises(CorruptMetadataError, match="1 MiB"):
                attempt()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB while refusing a 50 MiB marker"
    assert service.list_local() == []


def test_a_failed_write_is_never_taken_for_exists_because_of_a_name(tmp_path: Path) -> None:
    """Issue 10, defect 8: the precondition test matched the text ``PreconditionFailed``,
    which the path of a namespace with that name contains, so a write refused by a
    read-only remote became "already exists" and ``exist_ok`` returned success."""
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    served = tmp_path / "served"
    served.mkdir()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """No request log on stderr."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/tree"
        service = NamespaceService.from_urls(tmp_path / "local", url)
        service.create("PreconditionFailed")
        with pytest.raises(RemoteError):
            service.upload("PreconditionFailed")
        with pytest.raises(RemoteError):
            service.remote.create(NamespaceId("PreconditionFailed"), NamespaceMetadata())
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert list(served.iterdir()) == []


# -- datasets -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["memory", "moto"])
def test_hostile_dataset_keys_are_skipped_and_bad_metadata_stays_with_its_entry(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    options: dict[str, Any] = {}
    if kind == "memory":
        url = f"memory://hostile-datasets/{tmp_path.name}"
        plant = plant_memory(url)
    else:
        url, options, plant = plant_cloud(kind, request)
    plant("good/ds-v1/data/metadata.json", b'{"total_episodes": 2, "description": "\\u001b[31m"}')
    plant("good/huge-v1/data/metadata.json", b'{"d": "' + b"x" * (3 * MiB) + b'"}')
    planted = ["../../esc-v1", "a//b-v1", "bad name/x-v1", "good/noversion", "good/x-v01"]
    if kind == "memory" and not MEMORY_KEEPS_EMPTY_SEGMENTS:
        planted.remove("a//b-v1")
    for unsafe in planted:
        plant(f"{unsafe}/data/metadata.json", b"{}")
    service = NamespaceService(
        LocalNamespaceRepository(tmp_path / "local"), FsspecNamespaceRepository(url, **options)
    )
    with pytest.warns(SkippedEntryWarning, match="not valid dataset ids") as caught:
        entries = service.list_datasets(remote=True, metadata=True)
    skipped = " ".join(str(warning.message) for warning in caught)
    for unsafe in planted:
        assert unsafe.removeprefix("../../") in skipped
    assert [str(entry.id) for entry in entries] == ["good/ds-v1", "good/huge-v1"]
    assert entries[0].metadata == {"total_episodes": 2, "description": "\x1b[31m"}
    assert entries[1].metadata is None
    assert "larger than" in str(entries[1].error)
    assert not (tmp_path / "local").exists()
