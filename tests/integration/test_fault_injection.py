"""A tree transfer that dies at any single write or read leaves a consistent target,
and rerunning the same call completes it.

For every ``N`` from 1 to the number of writes (or reads) that a clean run of the
same transfer makes, a fresh pair of stores is built, the ``N``-th write (or read)
fails, and then: the target holds no namespace without its parent, every marker
there parses and holds either the source's metadata or the version it had before,
nothing else was left behind (no temporary or partial object), and the same call,
run again on the same objects, brings both sides in sync.

Where the faults are injected, and why there:

- **Remote side: underneath a real ``FsspecNamespaceRepository``, in its fsspec
  filesystem.** ``create_many`` lists once and then writes one object per
  namespace; only a filesystem-level fault can stop it between two of those
  writes, as a dropped connection or a full quota would. Two filesystems are
  registered under their own protocols, so the repository builds them itself
  from a URL and picks its usual driver:

  - ``faulty-memory://``: fsspec's ``MemoryFileSystem`` behind the generic
    driver that every synchronous backend gets, listing folder by folder as
    fsspec's generic ``find`` does for SFTP, FTP, SMB, WebDAV, ... Every object
    opened for writing (``pipe_file`` opens one) is a write; every open for
    reading and every folder listing is a read.
  - ``faulty-s3://``: s3fs against moto (the S3 driver: create-only and
    ``If-Match`` PUTs, GETs carrying the ETag, ListObjectsV2 pages). Every
    ``put_object`` is a write; every other S3 request is a read.
  - ``faulty-gs://``: gcsfs against fake-gcs-server (the GCS driver: uploads
    with ``ifGenerationMatch``, ranged GETs, ``objects.list`` pages), failing in
    gcsfs's request method. Every upload and delete is a write; every other
    request a read.
  - ``faulty-az://``: adlfs against Azurite (the Azure driver: ``Put Blob`` with
    ``If-None-Match``/``If-Match``, ranged GETs, ``List Blobs`` pages), failing in
    the Azure SDK's pipeline before the request is sent. Every ``PUT`` and
    ``DELETE`` is a write; every other request a read.

  ``file://`` is not wrapped: its driver does all I/O with folder-descriptor
  relative ``os`` calls, not through the fsspec object, so a filesystem wrapper
  would inject nothing. Its write path, and the local store's, are cut short
  by the kernel instead (``RLIMIT_FSIZE``, last section).
- **Local side: a ``LocalNamespaceRepository`` subclass** whose ``create``,
  ``replace`` and ``modify`` are writes and whose reading methods are reads.
  The real ``create_many`` calls ``create`` once per namespace, so the fault
  lands inside the real loop.

One ``FaultPlan`` is shared by both sides of a transfer: "the N-th read" counts
reads anywhere in the transfer. Each test first asserts that the fault really
fired (the error raised is, or is caused by, ``InjectedError``).
"""

from __future__ import annotations

import builtins
import json
import resource
import signal
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec
import pytest
from adlfs import AzureBlobFileSystem
from fsspec.asyn import sync_wrapper
from fsspec.implementations.memory import MemoryFileSystem
from fsspec.spec import AbstractFileSystem
from gcsfs.core import GCSFileSystem
from s3fs import S3FileSystem

from minari_namespaces import (
    FsspecNamespaceRepository,
    LocalNamespaceRepository,
    NamespaceId,
    NamespaceMetadata,
    NamespaceRepository,
    NamespaceService,
    NamespaceWarning,
    TransferReport,
)
from minari_namespaces.metadata import MetadataChange
from tests.support.emulators import AzureServer, GcsServer, hooked_blob_client
from tests.support.nested_tree import TREE, contents, files_under, orphans, populate
from tests.support.servers import S3Server

# Every write and read of a transfer, one run each: the rest of the quick lane's
# time again; it runs with everything else in `make test`.
pytestmark = pytest.mark.slow

Server = S3Server | GcsServer | AzureServer

MARKER = "namespace_metadata.json"
OLD_TREE = {ns: {"description": f"old version of {ns}", "version": 1} for ns in TREE}


class InjectedError(OSError):
    """The failure a faulty store was told to raise."""


class FaultPlan:
    """Counts writes and reads, and fails the ``N``-th one of a kind, once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.arm()

    def arm(self, *, write: int | None = None, read: int | None = None) -> None:
        """Start counting from zero; fail write ``write`` or read ``read``."""
        with self._lock:
            self.fail_write, self.fail_read = write, read
            self.writes = self.reads = 0

    def write(self, what: object) -> None:
        with self._lock:
            self.writes += 1
            if self.writes == self.fail_write:
                raise InjectedError(f"injected failure of write #{self.writes}: {what}")

    def read(self, what: object) -> None:
        with self._lock:
            self.reads += 1
            if self.reads == self.fail_read:
                raise InjectedError(f"injected failure of read #{self.reads}: {what}")


class FaultyMemoryFileSystem(MemoryFileSystem):  # type: ignore[misc]
    """fsspec's in-memory filesystem, failing where its ``FaultPlan`` says."""

    protocol = ("faulty-memory",)
    cachable = False

    def __init__(self, *args: Any, plan: FaultPlan | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan or FaultPlan()

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        stripped: str = super()._strip_protocol(
            "memory://" + str(path).removeprefix("faulty-memory://")
        )
        return stripped

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        if any(flag in mode for flag in "wxa+"):
            self.plan.write(path)
        else:
            self.plan.read(path)
        return super()._open(path, mode, *args, **kwargs)

    # List folder by folder, as fsspec's generic ``find`` does for SFTP, FTP, SMB,
    # WebDAV, ... (memory's own ``find`` reads its whole store in one pass).
    find = AbstractFileSystem.find

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Any:
        self.plan.read(f"list {path}")
        return super().ls(path, detail=detail, **kwargs)

    def rm_file(self, path: str) -> None:
        self.plan.write(f"delete {path}")
        super().rm_file(path)


class FaultyS3FileSystem(S3FileSystem):  # type: ignore[misc]
    """s3fs, failing the S3 request its ``FaultPlan`` says (before it is sent)."""

    protocol = ("faulty-s3", "s3")
    cachable = False
    _WRITES = frozenset({"put_object", "delete_object", "delete_objects", "copy_object"})

    def __init__(self, *args: Any, plan: FaultPlan | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan or FaultPlan()

    async def _call_s3(self, method: str, *args: Any, **kwargs: Any) -> Any:
        what = f"{method} {kwargs.get('Key', kwargs.get('Prefix', ''))}"
        if method in self._WRITES:
            self.plan.write(what)
        else:
            self.plan.read(what)
        return await super()._call_s3(method, *args, **kwargs)

    # s3fs binds its synchronous ``call_s3`` to its own ``_call_s3``; rebind it.
    call_s3 = sync_wrapper(_call_s3)


class FaultyGcsFileSystem(GCSFileSystem):  # type: ignore[misc]
    """gcsfs, failing the request its ``FaultPlan`` says (before it is sent)."""

    protocol = ("faulty-gs", "gs")
    cachable = False

    def __init__(self, *args: Any, plan: FaultPlan | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan or FaultPlan()

    async def _call(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        what = f"{method} {path} {args}"
        if method == "DELETE" or (method == "POST" and "/upload/" in path):
            self.plan.write(what)
        else:
            self.plan.read(what)
        return await super()._call(method, path, *args, **kwargs)

    # gcsfs binds its synchronous ``call`` to its own ``_call``; rebind it.
    call = sync_wrapper(_call)


class FaultyAzureFileSystem(AzureBlobFileSystem):  # type: ignore[misc]
    """adlfs, whose SDK client fails the request its ``FaultPlan`` says."""

    protocol = ("faulty-az", "az")
    cachable = False

    def __init__(self, *args: Any, plan: FaultPlan | None = None, **kwargs: Any) -> None:
        self.plan = plan or FaultPlan()
        super().__init__(*args, **kwargs)

    def do_connect(self) -> None:
        def before_sending(request: Any) -> None:
            http = request.http_request
            what = f"{http.method} {http.url}"
            if http.method in ("PUT", "DELETE"):
                self.plan.write(what)
            else:
                self.plan.read(what)

        self.service_client = hooked_blob_client(self.connection_string, before_sending)


fsspec.register_implementation("faulty-memory", FaultyMemoryFileSystem, clobber=True)
fsspec.register_implementation("faulty-s3", FaultyS3FileSystem, clobber=True)
fsspec.register_implementation("faulty-gs", FaultyGcsFileSystem, clobber=True)
fsspec.register_implementation("faulty-az", FaultyAzureFileSystem, clobber=True)


class FaultyLocalRepository(LocalNamespaceRepository):
    """The real local store, failing where its ``FaultPlan`` says."""

    def __init__(self, root: Path, plan: FaultPlan) -> None:
        super().__init__(root)
        self.plan = plan

    def _create_one(self, ns: NamespaceId, payload: bytes) -> None:
        self.plan.write(f"create {ns}")
        super()._create_one(ns, payload)

    def replace(self, ns: NamespaceId, metadata: NamespaceMetadata) -> None:
        self.plan.write(f"replace {ns}")
        super().replace(ns, metadata)

    def modify(self, ns: NamespaceId, change: MetadataChange) -> NamespaceMetadata:
        self.plan.write(f"modify {ns}")
        return super().modify(ns, change)

    def exists(self, ns: NamespaceId) -> bool:
        self.plan.read(f"exists {ns}")
        return super().exists(ns)

    def get(self, ns: NamespaceId) -> NamespaceMetadata:
        self.plan.read(f"get {ns}")
        return super().get(ns)

    def get_many(self, ids: Iterable[NamespaceId]) -> dict[NamespaceId, NamespaceMetadata]:
        self.plan.read("get_many")
        return super().get_many(ids)

    def list_namespaces(self, prefix: NamespaceId | None = None) -> builtins.list[NamespaceId]:
        self.plan.read(f"list {prefix}")
        return super().list_namespaces(prefix)

    def children(self, ns: NamespaceId | None = None) -> builtins.list[NamespaceId]:
        self.plan.read(f"children {ns}")
        return super().children(ns)


# -- building one transfer -------------------------------------------------------------


@dataclass
class Transfer:
    """A tree transfer between a faulty local store and a faulty remote."""

    plan: FaultPlan
    source: NamespaceRepository
    target: NamespaceRepository
    run: Callable[[], TransferReport]
    leftovers: Callable[[], dict[str, bytes]]
    """Every object or file the target holds, with its bytes."""


@dataclass(frozen=True)
class Scenario:
    """Which transfer runs, against which remote, into what."""

    direction: str  # "upload" (local -> remote) or "download" (remote -> local)
    backend: str  # "memory", "moto", "gcs" or "azure"
    overwrite: bool  # False: the target starts empty; True: it holds OLD_TREE

    def __str__(self) -> str:
        target = "over an old tree" if self.overwrite else "into an empty target"
        return f"{self.direction}-{self.backend}-{target.replace(' ', '-')}"


def remote_objects(store: FsspecNamespaceRepository) -> dict[str, bytes]:
    fs = store.fs
    root = fs._strip_protocol(store.url).rstrip("/")
    found = fs.find(root, withdirs=False)
    return {path[len(root) :].lstrip("/"): fs.cat_file(path) for path in found}


FAULTY = {"moto": "faulty-s3", "gcs": "faulty-gs", "azure": "faulty-az"}


def build(scenario: Scenario, folder: Path, server: Server | None) -> Transfer:
    plan = FaultPlan()
    local = FaultyLocalRepository(folder / "local", plan)
    if scenario.backend == "memory":
        remote = FsspecNamespaceRepository(f"faulty-memory://{folder.name}/remote", plan=plan)
    else:
        assert server is not None
        url = f"{FAULTY[scenario.backend]}://{server.new_bucket()}/remote"
        remote = FsspecNamespaceRepository(url, plan=plan, **server.storage_options())
    assert remote.fs.plan is plan
    service = NamespaceService(local, remote)
    overwrite = scenario.overwrite
    source: NamespaceRepository
    target: NamespaceRepository
    if scenario.direction == "upload":
        source, target = local, remote

        def run() -> TransferReport:
            return service.upload_tree(overwrite=overwrite)

        def leftovers() -> dict[str, bytes]:
            return remote_objects(remote)
    else:
        source, target = remote, local

        def run() -> TransferReport:
            return service.download_tree(overwrite=overwrite)

        def leftovers() -> dict[str, bytes]:
            return files_under(folder / "local")

    populate(source)
    if overwrite:
        populate(target, OLD_TREE)
    return Transfer(plan, source, target, run, leftovers)


SCENARIOS = [
    Scenario(direction, backend, overwrite)
    for direction in ("upload", "download")
    for backend in ("memory", "moto", "gcs", "azure")
    for overwrite in (False, True)
]
# On the object stores, only what reaches the server and differs from memory://:
# an upload's writes, a download's reads, and the reads of an upload that replaces
# (the GET whose version the conditional write carries). A download writes to the
# local store.
WRITE_SCENARIOS = [s for s in SCENARIOS if s.backend == "memory" or s.direction == "upload"]
READ_SCENARIOS = [
    s for s in SCENARIOS if s.backend == "memory" or s.direction == "download" or s.overwrite
]


@pytest.fixture
def make_transfer(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Scenario], Transfer]:
    def make(scenario: Scenario) -> Transfer:
        server: Server | None = None
        if scenario.backend != "memory":
            name = "moto_s3" if scenario.backend == "moto" else scenario.backend
            server = request.getfixturevalue(name)
        return build(scenario, tmp_path_factory.mktemp("transfer"), server)

    return make


def caused_by_injection(error: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, InjectedError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


@contextmanager
def quiet_kept_warnings() -> Iterator[None]:
    """A rerun keeps what the failed run copied, and says so; that is expected."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NamespaceWarning)
        yield


def assert_consistent(transfer: Transfer, scenario: Scenario, n: int, kind: str) -> None:
    """The target after a failed transfer: no orphan, no partial marker, no litter."""
    where = f"after the failure of {kind} #{n} ({scenario})"
    transfer.plan.arm()
    assert orphans(transfer.target) == [], where
    held = contents(transfer.target)
    allowed = [TREE] + ([OLD_TREE] if scenario.overwrite else [])
    for ns, metadata in held.items():
        assert any(metadata == version[ns] for version in allowed), (where, ns, metadata)
    if scenario.overwrite:
        assert sorted(held) == sorted(TREE), where
    raw = transfer.leftovers()
    assert sorted(raw) == sorted(f"{ns}/{MARKER}" for ns in held), (where, sorted(raw))
    for data in raw.values():
        json.loads(data)  # every marker is complete JSON


def assert_rerun_completes(transfer: Transfer, scenario: Scenario, n: int, kind: str) -> None:
    where = f"rerun after the failure of {kind} #{n} ({scenario})"
    before = set(transfer.target.list_namespaces())
    with quiet_kept_warnings():
        report = transfer.run()
    # What the failed run already wrote is identical now: unchanged, not copied again.
    if scenario.overwrite:
        assert sorted(report.copied + report.unchanged) == sorted(TREE), where
        assert report.skipped == [], where
    else:
        assert report.copied == sorted(set(TREE) - before), where
        assert sorted(report.skipped + report.unchanged) == sorted(before), where
    assert contents(transfer.target) == TREE, where
    assert contents(transfer.source) == TREE, where


def count_clean_run(make: Callable[[Scenario], Transfer], scenario: Scenario) -> tuple[int, int]:
    """How many writes and reads a clean run of ``scenario`` makes."""
    transfer = make(scenario)
    transfer.plan.arm()
    with quiet_kept_warnings():
        transfer.run()
    counted = transfer.plan.writes, transfer.plan.reads
    assert contents(transfer.target) == TREE
    return counted


# -- every write, every read --------------------------------------------------------------


@pytest.mark.parametrize("scenario", WRITE_SCENARIOS, ids=str)
def test_a_transfer_failing_at_any_write_leaves_a_consistent_target_and_a_rerun_completes(
    scenario: Scenario, make_transfer: Callable[[Scenario], Transfer]
) -> None:
    writes, _ = count_clean_run(make_transfer, scenario)
    assert writes >= len(TREE)
    for n in range(1, writes + 1):
        transfer = make_transfer(scenario)
        transfer.plan.arm(write=n)
        with pytest.raises(OSError, match="injected failure") as caught:
            transfer.run()
        assert caused_by_injection(caught.value), (n, caught.value)
        assert_consistent(transfer, scenario, n, "write")
        assert_rerun_completes(transfer, scenario, n, "write")


@pytest.mark.parametrize("scenario", READ_SCENARIOS, ids=str)
def test_a_transfer_failing_at_any_read_leaves_a_consistent_target_and_a_rerun_completes(
    scenario: Scenario, make_transfer: Callable[[Scenario], Transfer]
) -> None:
    _, reads = count_clean_run(make_transfer, scenario)
    assert reads >= 1
    for n in range(1, reads + 1):
        transfer = make_transfer(scenario)
        transfer.plan.arm(read=n)
        with pytest.raises(OSError, match="injected failure") as caught:
            transfer.run()
        assert caused_by_injection(caught.value), (n, caught.value)
        assert_consistent(transfer, scenario, n, "read")
        assert_rerun_completes(transfer, scenario, n, "read")


def test_a_clean_tree_transfer_writes_each_namespace_once(
    make_transfer: Callable[[Scenario], Transfer],
) -> None:
    for direction in ("upload", "download"):
        writes, _ = count_clean_run(make_transfer, Scenario(direction, "memory", overwrite=False))
        assert writes == len(TREE), direction


# -- the kernel cuts a marker short ---------------------------------------------------------

FILE_LIMIT = 256 * 1024
BIG = NamespaceId("D4RL/door/human")
BIG_TREE = {**TREE, BIG: {**TREE[BIG], "padding": "x" * (2 * FILE_LIMIT)}}


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Make the kernel refuse (``EFBIG``) any write past ``limit`` bytes of a file."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


@pytest.mark.parametrize("direction", ["download", "upload"])
def test_a_marker_write_cut_short_by_the_kernel_leaves_no_partial_file(
    direction: str, tmp_path: Path
) -> None:
    """Download into the local store, or upload to ``file://``: the big marker's
    write fails partway (``EFBIG``); its parents are complete, it is absent (no
    temporary file either), and the rerun completes."""
    remote = FsspecNamespaceRepository(f"file://{tmp_path / 'remote'}")
    local = LocalNamespaceRepository(tmp_path / "local")
    service = NamespaceService(local, remote)
    source, target = (remote, local) if direction == "download" else (local, remote)
    target_root = tmp_path / ("local" if direction == "download" else "remote")
    populate(source, BIG_TREE)
    run = service.download_tree if direction == "download" else service.upload_tree

    with file_size_limit(FILE_LIMIT), pytest.raises(OSError, match="File too large"):
        run()

    held = contents(target)
    assert BIG not in held
    assert BIG.parent in held
    assert orphans(target) == []
    assert all(metadata == BIG_TREE[ns] for ns, metadata in held.items())
    files = files_under(target_root)
    assert sorted(files) == sorted(f"{ns}/{MARKER}" for ns in held)
    with quiet_kept_warnings():
        run()
    assert contents(target) == BIG_TREE
